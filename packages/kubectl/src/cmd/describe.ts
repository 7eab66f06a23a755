import type { Command } from 'commander';
import type { ApiClient } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { resourceUrl, type ResourceMapping } from '../rest-mapper.js';
import { collect, isNotFound, reportErrors } from './util.js';

interface DescribeOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
  chunkSize: string;
}

/** `kubectl describe`: kubectl's describers for the common kinds, the generic describer for the rest, with Events. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('describe')
    .summary('Show details of a specific resource or group of resources')
    .description(`Show details of a specific resource or group of resources.

 Print a detailed description of the selected resources, including related resources such as events or controllers. You may select a single object by name, all objects of that type, provide a name prefix, or label selector. For example:

        $ kubectl describe TYPE NAME_PREFIX

 will first check for an exact match on TYPE and NAME_PREFIX. If no such resource exists, it will output details for every resource that has a name prefixed with NAME_PREFIX.

Use "kubectl api-resources" for a complete list of supported resources.

k8ts: pods, deployments, replicasets, daemonsets, statefulsets, jobs, services, nodes, namespaces, configmaps, secrets, persistentvolumeclaims and horizontalpodautoscalers have kubectl's own sections; other kinds use kubectl's generic describer. A node's pod resource table and "Allocated resources" are not printed yet.`)
    .usage('(-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)')
    .argument('[args...]')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('--chunk-size <n>', 'Return large lists in chunks rather than all at once. Pass 0 to disable. This flag is beta and may change in the future.', '500')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files containing the resource to describe', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--show-events', 'If true, display events related to the described object.', true)
    .action(async (args: string[], o: DescribeOptions) => describe(f, args, o));
  setExamples(cmd, `  # Describe a node
  kubectl describe nodes kubernetes-node-emt8.c.myproject.internal

  # Describe a pod
  kubectl describe pods/nginx

  # Describe a pod identified by type and name in "pod.json"
  kubectl describe -f pod.json

  # Describe all pods
  kubectl describe pods

  # Describe pods by label name=myLabel
  kubectl describe pods -l name=myLabel

  # Describe all pods managed by the 'frontend' replication controller
  # (rc-created pods get the name of the rc as a prefix in the pod name)
  kubectl describe pods frontend`);
  return cmd;
}

interface Target { mapping: ResourceMapping; namespace?: string; name?: string; object?: any }

async function describe(f: Factory, args: string[], o: DescribeOptions): Promise<void> {
  if (args.length === 0 && o.filename.length === 0) {
    throw new CliError('You must specify the type of resource to describe. Use "kubectl api-resources" for a complete list of supported resources.');
  }
  const client = await f.client();
  const mapper = await f.mapper();
  const namespace = f.namespace();
  const allNs = !!o.allNamespaces;
  const targets: Target[] = [];
  if (o.filename.length) {
    const { readManifests, toInfos } = await import('../resource-builder.js');
    for (const info of toInfos(await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in }), mapper, f)) {
      targets.push({ mapping: info.mapping, namespace: info.namespace, name: info.name });
    }
  } else {
    const { parseResourceArgs } = await import('../resource-builder.js');
    for (const r of parseResourceArgs(args, mapper, 'describe')) {
      const ns = r.mapping.namespaced ? (allNs && !r.names.length ? undefined : namespace) : undefined;
      if (r.names.length) for (const name of r.names) targets.push({ mapping: r.mapping, namespace: ns, name });
      else targets.push({ mapping: r.mapping, namespace: ns });
    }
  }
  const chunk = Number(o.chunkSize) || 0;
  const query = (extra: Record<string, string> = {}): Record<string, string> => ({ ...(o.selector ? { labelSelector: o.selector } : {}), ...extra });
  // The builder's objects first (gets and lists), then one describe each, as kubectl's Infos() then Describe().
  const objects: { mapping: ResourceMapping; object: any }[] = [];
  const errors: unknown[] = [];
  for (const t of targets) {
    try {
      if (t.name !== undefined) {
        objects.push({ mapping: t.mapping, object: await client.request('GET', resourceUrl(t.mapping, t.namespace, t.name)) });
      } else {
        for (const object of await listAll(client, resourceUrl(t.mapping, t.namespace), query(), chunk)) objects.push({ mapping: t.mapping, object: withKind(object, t.mapping) });
      }
    } catch (err) {
      errors.push(err);
    }
  }
  const { describeObject } = await import('../describe/describers.js');
  const ctx = { client, showEvents: o.showEvents, chunkSize: chunk };
  // `describe TYPE NAME_PREFIX`: no exact match describes every object whose name starts with the prefix.
  const typeAndName = !o.filename.length && args.length === 2 && !args.some((a) => a.includes('/'));
  if (typeAndName && errors.length === 1 && isNotFound(errors[0]) && targets.length === 1) {
    const t = targets[0];
    const matches = (await listAll(client, resourceUrl(t.mapping, t.namespace), query(), chunk)).filter((x) => (x.metadata?.name ?? '').startsWith(t.name!));
    if (!matches.length) return reportErrors(f, errors);
    for (const m of matches) f.io.out.write(`${await describeObject(ctx, t.mapping.group, withKind(m, t.mapping))}\n`);
    return;
  }
  let first = true;
  for (const { mapping, object } of objects) {
    try {
      const text = await describeObject(ctx, mapping.group, object);
      f.io.out.write(first ? text : `\n\n${text}`);
      first = false;
    } catch (err) {
      errors.push(err);
    }
  }
  if (!objects.length && !errors.length) {
    f.io.err.write(allNs ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
  }
  reportErrors(f, errors);
}

/** Items of a list lack kind and apiVersion; describers and event lookups need them. */
function withKind(obj: any, m: ResourceMapping): any {
  return { apiVersion: m.group ? `${m.group}/${m.version}` : m.version, kind: m.kind, ...obj };
}

async function listAll(client: ApiClient, path: string, query: Record<string, string>, chunk: number): Promise<any[]> {
  const out: any[] = [];
  let cont = '';
  for (let page = 0; page < 10_000; page++) {
    const r = await client.request<any>('GET', path, { query: { ...query, ...(chunk > 0 ? { limit: String(chunk) } : {}), ...(cont ? { continue: cont } : {}) } });
    out.push(...(r.items ?? []));
    cont = r.metadata?.continue ?? '';
    if (!cont) break;
  }
  return out;
}
