import type { Command } from 'commander';
import type { ApiClient, KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { parseOutputFormat, printObjects, type OutputFormat } from '../printers/index.js';
import { JsonPath, relaxedJsonPath } from '../printers/jsonpath.js';
import { tableRows, type Table, type TablePrintOptions, type TableRow } from '../printers/table.js';
import { tabwrite } from '../printers/tabwriter.js';
import { groupVersionOf, kindPrefix, resourceUrl, type ResourceMapping } from '../rest-mapper.js';
import type { ResourceRequest } from '../resource-builder.js';
import { collect, collectLabels, reportErrors } from './util.js';

/** The Accept kubectl sends for human-readable output. */
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  watchOnly?: boolean;
  outputWatchEvents?: boolean;
  sortBy?: string;
  chunkSize: string;
  noHeaders?: boolean;
  showLabels?: boolean;
  labelColumns: string[];
  showKind?: boolean;
  ignoreNotFound?: boolean;
  raw?: string;
  filename: string[];
  recursive?: boolean;
  template?: string;
  showManagedFields?: boolean;
  subresource?: string;
}

/** `kubectl get`: tables from the server's Table answers, or objects in any `-o` format; lists, names, watches. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('get')
    .summary('Display one or many resources')
    .description(`Display one or many resources.

 Prints a table of the most important information about the specified resources. You can filter the list using a label selector and the --selector flag. If the desired resource type is namespaced you will only see results in the current namespace unless you pass --all-namespaces.

 By specifying the output as 'template' and providing a Go template as the value of the --template flag, you can filter the attributes of the fetched resources.

Use "kubectl api-resources" for a complete list of supported resources.`)
    .usage('[(-o|--output=)json|yaml|name|go-template|go-template-file|template|templatefile|jsonpath|jsonpath-as-json|jsonpath-file|custom-columns|custom-columns-file|wide] (TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]')
    .argument('[args...]')
    .option('-o, --output <format>', 'Output format. One of: (json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file, custom-columns, custom-columns-file, wide).')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--field-selector <selector>', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.")
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('-w, --watch', 'After listing/getting the requested object, watch for changes.')
    .option('--watch-only', 'Watch for changes to the requested object(s), without listing/getting first.')
    .option('--output-watch-events', 'Output watch event objects when --watch or --watch-only is used. Existing objects are output as initial ADDED events.')
    .option('--sort-by <jsonpath>', 'If non-empty, sort list types using this field specification.  The field specification is expressed as a JSONPath expression (e.g. \'{.metadata.name}\'). The field in the API resource specified by this JSONPath expression must be an integer or a string.')
    .option('--chunk-size <n>', 'Return large lists in chunks rather than all at once. Pass 0 to disable. This flag is beta and may change in the future.', '500')
    .option('--no-headers', "When using the default or custom-column output format, don't print headers (default print headers).")
    .option('--show-labels', 'When printing, show all labels as the last column (default hide labels column)')
    .option('-L, --label-columns <labels>', 'Accepts a comma separated list of labels that are going to be presented as columns. Names are case-sensitive. You can also use multiple flag options like -L label1 -L label2...', collectLabels, [])
    .option('--show-kind', 'If present, list the resource type for the requested object(s).')
    .option('--ignore-not-found', 'If the requested object does not exist the command will return exit code 0.')
    .option('--raw <uri>', 'Raw URI to request from the server.  Uses the transport specified by the kubeconfig file.')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files identifying the resource to get from a server.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('--template <template>', 'Template string or path to template file to use when -o=go-template, -o=go-template-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview].')
    .option('--show-managed-fields', 'If true, keep the managedFields when printing objects in JSON or YAML format.')
    .option('--subresource <name>', 'If specified, gets the subresource of the requested object. This flag is beta and may change in the future.')
    .option('--server-print', 'If true, have the server return the appropriate table output. Supports extension APIs and CRDs.', true)
    .option('--allow-missing-template-keys', 'If true, ignore any errors in templates when a field or map key is missing in the template. Only applies to golang and jsonpath output formats.', true)
    .action(async (args: string[], o: GetOptions) => get(f, args, o));
  // Commander's `--no-headers` would define `headers`; kubectl's flag is a plain boolean.
  setExamples(cmd, `  # List all pods in ps output format
  kubectl get pods

  # List all pods in ps output format with more information (such as node name)
  kubectl get pods -o wide

  # List a single pod in JSON output format
  kubectl get -o json pod web-pod-13je7

  # List all replication controllers and services together in ps output format
  kubectl get rc,services

  # List one or more resources by their type and names
  kubectl get rc/web service/frontend pods/web-pod-13je7`);
  return cmd;
}

async function get(f: Factory, args: string[], o: GetOptions): Promise<void> {
  // commander turns --no-headers into headers=false
  const noHeaders = (o as { headers?: boolean }).headers === false || !!o.noHeaders;
  if (o.raw) return getRaw(f, o.raw);
  const fmt = await parseOutputFormat(o.output, o.template);
  if (args.length === 0 && o.filename.length === 0) {
    f.io.err.write('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\n');
    throw new CliError('Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).', { usage: 'get' });
  }
  const client = await f.client();
  const mapper = await f.mapper();
  let requests: ResourceRequest[];
  if (o.filename.length) {
    const { readManifests, toInfos } = await import('../resource-builder.js');
    const infos = toInfos(await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in }), mapper, f);
    requests = [];
    for (const info of infos) {
      const r = requests.find((x) => x.mapping === info.mapping && x.namespace === info.namespace);
      if (r) r.names.push(info.name);
      else requests.push({ mapping: info.mapping, names: [info.name], typed: info.mapping.resource, namespace: info.namespace });
    }
  } else {
    const { parseResourceArgs } = await import('../resource-builder.js');
    requests = parseResourceArgs(args, mapper, 'get');
  }
  const namespace = f.namespace();
  const allNs = !!o.allNamespaces;
  const nsFor = (r: ResourceRequest): string | undefined => (r.mapping.namespaced ? (r.namespace ?? (allNs ? undefined : namespace)) : undefined);
  if (o.watch || o.watchOnly) {
    if (requests.length !== 1) throw new CliError('you may only specify a single resource type');
    return watch(f, client, requests[0], nsFor(requests[0]), fmt, o, noHeaders);
  }
  const single = requests.length === 1 && requests[0].names.length === 1 && !(args[0] ?? '').includes(',');
  const errors: unknown[] = [];
  const human = fmt.kind === 'table' || fmt.kind === 'wide';
  const multipleKinds = requests.length > 1 || args.some((a) => a.includes('/')) && new Set(requests.map((r) => r.mapping)).size > 1
    || (args[0] !== undefined && !args[0].includes('/') && args[0].split(',').some((t) => !mapper.find(t)));
  const withKind = !!o.showKind || multipleKinds;
  if (human) {
    const outputs: string[] = [];
    let printedAny = false;
    for (const r of requests) {
      const tables = await fetchTables(client, r, nsFor(r), o, errors);
      if (!tables.length) continue;
      const rows: TableRow[] = tables.flatMap((t) => t.rows ?? []);
      if (!rows.length) continue;
      const table: Table = { ...tables[0], rows };
      if (o.sortBy) sortRows(table, o.sortBy);
      const popts: TablePrintOptions = {
        wide: fmt.kind === 'wide', noHeaders, showLabels: o.showLabels, labelColumns: o.labelColumns,
        withNamespace: allNs && r.mapping.namespaced, kindPrefix: withKind ? kindPrefix(r.mapping) : undefined,
      };
      outputs.push(tabwrite(tableRows(table, popts)));
      printedAny = true;
    }
    f.io.out.write(outputs.join('\n'));
    if (!printedAny && errors.length === 0) {
      const scoped = requests.every((r) => r.mapping.namespaced) && !allNs;
      f.io.err.write(scoped ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
    }
  } else {
    const objects: KubeObject[] = [];
    for (const r of requests) objects.push(...await fetchObjects(client, r, nsFor(r), o, errors));
    if (o.sortBy) sortObjects(objects, o.sortBy);
    if (objects.length || !single) f.io.out.write(printObjects(objects, fmt, single, { noHeaders, showManagedFields: o.showManagedFields }));
  }
  reportErrors(f, errors, o.ignoreNotFound);
}

function listQuery(o: GetOptions, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { labelSelector: o.selector || undefined, fieldSelector: o.fieldSelector || undefined, ...extra };
}

/** One Table per page (or per name) of a request. Errors are collected, as kubectl reports them after the output. */
async function fetchTables(client: ApiClient, r: ResourceRequest, ns: string | undefined, o: GetOptions, errors: unknown[]): Promise<Table[]> {
  const tables: Table[] = [];
  const include = o.sortBy ? 'Object' : undefined;
  if (r.names.length) {
    for (const name of r.names) {
      try {
        tables.push(await client.request<Table>('GET', resourceUrl(r.mapping, ns, name, o.subresource), { accept: TABLE_ACCEPT, query: { includeObject: include } }));
      } catch (err) {
        errors.push(err);
      }
    }
    return tables.map((t) => asTable(t, r.mapping));
  }
  const chunk = o.sortBy ? 0 : Number(o.chunkSize) || 0;
  let cont: string | undefined;
  try {
    do {
      const t = asTable(await client.request<Table>('GET', resourceUrl(r.mapping, ns), {
        accept: TABLE_ACCEPT, query: listQuery(o, { limit: chunk ? String(chunk) : undefined, continue: cont, includeObject: include }),
      }), r.mapping);
      tables.push(t);
      cont = t.metadata?.continue || undefined;
    } while (cont);
  } catch (err) {
    errors.push(err);
  }
  return tables;
}

