/**
 * Go's text/tabwriter with kubectl describe's settings (minwidth 0, padding 2, pad with spaces, no flags): a cell is
 * text ended by a tab; the text after a line's last tab is not a cell. Column c is aligned over each block of
 * consecutive lines that have a cell in it (within the block of column c-1, as Go's recursive format() does), and
 * its width is the block's widest cell plus the padding.
 */
export function goTabwrite(text: string, minwidth = 0, padding = 2): string {
  if (!text) return '';
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const cellWidth: number[][] = lines.map((l) => new Array<number>(Math.max(l.length - 1, 0)).fill(0));
  const walk = (column: number, line0: number, line1: number): void => {
    let i = line0;
    while (i < line1) {
      if (column >= lines[i].length - 1) { i++; continue; }
      const start = i;
      let width = minwidth;
      for (; i < line1 && column < lines[i].length - 1; i++) width = Math.max(width, runeWidth(lines[i][column]) + padding);
      for (let j = start; j < i; j++) cellWidth[j][column] = width;
      walk(column + 1, start, i);
    }
  };
  walk(0, 0, lines.length);
  const body = lines.map((cells, li) => cells.map((c, ci) => (ci < cells.length - 1 ? c + ' '.repeat(Math.max(cellWidth[li][ci] - runeWidth(c), 0)) : c)).join('')).join('\n');
  return trailingNewline ? `${body}\n` : body;
}

function runeWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
