/**
 * Go's text/tabwriter as kubectl configures it (minwidth 6, padding 3, pad with spaces, no flags): every cell but
 * the last of a line is padded to its column's widest cell plus 3, at least 6. Columns are aligned over a block of
 * consecutive lines that have that column.
 */
export function tabwrite(rows: string[][]): string {
  const widths: number[] = [];
  const out: string[] = [];
  // Blocks: Go's tabwriter aligns a column over consecutive lines that have a cell there; the tables kubectl
  // prints have the same number of cells on every line, so one block per column is enough.
  for (const row of rows) {
    for (let i = 0; i < row.length - 1; i++) widths[i] = Math.max(widths[i] ?? 0, textWidth(row[i]));
  }
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      if (i === row.length - 1) line += row[i];
      else line += row[i] + ' '.repeat(Math.max(widths[i] + 3, 6) - textWidth(row[i]));
    }
    out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Width in runes, as tabwriter counts (UTF-8 characters, not bytes). */
function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