/** A server that ignored `as=Table` sent objects: kubectl then prints NAME and AGE only. */
function asTable(answer: unknown, _mapping: ResourceMapping): Table {
  const a = answer as { kind?: string; items?: KubeObject[]; metadata?: Record<string, string> };
  if (a && a.kind === 'Table') return answer as Table;
  const items = Array.isArray(a?.items) ? a.items : [answer as KubeObject];
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: a?.metadata?.resourceVersion },
    columnDefinitions: [{ name: 'Name', type: 'string', format: 'name' }, { name: 'Age', type: 'string' }],
    rows: items.map((obj) => ({ cells: [obj.metadata?.name ?? '', age(obj.metadata?.creationTimestamp)], object: obj as TableRow['object'] })),
  };
}

/** kubectl's duration.HumanDuration of the time since `ts`. */
export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.floor((now - Date.parse(ts)) / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  if (d < 365 * 8) return `${Math.floor(d / 365)}y${d % 365}d`;
  return `${Math.floor(d / 365)}y`;
}

/** Full objects (`-o json|yaml|name|…`): lists paged by `--chunk-size`, kind and apiVersion put back on items. */
async function fetchObjects(client: ApiClient, r: ResourceRequest, ns: string | undefined, o: GetOptions, errors: unknown[]): Promise<KubeObject[]> {
  const withType = (obj: KubeObject): KubeObject => ({ apiVersion: groupVersionOf(r.mapping), kind: r.mapping.kind, ...obj });
  if (r.names.length) {
    const out: KubeObject[] = [];
    for (const name of r.names) {
      try {
        out.push(withType(await client.request<KubeObject>('GET', resourceUrl(r.mapping, ns, name, o.subresource), { accept: 'application/json' })));
      } catch (err) {
        errors.push(err);
      }
    }
    return out;
  }
  const out: KubeObject[] = [];
  const chunk = Number(o.chunkSize) || 0;
  let cont: string | undefined;
  try {
    do {
      const list = await client.request<{ items?: KubeObject[]; metadata?: { continue?: string } }>('GET', resourceUrl(r.mapping, ns), {
        accept: 'application/json', query: listQuery(o, { limit: chunk ? String(chunk) : undefined, continue: cont }),
      });
      for (const item of list.items ?? []) out.push(withType(item));
      cont = list.metadata?.continue || undefined;
    } while (cont);
  } catch (err) {
    errors.push(err);
  }
  return out;
}

