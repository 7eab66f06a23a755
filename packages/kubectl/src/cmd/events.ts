import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { humanDuration } from '../describe/format.js';
import { goJsonString } from '../printers/serialize.js';
import { groupVersionOf } from '../rest-mapper.js';
import { outputFlag } from './util.js';

interface EventsOptions {
  allNamespaces?: boolean;
  for?: string;
  types: string[];
  watch?: boolean;
  output?: string;
  noHeaders?: boolean;
  chunkSize: string;
  template?: string;
}

/** `kubectl events`: the namespace's events oldest first (or one object's with `--for`), `--types`, `-w`. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('events')
    .summary('List events')
    .description(`Display events.

 Prints a table of the most important information about events. You can request events for a namespace, for all namespace, or filtered to only those pertaining to a specified resource.`)
    .usage('[(-o|--output=)json|yaml|name|go-template|go-template-file|template|templatefile|jsonpath|jsonpath-as-json|jsonpath-file] [--for TYPE/NAME] [--watch] [--types=Normal,Warning]')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('--chunk-size <n>', 'Return large lists in chunks rather than all at once. Pass 0 to disable. This flag is beta and may change in the future.', '500')
    .option('--for <kind/name>', 'Filter events to only those pertaining to the specified resource.')
    .option('--no-headers', "When using the default output format, don't print headers.")
    .addOption(outputFlag())
    .option('--template <template>', 'Template string or path to template file to use when -o=go-template, -o=go-template-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview].')
    .option('--types <types>', 'Output only events of given types.', (v: string, prev: string[]) => [...prev, ...v.split(',')], [] as string[])
    .option('-w, --watch', 'After listing the requested events, watch for more events.')
    .action(async (o: EventsOptions) => events(f, o));
  setExamples(cmd, `  # List recent events in the default namespace
  kubectl events

  # List recent events in all namespaces
  kubectl events --all-namespaces

  # List recent events for the specified pod, then wait for more events and list them as they arrive
  kubectl events --for pod/web-pod-13je7 --watch

  # List recent events in YAML format
  kubectl events -oyaml

  # List recent only events of type 'Warning' or 'Normal'
  kubectl events --types=Warning,Normal`);
  return cmd;
}

async function events(f: Factory, o: EventsOptions): Promise<void> {
  const noHeaders = (o as { headers?: boolean }).headers === false || !!o.noHeaders;
  const types = o.types.map((t) => t.trim()).filter(Boolean);
  for (const t of types) if (!/^(normal|warning)$/i.test(t)) throw new CliError('valid --types are Normal or Warning');
  const { omitManagedFields, parseOutputFormat, printObjects } = await import('../printers/index.js');
  const allowed = 'go-template, go-template-file, json, jsonpath, jsonpath-as-json, jsonpath-file, name, template, templatefile, yaml';
  const outName = (o.output ?? '').split('=')[0];
  if (o.output && (outName === 'wide' || outName.startsWith('custom-columns'))) {
    throw new CliError(`unable to match a printer suitable for the output format "${o.output}", allowed formats are: ${allowed.replace(/, /g, ',')}`);
  }
  const fmt = o.output ? await parseOutputFormat(o.output, o.template, allowed) : undefined;
  const client = await f.client();
  const namespace = f.namespace();
  const allNs = !!o.allNamespaces;
  const query: Record<string, string> = {};
  if (o.for) {
    const i = o.for.indexOf('/');
    if (i <= 0 || i === o.for.length - 1) throw new CliError(`--for must be in resource/name form`);
    const mapper = await f.mapper();
    let mapping;
    try {
      mapping = mapper.resourceFor(o.for.slice(0, i));
    } catch (err) {
      // kubectl prints the mapper's error as it is here.
      throw new CliError((err as Error).message, { raw: true, cause: err });
    }
    query.fieldSelector = `involvedObject.kind=${mapping.kind},involvedObject.apiVersion=${groupVersionOf(mapping)},involvedObject.name=${o.for.slice(i + 1)}`;
  }
  const path = allNs ? '/api/v1/events' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
  const chunk = Number(o.chunkSize) || 0;
  const items: any[] = [];
  let cont = '';
  let rv = '';
  for (let page = 0; page < 10_000; page++) {
    const r = await client.request<any>('GET', path, { query: { ...query, ...(chunk > 0 ? { limit: String(chunk) } : {}), ...(cont ? { continue: cont } : {}) } });
    items.push(...(r.items ?? []));
    rv = r.metadata?.resourceVersion ?? rv;
    cont = r.metadata?.continue ?? '';
    if (!cont) break;
  }
  const wanted = (e: any): boolean => !types.length || types.some((t) => t.toLowerCase() === String(e.type ?? '').toLowerCase());
  const shown = items.filter(wanted).map(typedEvent).sort((a, b) => eventTime(a) - eventTime(b));
  const { goTabwrite } = await import('../describe/tabwriter.js');
  let headerPrinted = false;
  const rows = (evs: any[]): string => {
    let text = '';
    if (!noHeaders && !headerPrinted) text += `${allNs ? 'NAMESPACE\t' : ''}LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n`;
    headerPrinted = true;
    for (const e of evs) text += `${allNs ? `${e.metadata?.namespace ?? ''}\t` : ''}${interval(e)}\t${e.type ?? ''}\t${e.reason ?? ''}\t${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}\t${String(e.message ?? '').trim()}\n`;
    return goTabwrite(text, 6, 3);
  };
  const print = (obj: any): string => (fmt?.kind === 'json' ? `${structJson(omitManagedFields(obj), '', obj.kind === 'EventList' ? STRUCT_ORDER.list : STRUCT_ORDER.event)}\n` : fmt?.kind === 'name' ? '' : printObjects([obj], fmt!, true));
  if (fmt) {
    if (shown.length || !o.watch) f.io.out.write(print({ kind: 'EventList', apiVersion: 'v1', metadata: {}, items: shown }));
  } else if (shown.length) {
    f.io.out.write(rows(shown));
  } else if (!o.watch) {
    f.io.err.write(allNs ? 'No events found.\n' : `No events found in ${namespace} namespace.\n`);
  }
  if (!o.watch) return;
  const { findResource } = await import('@k8ts/api');
  const def = findResource('', 'v1', 'events')!;
  for await (const ev of client.watch<any>(def, allNs ? undefined : namespace, { fieldSelector: query.fieldSelector, resourceVersion: rv, allowWatchBookmarks: true })) {
    if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
    const e = typedEvent(ev.object);
    if (!wanted(e)) continue;
    f.io.out.write(fmt ? print(e) : rows([e]));
  }
}

/** The event as kubectl's typed corev1.Event serialises it (fields without omitempty present, in struct order). */
function typedEvent(e: any): any {
  const { metadata, involvedObject, reason, message, source, firstTimestamp, lastTimestamp, count, type, eventTime, series, action, related,
    reportingComponent, reportingInstance, kind: _k, apiVersion: _a, ...rest } = e;
  const out: any = { kind: 'Event', apiVersion: 'v1', metadata, involvedObject: involvedObject ?? {} };
  if (reason) out.reason = reason;
  if (message) out.message = message;
  out.source = source ?? {};
  out.firstTimestamp = firstTimestamp ?? null;
  out.lastTimestamp = lastTimestamp ?? null;
  if (count) out.count = count;
  if (type) out.type = type;
  out.eventTime = eventTime ?? null;
  if (series) out.series = series;
  if (action) out.action = action;
  if (related) out.related = related;
  out.reportingComponent = reportingComponent ?? '';
  out.reportingInstance = reportingInstance ?? '';
  return { ...out, ...rest };
}

