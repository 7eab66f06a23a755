import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import { GoTemplate, goValue, TemplateError } from './go-template.js';
import { JsonPath, JsonPathError, relaxedJsonPath } from './jsonpath.js';
import { toGoJson, toGoYaml } from './serialize.js';
import { tabwrite } from './tabwriter.js';

export { printTable, tableRows, formatLabels, labelHeader } from './table.js';
export type { Table, TableColumn, TableRow, TablePrintOptions } from './table.js';
export { toGoJson, toGoYaml, goJsonString } from './serialize.js';
export { tabwrite } from './tabwriter.js';
export { JsonPath, relaxedJsonPath } from './jsonpath.js';
export { GoTemplate } from './go-template.js';

/** What `-o` asked for. `table` is the default human-readable output (the server's Table), `wide` its wide form. */
export type OutputFormat =
  | { kind: 'table' } | { kind: 'wide' } | { kind: 'json' } | { kind: 'yaml' } | { kind: 'name' }
  | { kind: 'jsonpath'; template: string; asJson: boolean } | { kind: 'custom-columns'; spec: string } | { kind: 'go-template'; template: string };

const ALLOWED = 'custom-columns, custom-columns-file, go-template, go-template-file, json, jsonpath, jsonpath-as-json, jsonpath-file, name, template, templatefile, wide, yaml';

/** Reads a file argument of `-o …-file=PATH`. */
async function readTemplateFile(path: string): Promise<string> {
  const { readFileSync } = await import('node:fs');
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`error reading --template ${path}, ${(err as Error).message}`);
  }
}

/** Parses `-o` (and `--template`) as kubectl does, with its message for unknown formats. */
export async function parseOutputFormat(output: string | undefined, template?: string, allowed = ALLOWED): Promise<OutputFormat> {
  if (!output) return { kind: 'table' };
  const eq = output.indexOf('=');
  const name = eq < 0 ? output : output.slice(0, eq);
  const arg = eq < 0 ? template ?? '' : output.slice(eq + 1);
  switch (name) {
    case 'wide': return { kind: 'wide' };
    case 'json': return { kind: 'json' };
    case 'yaml': return { kind: 'yaml' };
    case 'name': return { kind: 'name' };
    case 'jsonpath': case 'jsonpath-as-json': case 'jsonpath-file': {
      const tpl = name === 'jsonpath-file' ? await readTemplateFile(arg) : arg;
      if (!tpl) throw new CliError('template format specified but no template given');
      return { kind: 'jsonpath', template: tpl, asJson: name === 'jsonpath-as-json' };
    }
    case 'custom-columns': case 'custom-columns-file': {
      const spec = name === 'custom-columns-file' ? await readTemplateFile(arg) : arg;
      if (!spec) throw new CliError('custom-columns format specified but no custom columns given');
      return { kind: 'custom-columns', spec };
    }
    case 'go-template': case 'template': case 'go-template-file': case 'templatefile': {
      const tpl = name.endsWith('file') ? await readTemplateFile(arg) : arg;
      if (!tpl) throw new CliError('template format specified but no template given');
      return { kind: 'go-template', template: tpl };
    }
  }
  throw new CliError(`unable to match a printer suitable for the output format "${output}", allowed formats are: ${allowed.replace(/, /g, ',')}`);
}

