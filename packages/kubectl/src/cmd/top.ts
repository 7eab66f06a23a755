import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';

interface TopPodOptions { allNamespaces?: boolean; selector?: string; fieldSelector?: string; containers?: boolean; noHeaders?: boolean; sortBy?: string; sum?: boolean }
interface TopNodeOptions { selector?: string; noHeaders?: boolean; sortBy?: string; showCapacity?: boolean }

const METRICS = '/apis/metrics.k8s.io/v1beta1';

/** `kubectl top pod|node`: usage from the metrics.k8s.io API, as kubectl prints it. */
export function register(program: Command, f: Factory): Command {
  const top = program.command('top')
    .summary('Display resource (CPU/memory) usage')
    .description(`Display resource (CPU/memory) usage.

 The top command allows you to see the resource consumption for nodes or pods.

 This command requires Metrics Server to be correctly configured and working on the server.`)
    .usage('[flags]');
  const node = top.command('node').alias('nodes').alias('no')
    .summary('Display resource (CPU/memory) usage of nodes')
    .description(`Display resource (CPU/memory) usage of nodes.

 The top-node command allows you to see the resource consumption of nodes.`)
    .usage('[NAME | -l label]')
    .argument('[name]')
    .option('--no-headers', 'If present, print output without headers')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--show-capacity', 'Print node resources based on Capacity instead of Allocatable(default) of the nodes.')
    .option('--sort-by <field>', 'If non-empty, sort nodes list using specified field. The field can be either \'cpu\' or \'memory\'.')
    .action(async (name: string | undefined, o: TopNodeOptions) => topNodes(f, name, o));
  setExamples(node, `  # Show metrics for all nodes
  kubectl top node

  # Show metrics for a given node
  kubectl top node NODE_NAME`);
  const pod = top.command('pod').alias('pods').alias('po')
    .summary('Display resource (CPU/memory) usage of pods')
    .description(`Display resource (CPU/memory) usage of pods.

 The 'top pod' command allows you to see the resource consumption of pods.

 Due to the metrics pipeline delay, they may be unavailable for a few minutes since pod creation.`)
    .usage('[NAME | -l label]')
    .argument('[name]')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('--containers', 'If present, print usage of containers within a pod.')
    .option('--field-selector <selector>', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.")
    .option('--no-headers', 'If present, print output without headers.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--sort-by <field>', 'If non-empty, sort pods list using specified field. The field can be either \'cpu\' or \'memory\'.')
    .option('--sum', 'Print the sum of the resource usage')
    .action(async (name: string | undefined, o: TopPodOptions) => topPods(f, name, o));
  setExamples(pod, `  # Show metrics for all pods in the default namespace
  kubectl top pod

  # Show metrics for all pods in the given namespace
  kubectl top pod --namespace=NAMESPACE

  # Show metrics for a given pod and its containers
  kubectl top pod POD_NAME --containers

  # Show metrics for the pods defined by label name=myLabel
  kubectl top pod -l name=myLabel`);
  top.action(() => {
    // kubectl top without a subcommand: its help on stderr, exit 1.
    f.io.err.write(top.helpInformation());
    throw new ExitCode(1);
  });
  return top;
}

/** Go's time.Duration String() to the millisecond: \`39m35.305s\`, \`1h0m2s\`. */
function goDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** What both `top` commands start with: the flags checked, the client, quantity parsers and kubectl's table writer. */
async function startTop(f: Factory, name: string | undefined, o: { selector?: string; noHeaders?: boolean; sortBy?: string }) {
  const noHeaders = (o as { headers?: boolean }).headers === false || !!o.noHeaders;
  if (o.sortBy && o.sortBy !== 'cpu' && o.sortBy !== 'memory') throw new CliError('--sort-by accepts only cpu or memory');
  if (name && o.selector) throw new CliError('only one of NAME or --selector can be provided');
  const client = await f.client();
  const { cpuMillis, quantityValue } = await import('@k8ts/api');
  const milli = (q: unknown): number => (q === undefined ? 0 : cpuMillis(q as string));
  const bytes = (q: unknown): number => (q === undefined ? 0 : quantityValue(q as string));
  const { goTabwrite } = await import('../describe/tabwriter.js');
  const tabwrite = (t: string[][]): string => goTabwrite(t.map((r) => `${r.join('\t')}\t\n`).join(''), 6, 3);
  return { noHeaders, client, milli, bytes, tabwrite };
}

async function topPods(f: Factory, name: string | undefined, o: TopPodOptions): Promise<void> {
  const { noHeaders, client, milli, bytes, tabwrite } = await startTop(f, name, o);
  const ns = f.namespace();
  const allNs = !!o.allNamespaces && !name;
  const base = allNs ? `${METRICS}/pods` : `${METRICS}/namespaces/${encodeURIComponent(ns)}/pods`;
  const items: any[] = name ? [await client.request<any>('GET', `${base}/${encodeURIComponent(name)}`)]
    : (await client.request<any>('GET', base, { query: { labelSelector: o.selector, fieldSelector: o.fieldSelector } })).items ?? [];
  if (!items.length) {
    // kubectl tells apart "no pods" from "pods without metrics yet" (naming the first such pod and its age).
    const pods: any[] = (await client.request<any>('GET', allNs ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`,
      { query: { labelSelector: o.selector, fieldSelector: o.fieldSelector } })).items ?? [];
    if (pods.length) {
      // verifyEmptyMetrics/checkPodAge: a pod older than the metrics pipeline's 2 minutes is named.
      for (const p of pods) {
        const age = Date.now() - Date.parse(p.metadata.creationTimestamp);
        if (age > 120_000) throw new CliError(`Metrics not available for pod ${p.metadata.namespace}/${p.metadata.name}, age: ${goDuration(age)}`);
      }
      throw new CliError('metrics not available yet');
    }
    f.io.err.write(allNs ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
    return;
  }
  const usage = (cs: any[]): { cpu: number; mem: number } => cs.reduce((a, c) => ({ cpu: a.cpu + milli(c.usage?.cpu), mem: a.mem + bytes(c.usage?.memory) }), { cpu: 0, mem: 0 });
  const rows: { ns: string; pod: string; name: string; cpu: number; mem: number }[] = [];
  for (const m of items) {
    if (o.containers) for (const c of m.containers ?? []) rows.push({ ns: m.metadata.namespace, pod: m.metadata.name, name: c.name, ...usage([c]) });
    else rows.push({ ns: m.metadata.namespace, pod: m.metadata.name, name: m.metadata.name, ...usage(m.containers ?? []) });
  }
  rows.sort((a, b) => (o.sortBy === 'cpu' ? b.cpu - a.cpu : o.sortBy === 'memory' ? b.mem - a.mem
    : (allNs && a.ns !== b.ns ? (a.ns < b.ns ? -1 : 1) : a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  const table: string[][] = [];
  const head = [...(allNs ? ['NAMESPACE'] : []), ...(o.containers ? ['POD'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'];
  if (!noHeaders) table.push(head);
  const cells = (cpu: number, mem: number): string[] => [`${cpu}m`, `${Math.trunc(mem / 2 ** 20)}Mi`];
  for (const r of rows) table.push([...(allNs ? [r.ns] : []), ...(o.containers ? [r.pod] : []), r.name, ...cells(r.cpu, r.mem)]);
  if (o.sum) {
    const lead = head.length - 2;
    table.push([...new Array<string>(lead).fill(''), '________', '________']);
    const total = rows.reduce((a, r) => ({ cpu: a.cpu + r.cpu, mem: a.mem + r.mem }), { cpu: 0, mem: 0 });
    table.push([...new Array<string>(lead).fill(''), ...cells(total.cpu, total.mem)]);
  }
  f.io.out.write(tabwrite(table));
}

async function topNodes(f: Factory, name: string | undefined, o: TopNodeOptions): Promise<void> {
  const { noHeaders, client, milli, bytes, tabwrite } = await startTop(f, name, o);
  const nodes: any[] = name ? [await client.request<any>('GET', `/api/v1/nodes/${encodeURIComponent(name)}`)]
    : (await client.request<any>('GET', '/api/v1/nodes', { query: { labelSelector: o.selector } })).items ?? [];
  const metrics: any[] = name ? [await client.request<any>('GET', `${METRICS}/nodes/${encodeURIComponent(name)}`)]
    : (await client.request<any>('GET', `${METRICS}/nodes`, { query: { labelSelector: o.selector } })).items ?? [];
  if (!metrics.length) throw new CliError('metrics not available yet');
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const rows = metrics.filter((m) => byName.has(m.metadata.name)).map((m) => {
    const n = byName.get(m.metadata.name);
    const avail = o.showCapacity ? n.status?.capacity ?? {} : n.status?.allocatable ?? {};
    const cpu = milli(m.usage?.cpu);
    const mem = bytes(m.usage?.memory);
    const ac = milli(avail.cpu);
    const am = bytes(avail.memory);
    return { name: m.metadata.name, cpu, mem, cpuPct: ac ? Math.trunc((cpu / ac) * 100) : 0, memPct: am ? Math.trunc((mem / am) * 100) : 0 };
  });
  rows.sort((a, b) => (o.sortBy === 'cpu' ? b.cpu - a.cpu : o.sortBy === 'memory' ? b.mem - a.mem : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const table: string[][] = noHeaders ? [] : [['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']];
  for (const r of rows) table.push([r.name, `${r.cpu}m`, `${r.cpuPct}%`, `${Math.trunc(r.mem / 2 ** 20)}Mi`, `${r.memPct}%`]);
  const withMetrics = new Set(rows.map((r) => r.name));
  for (const n of [...nodes].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (!withMetrics.has(n.metadata.name)) table.push([n.metadata.name, '<unknown>', '<unknown>', '<unknown>', '<unknown>']);
  }
  f.io.out.write(tabwrite(table));
}
