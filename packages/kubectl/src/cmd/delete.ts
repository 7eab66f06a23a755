import type { Command } from 'commander';
import type { ApiClient, KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import { parseGoDuration, type Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { kindPrefix, resourceUrl, type ResourceMapping } from '../rest-mapper.js';
import { collect, dryRunFlag, isNotFound, reportErrors } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface DeleteOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  ignoreNotFound?: boolean;
  wait: boolean;
  gracePeriod: string;
  force?: boolean;
  now?: boolean;
  cascade: string;
  timeout: string;
  dryRun?: string | boolean;
  output?: string;
}

interface Target { mapping: ResourceMapping; namespace: string | undefined; name: string }

/** `kubectl delete`: by file, by type and name, by selector or `--all`; one DELETE per object, then waits for them to go. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('delete')
    .summary('Delete resources by file names, stdin, resources and names, or by resources and label selector')
    .description(`Delete resources by file names, stdin, resources and names, or by resources and label selector.

 JSON and YAML formats are accepted. Only one type of argument may be specified: file names, resources and names, or resources and label selector.`)
    .usage('([-f FILENAME] | [-k DIRECTORY] | TYPE [(NAME | -l label | --all)])')
    .argument('[args...]')
    .option('-f, --filename <file>', 'containing the resource to delete.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--field-selector <selector>', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.")
    .option('--all', 'Delete all resources, in the namespace of the specified resource types.')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('--ignore-not-found', 'Treat "resource not found" as a successful delete. Defaults to "true" when --all is specified.')
    .option('--wait', 'If true, wait for resources to be gone before returning. This waits for finalizers.', true)
    .option('--grace-period <seconds>', 'Period of time in seconds given to the resource to terminate gracefully. Ignored if negative. Set to 1 for immediate shutdown. Can only be set to 0 when --force is true (force deletion).', '-1')
    .option('--force', 'If true, immediately remove resources from API and bypass graceful deletion. Note that immediate deletion of some resources may result in inconsistency or data loss and requires confirmation.')
    .option('--now', 'If true, resources are signaled for immediate shutdown (same as --grace-period=1).')
    .option('--cascade [strategy]', 'Must be "background", "orphan", or "foreground". Selects the deletion cascading strategy for the dependents (e.g. Pods created by a ReplicationController). Defaults to background.', 'background')
    .option('--timeout <duration>', 'The length of time to wait before giving up on a delete, zero means determine a timeout from the size of the object', '0s')
    .addOption(dryRunFlag())
    .option('-o, --output <format>', 'Output mode. Use "-o name" for shorter output (resource/name).')
    .action(async (args: string[], o: DeleteOptions) => del(f, args, o));
  setExamples(cmd, `  # Delete a pod using the type and name specified in pod.json
  kubectl delete -f ./pod.json

  # Delete pods and services with same names "baz" and "foo"
  kubectl delete pod,service baz foo

  # Delete pods and services with label name=myLabel
  kubectl delete pods,services -l name=myLabel`);
  return cmd;
}

function propagation(cascade: string | boolean, f: Factory): string {
  const c = String(cascade);
  switch (c) {
    case 'background': case 'true': case '': return 'Background';
    case 'foreground': return 'Foreground';
    case 'orphan': return 'Orphan';
    case 'false':
      f.warn('--cascade=false is deprecated (boolean value) and can be replaced with --cascade=orphan.');
      return 'Orphan';
    default: throw new CliError(`invalid cascade value (${c}). Must be "background", "foreground", or "orphan"`);
  }
}

async function del(f: Factory, args: string[], o: DeleteOptions): Promise<void> {
  const dryRun = parseDryRun(o.dryRun);
  if (o.output && o.output !== 'name') throw new CliError(`unexpected -o output mode: ${o.output}. We only support '-o name'`);
  if (!args.length && !o.filename.length) {
    throw new CliError(`You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'`);
  }
  const policy = propagation(o.cascade, f);
  let grace = Number(o.gracePeriod);
  if (o.now) {
    if (grace !== -1) throw new CliError('--now and --grace-period cannot be specified together');
    grace = 1;
  }
  if (o.force && grace < 0) grace = 0;
  if (grace === 0 && !o.force) grace = 1;
  if (o.force && grace === 0) {
    f.io.err.write('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
  }
  const client = await f.client();
  const mapper = await f.mapper();
  const errors: unknown[] = [];
  const targets: Target[] = [];
  const ignoreNotFound = !!o.ignoreNotFound || !!o.all;
  if (o.filename.length) {
    const { readManifests, toInfos } = await import('../resource-builder.js');
    for (const i of toInfos(await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in }), mapper, f)) targets.push({ mapping: i.mapping, namespace: i.namespace, name: i.name });
  } else {
    const { parseResourceArgs } = await import('../resource-builder.js');
    const requests = parseResourceArgs(args, mapper, 'delete');
    for (const r of requests) {
      const ns = r.mapping.namespaced ? (o.allNamespaces ? undefined : f.namespace()) : undefined;
      if (r.names.length) {
        if (o.all || o.selector) throw new CliError('name cannot be provided when a selector is specified');
        for (const name of r.names) targets.push({ mapping: r.mapping, namespace: ns, name });
        continue;
      }
      if (!o.all && !o.selector && !o.fieldSelector) throw new CliError('resource(s) were provided, but no name was specified');
      try {
        const list = await client.request<{ items?: KubeObject[] }>('GET', resourceUrl(r.mapping, ns), {
          accept: 'application/json', query: { labelSelector: o.selector || undefined, fieldSelector: o.fieldSelector || undefined },
        });
        for (const item of list.items ?? []) targets.push({ mapping: r.mapping, namespace: item.metadata?.namespace ?? ns, name: item.metadata?.name ?? '' });
      } catch (err) {
        errors.push(err);
      }
    }
    if (!targets.length && !errors.length) {
      // kubectl delete says this on stdout (get says it on stderr).
      f.io.out.write('No resources found\n');
      return;
    }
  }
  const deleted: Target[] = [];
  for (const t of targets) {
    const body: Record<string, unknown> = {};
    if (grace >= 0) body.gracePeriodSeconds = grace;
    body.propagationPolicy = policy;
    try {
      if (dryRun !== 'client') {
        await client.request('DELETE', resourceUrl(t.mapping, t.namespace, t.name), {
          body, accept: 'application/json', query: { dryRun: dryRun === 'server' ? 'All' : undefined },
        });
      }
      deleted.push(t);
      f.io.out.write(o.output === 'name' ? `${kindPrefix(t.mapping)}/${t.name}\n` : `${kindPrefix(t.mapping)} "${t.name}" ${o.force && grace === 0 ? 'force deleted' : 'deleted'}${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      if (!(ignoreNotFound && isNotFound(err))) errors.push(err);
    }
  }
  if (o.wait && dryRun === 'none' && deleted.length) await waitForDeletion(client, deleted, o.timeout, errors);
  reportErrors(f, errors, ignoreNotFound);
}

/** `--wait`: polls each object until the server answers 404 (graceful deletion and finalizers done). */
async function waitForDeletion(client: ApiClient, targets: Target[], timeout: string, errors: unknown[]): Promise<void> {
  const ms = parseGoDuration(timeout) || 7 * 24 * 3600 * 1000;
  const deadline = Date.now() + ms;
  for (const t of targets) {
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      try {
        await client.request('GET', resourceUrl(t.mapping, t.namespace, t.name), { accept: 'application/json' });
      } catch (err) {
        if (isNotFound(err)) break;
        errors.push(err);
        break;
      }
      if (Date.now() > deadline) {
        errors.push(new CliError(`timed out waiting for the condition on ${t.mapping.resource}/${t.name}`));
        break;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