function sortKey(obj: unknown, path: JsonPath): unknown {
  const v = path.findResults(obj).flat()[0];
  return v;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const qa = quantityOrString(a);
  const qb = quantityOrString(b);
  if (typeof qa === 'number' && typeof qb === 'number') return qa - qb;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function quantityOrString(v: unknown): number | string {
  if (typeof v !== 'string') return String(v);
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(v);
  if (!m) return v;
  const mult: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

function sortRows(table: Table, sortBy: string): void {
  const path = new JsonPath(relaxedJsonPath(sortBy));
  const keyed = table.rows.map((row, i) => ({ row, i, k: sortKey(row.object, path) }));
  keyed.sort((a, b) => compareValues(a.k, b.k) || a.i - b.i);
  table.rows = keyed.map((x) => x.row);
}

function sortObjects(objects: KubeObject[], sortBy: string): void {
  const path = new JsonPath(relaxedJsonPath(sortBy));
  const keyed = objects.map((obj, i) => ({ obj, i, k: sortKey(obj, path) }));
  keyed.sort((a, b) => compareValues(a.k, b.k) || a.i - b.i);
  objects.splice(0, objects.length, ...keyed.map((x) => x.obj));
}

async function getRaw(f: Factory, uri: string): Promise<void> {
  const client = await f.client();
  const body = await client.request<unknown>('GET', uri, { accept: 'application/json, */*' });
  f.io.out.write(typeof body === 'string' ? body : JSON.stringify(body));
  if (typeof body !== 'string') f.io.out.write('\n');
}

/** `-w` / `--watch-only`: the list (or object), then every event's rows as the server sends them, until it ends the stream. */
async function watch(f: Factory, client: ApiClient, r: ResourceRequest, ns: string | undefined, fmt: OutputFormat, o: GetOptions, noHeaders: boolean): Promise<void> {
  const human = fmt.kind === 'table' || fmt.kind === 'wide';
  const popts: TablePrintOptions = {
    wide: fmt.kind === 'wide', noHeaders, showLabels: o.showLabels, labelColumns: o.labelColumns,
    withNamespace: !!o.allNamespaces && r.mapping.namespaced, kindPrefix: o.showKind ? kindPrefix(r.mapping) : undefined,
  };
  const name = r.names[0];
  const errors: unknown[] = [];
  let rv: string | undefined;
  let headerPrinted = false;
  const eventColumn = (type: string, lines: string[][]): string[][] => (o.outputWatchEvents ? lines.map((l, i) => [i === 0 && !headerPrinted && !noHeaders ? 'EVENT' : type, ...l]) : lines);
  if (human) {
    const tables = await fetchTables(client, { ...r, names: name ? [name] : [] }, ns, o, errors);
    if (errors.length) return reportErrors(f, errors, false);
    const t = tables[tables.length - 1];
    rv = name ? (t?.rows?.[0]?.object?.metadata?.resourceVersion as string | undefined) : t?.metadata?.resourceVersion;
    if (!o.watchOnly && t) {
      const rows = tables.flatMap((x) => x.rows ?? []);
      if (rows.length) {
        const lines = tableRows({ ...t, rows }, popts);
        f.io.out.write(tabwrite(o.outputWatchEvents ? lines.map((l, i) => [i === 0 && !noHeaders ? 'EVENT' : 'ADDED', ...l]) : lines));
        headerPrinted = true;
      } else if (!name) {
        f.io.err.write(r.mapping.namespaced && ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
      }
    }
  } else {
    // The list's resourceVersion starts the watch; each object prints on its own, as kubectl's watch does.
    let items: KubeObject[] = [];
    try {
      if (name) {
        const obj = await client.request<KubeObject>('GET', resourceUrl(r.mapping, ns, name), { accept: 'application/json' });
        items = [obj];
        rv = obj.metadata?.resourceVersion;
      } else {
        const list = await client.request<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>('GET', resourceUrl(r.mapping, ns), { accept: 'application/json', query: listQuery(o) });
        items = list.items ?? [];
        rv = list.metadata?.resourceVersion;
      }
    } catch (err) {
      return reportErrors(f, [err], false);
    }
    if (!o.watchOnly) {
      for (const item of items) {
        const obj = { apiVersion: groupVersionOf(r.mapping), kind: r.mapping.kind, ...item } as KubeObject;
        if (o.outputWatchEvents) f.io.out.write(`${(await import('../printers/serialize.js')).toGoJson({ type: 'ADDED', object: obj })}\n`);
        else f.io.out.write(printObjects([obj], fmt, true, { noHeaders, showManagedFields: o.showManagedFields }));
      }
    }
  }
  const query: Record<string, string | undefined> = {
    ...listQuery(o), resourceVersion: rv,
    fieldSelector: name ? [`metadata.name=${name}`, o.fieldSelector].filter(Boolean).join(',') : o.fieldSelector || undefined,
  };
  const events = client.watchPath<KubeObject | Table>(resourceUrl(r.mapping, ns), { accept: human ? TABLE_ACCEPT : 'application/json', query });
  for await (const ev of events) {
    if (ev.type === 'BOOKMARK') continue;
    if (human) {
      const t = ev.object as Table;
      const table: Table = t.kind === 'Table' ? t : asTable(t, r.mapping);
      if (!table.rows?.length) continue;
      const lines = tableRows(table, { ...popts, noHeaders: noHeaders || headerPrinted });
      f.io.out.write(tabwrite(eventColumn(ev.type, lines)));
      if (!noHeaders) headerPrinted = true;
    } else {
      const obj = { apiVersion: groupVersionOf(r.mapping), kind: r.mapping.kind, ...(ev.object as KubeObject) } as KubeObject;
      if (o.outputWatchEvents) {
        const { toGoJson } = await import('../printers/serialize.js');
        f.io.out.write(`${toGoJson({ type: ev.type, object: obj })}\n`);
      } else f.io.out.write(printObjects([obj], fmt, true, { noHeaders, showManagedFields: o.showManagedFields }));
    }
  }
}
