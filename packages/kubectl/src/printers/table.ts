import { tabwrite } from './tabwriter.js';

/** meta.k8s.io/v1 Table as the server answers `as=Table`. */
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata?: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}
export interface TableColumn { name: string; type: string; format?: string; description?: string; priority?: number }
export interface TableRow {
  cells: unknown[];
  object?: { kind?: string; apiVersion?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown };
}

/** How kubectl's human-readable printer decorates a Table (kubectl's printers.PrintOptions). */
export interface TablePrintOptions {
  wide?: boolean;
  noHeaders?: boolean;
  showLabels?: boolean;
  /** `-L` keys, in order. */
  labelColumns?: string[];
  /** `-A`: a NAMESPACE column first. */
  withNamespace?: boolean;
  /** `kind.group` prefixed to names (`deployment.apps/web`): several types in one `get`, or `--show-kind`. */
  kindPrefix?: string;
}

/** `app=web,tier=db` sorted by key, or `<none>`: labels.FormatLabels. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/** `-L app.kubernetes.io/name` → `NAME`: the last path segment upper-cased. */
export function labelHeader(label: string): string {
  const parts = label.split('/');
  return parts[parts.length - 1].toUpperCase();
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '<none>';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

/** The header row and cell rows kubectl prints for a Table, before padding. */
export function tableRows(table: Table, o: TablePrintOptions, includeHeader = true): string[][] {
  const cols = table.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => o.wide || !c.priority);
  const nameCol = o.kindPrefix ? table.columnDefinitions.findIndex((c) => c.format === 'name' && c.type === 'string') : -1;
  const out: string[][] = [];
  if (includeHeader && !o.noHeaders) {
    const header: string[] = [];
    if (o.withNamespace) header.push('NAMESPACE');
    for (const { c } of cols) header.push(c.name.toUpperCase());
    for (const l of o.labelColumns ?? []) header.push(labelHeader(l));
    if (o.showLabels) header.push('LABELS');
    out.push(header);
  }
  for (const row of table.rows ?? []) {
    const meta = row.object?.metadata ?? {};
    const line: string[] = [];
    if (o.withNamespace) line.push(meta.namespace ?? '');
    for (const { i } of cols) {
      let text = i < row.cells.length ? cellText(row.cells[i]) : '';
      if (i === nameCol) text = `${o.kindPrefix}/${text}`;
      line.push(text);
    }
    for (const l of o.labelColumns ?? []) line.push(meta.labels?.[l] ?? '');
    if (o.showLabels) line.push(formatLabels(meta.labels));
    out.push(line);
  }
  return out;
}

/** A Table printed as kubectl prints it: upper-case headers, tab-aligned columns, priority columns with `-o wide`. */
export function printTable(table: Table, o: TablePrintOptions = {}): string {
  return tabwrite(tableRows(table, o));
}