/** kubectl's SortableEvents order: the series' last observation, else lastTimestamp, else eventTime. */
function eventTime(e: any): number {
  return Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? '') || 0;
}

/** The LAST SEEN column (getInterval). */
function interval(e: any, now = Date.now()): string {
  const since = (ts: string | null | undefined): string => (ts ? humanDuration(now - Date.parse(ts)) : '<unknown>');
  const first = e.eventTime ? since(e.eventTime) : since(e.firstTimestamp);
  if (e.series) return `${since(e.series.lastObservedTime)} (x${e.series.count} over ${first})`;
  if ((e.count ?? 0) > 1) return `${since(e.lastTimestamp)} (x${e.count} over ${first})`;
  return first;
}


/** Field order of the Go structs kubectl serialises for `events -o json` (typed objects keep struct order). */
const STRUCT_ORDER: Record<string, string[]> = {
  list: ['kind', 'apiVersion', 'metadata', 'items'],
  event: ['kind', 'apiVersion', 'metadata', 'involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  metadata: ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'],
  involvedObject: ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'],
  related: ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'],
  source: ['component', 'host'],
  series: ['count', 'lastObservedTime'],
};

/** Go's MarshalIndent of a typed object: struct fields in declaration order, maps (labels…) sorted. */
function structJson(v: any, pad: string, order?: string[]): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v !== 'object') return String(v);
  const inner = `${pad}    `;
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => inner + structJson(x, inner, order)).join(',\n')}\n${pad}]`;
  }
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  if (order) keys.sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : a > b ? 1 : 0));
  else keys.sort();
  if (!keys.length) return '{}';
  const child = (k: string): string[] | undefined => (order === STRUCT_ORDER.list && k === 'items' ? STRUCT_ORDER.event : order ? STRUCT_ORDER[k] : undefined);
  return `{\n${keys.map((k) => `${inner}${goJsonString(k)}: ${structJson(v[k], inner, child(k))}`).join(',\n')}\n${pad}}`;
}

function rank(order: string[], k: string): number {
  const i = order.indexOf(k);
  return i < 0 ? order.length : i;
}