/** `deployment.apps/web`, `pod/web`: kubectl's `-o name` of an object. */
export function objectName(obj: KubeObject): string {
  const apiVersion = obj.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const kind = (obj.kind ?? '').toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${obj.metadata?.name ?? ''}`;
}

/** Drops `metadata.managedFields` (kubectl's default without `--show-managed-fields`), on a copy. */
export function omitManagedFields<T>(obj: T): T {
  const o = obj as { metadata?: { managedFields?: unknown }; items?: unknown[] };
  if (!o || typeof o !== 'object') return obj;
  let out = obj;
  if (o.metadata?.managedFields !== undefined) {
    const { managedFields: _drop, ...metadata } = o.metadata;
    out = { ...out, metadata } as T;
  }
  if (Array.isArray(o.items)) out = { ...out, items: o.items.map(omitManagedFields) } as T;
  return out;
}

/** kubectl wraps several objects as a v1 List for json, yaml, jsonpath and templates. */
export function asList(items: KubeObject[]): KubeObject {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } } as unknown as KubeObject;
}

/** Options of the object printers. */
export interface ObjectPrintOptions {
  noHeaders?: boolean;
  showManagedFields?: boolean;
}

/**
 * Prints objects in a non-table format: `json`/`yaml` (one object as itself, several as a List), `name` (one line
 * each), `jsonpath`, `custom-columns` and `go-template`. `single` says the user asked for exactly one object by name.
 */
export function printObjects(objects: KubeObject[], fmt: OutputFormat, single: boolean, o: ObjectPrintOptions = {}): string {
  const objs = o.showManagedFields ? objects : objects.map(omitManagedFields);
  const data = single && objs.length === 1 ? objs[0] : asList(objs);
  switch (fmt.kind) {
    case 'json': return `${toGoJson(data)}\n`;
    case 'yaml': return toGoYaml(data);
    case 'name': return objs.map((x) => `${objectName(x)}\n`).join('');
    case 'jsonpath': return runJsonPath(fmt.template, data, fmt.asJson);
    case 'go-template': return runGoTemplate(fmt.template, data);
    case 'custom-columns': return printCustomColumns(objs, fmt.spec, !!o.noHeaders);
    default: throw new CliError(`output format ${fmt.kind} is not an object printer`);
  }
}

/** Runs a jsonpath template as `-o jsonpath` does, with kubectl's error messages. */
export function runJsonPath(template: string, data: unknown, asJson: boolean): string {
  let jp: JsonPath;
  try {
    jp = new JsonPath(template);
  } catch (err) {
    throw new CliError(`error parsing jsonpath ${template}, ${(err as Error).message}`);
  }
  try {
    if (asJson) {
      const results = jp.findResults(data).flat();
      return `${toGoJson(results)}\n`;
    }
    return jp.execute(data);
  } catch (err) {
    if (err instanceof JsonPathError) throw new CliError(`error executing jsonpath "${template}": Error executing template: ${err.message}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t${template}\n\tobject given to jsonpath engine was:\n\t\t${goValue(data)}\n\n`);
    throw err;
  }
}

function runGoTemplate(template: string, data: unknown): string {
  let t: GoTemplate;
  try {
    t = new GoTemplate(template);
  } catch (err) {
    throw new CliError(`error parsing template ${template}, ${(err as Error).message}`);
  }
  try {
    return t.execute(data);
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(`error executing template "${template}": ${err.message}`);
    throw err;
  }
}

/** Parses a custom-columns spec (`NAME:.metadata.name,IMAGE:.spec.containers[*].image`). */
export function parseCustomColumns(spec: string): { header: string; path: JsonPath }[] {
  const text = spec.includes('\n') ? spec : spec;
  if (spec.includes('\n')) {
    // custom-columns-file: a line of headers and a line of paths.
    const [headers = '', paths = ''] = text.split('\n').filter((l) => l.trim());
    const hs = headers.trim().split(/\s+/);
    const ps = paths.trim().split(/\s+/);
    if (hs.length !== ps.length) throw new CliError(`number of headers (${hs.length}) and field specifications (${ps.length}) don't match`);
    return hs.map((h, i) => ({ header: h, path: new JsonPath(relaxedJsonPath(ps[i])) }));
  }
  return spec.split(',').map((part) => {
    const i = part.indexOf(':');
    if (i < 0) throw new CliError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    try {
      return { header: part.slice(0, i), path: new JsonPath(relaxedJsonPath(part.slice(i + 1))) };
    } catch (err) {
      throw new CliError(`error parsing jsonpath ${part.slice(i + 1)}, ${(err as Error).message}`);
    }
  });
}

/** `-o custom-columns`: values of each column's path, several joined by commas, `<none>` for none. */
export function printCustomColumns(objects: KubeObject[], spec: string, noHeaders: boolean): string {
  const cols = parseCustomColumns(spec);
  const rows: string[][] = [];
  if (!noHeaders) rows.push(cols.map((c) => c.header));
  for (const obj of objects) {
    rows.push(cols.map((c) => {
      const values = c.path.findResults(obj).flat().filter((v) => v !== undefined);
      return values.length ? values.map(goValue).join(',') : '<none>';
    }));
  }
  return tabwrite(rows);
}
