import type { LabelSelector, KubeObject, ObjectMeta, Pod } from '@k8ts/api';

/*
 * Shared Table printing (upstream's pkg/printers/internalversion helpers): column definitions, durations and
 * the formatters several kinds' printers use.
 */
/** One column of a meta.k8s.io/v1 Table. */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** How one resource prints in `kubectl get`: its columns, and one row of cells per object. */
export interface Printer {
  columns: ColumnDefinition[];
  row(obj: KubeObject, now: Date): unknown[];
}

export type Container = NonNullable<Pod['spec']>['containers'][number];

// ---------------------------------------------------------------------------------------------------------------
// Durations and small formatters

/**
 * Upstream's human duration (k8s.io/apimachinery util/duration HumanDuration): about two significant figures,
 * e.g. 45s, 2m30s, 15m, 3h5m, 20h, 3d4h, 120d, 2y30d, 9y. Up to 2s in the future still reads as 0s.
 */
export function humanDuration(ms: number): string {
  // Go truncates toward zero when turning a Duration into whole units.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** Time since an RFC 3339 timestamp, or `<unknown>` when it is missing (upstream's translateTimestampSince). */
export function since(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now.getTime() - t);
}

export type WithMeta = { metadata?: ObjectMeta };
export const age = (obj: WithMeta, now: Date): string => since(obj.metadata?.creationTimestamp, now);
export const nameOf = (obj: WithMeta): string => obj.metadata?.name ?? '';

/** `a=1,b=2` sorted by key, or `<none>` (upstream labels.FormatLabels). */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/**
 * A LabelSelector as upstream's Selector.String(): requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a)`,
 * `k`, `!k`; '' when it selects everything or nothing.
 */
export function selectorString(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const reqs: [string, string][] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In': reqs.push([e.key, `${e.key} in (${values})`]); break;
      case 'NotIn': reqs.push([e.key, `${e.key} notin (${values})`]); break;
      case 'Exists': reqs.push([e.key, e.key]); break;
      case 'DoesNotExist': reqs.push([e.key, `!${e.key}`]); break;
      default: return '<error>';
    }
  }
  return reqs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, s]) => s).join(',');
}

/** As selectorString, with `<none>` for an empty result (upstream metav1.FormatLabelSelector). */
export const formatSelector = (sel: LabelSelector | undefined): string => selectorString(sel) || '<none>';

/** The CONTAINERS and IMAGES cells of a pod template. */
export function containerCells(containers: Container[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** `a,b,c + 2 more...` for lists cut at three; `<unset>` when empty (upstream listWithMoreString). */
export function listWithMore(items: string[], max = 3, empty = '<unset>'): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : empty;
}

export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Column definitions

export function column(name: string, description: string, priority = 0, type: ColumnDefinition['type'] = 'string'): ColumnDefinition {
  return { name, type, format: name === 'Name' ? 'name' : '', description, priority };
}

export const NAME = column('Name', 'Name must be unique within a namespace. It is the identifier clients use to refer to the object.');
export const AGE = column('Age', 'Time since the object was created (metadata.creationTimestamp).');
export const CONTAINERS = column('Containers', 'Names of each container in the template.', 1);
export const IMAGES = column('Images', 'Images referenced by each container in the template.', 1);
export const SELECTOR = (what: string) => column('Selector', `Label query over ${what}.`, 1);

/** NAME and AGE: what kinds without their own columns print. */
export const defaultPrinter: Printer = {
  columns: [NAME, AGE],
  row: (obj, now) => [nameOf(obj), age(obj, now)],
};
