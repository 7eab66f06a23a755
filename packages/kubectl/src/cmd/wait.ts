import type { Command } from 'commander';
import type { KubeObject, ResourceDef } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { parseGoDuration } from '../factory.js';
import { setExamples } from '../help.js';
import { resourceUrl } from '../rest-mapper.js';
import { isNotFound, collect, reportErrors } from './util.js';
import { resolveTargets, targetName, type Target } from './targets.js';

interface WaitOptions {
  for?: string;
  timeout: string;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  filename: string[];
  recursive?: boolean;
  local?: boolean;
}

type Check = (obj: KubeObject) => boolean;

interface Condition { kind: 'delete' | 'create' | 'check'; check?: Check }

/** Parses `--for` as kubectl's conditionFuncFor does, with its messages. */
async function parseFor(value: string): Promise<Condition> {
  const v = value.trim();
  if (v.toLowerCase() === 'delete') return { kind: 'delete' };
  if (v.toLowerCase() === 'create') return { kind: 'create' };
  if (v.toLowerCase().startsWith('condition=')) {
    const rest = v.slice('condition='.length);
    const eq = rest.indexOf('=');
    const type = eq < 0 ? rest : rest.slice(0, eq);
    const want = eq < 0 ? 'true' : rest.slice(eq + 1);
    return {
      kind: 'check',
      check: (obj) => {
        const o = obj as KubeObject & { status?: { conditions?: { type?: string; status?: string; observedGeneration?: number }[] } };
        const c = (o.status?.conditions ?? []).find((x) => (x.type ?? '').toLowerCase() === type.toLowerCase());
        if (!c || (c.status ?? '').toLowerCase() !== want.toLowerCase()) return false;
        return !(c.observedGeneration && (obj.metadata?.generation ?? 0) > c.observedGeneration);
      },
    };
  }
  if (v.toLowerCase().startsWith('jsonpath=')) {
    const expr = v.slice('jsonpath='.length);
    const m = /^(\{.*\}|[^=]+?)(?:=(.*))?$/.exec(expr);
    if (!m) throw new CliError('jsonpath wait format must be --for=jsonpath=\'{.status.readyReplicas}\'=3 or --for=jsonpath=\'{.status.readyReplicas}\'');
    const { JsonPath, relaxedJsonPath } = await import('../printers/jsonpath.js');
    let path: InstanceType<typeof JsonPath>;
    try {
      path = new JsonPath(relaxedJsonPath(m[1]));
    } catch (err) {
      throw new CliError(`unrecognized character in action: ${(err as Error).message}`);
    }
    const want = m[2];
    return {
      kind: 'check',
      check: (obj) => {
        let results: unknown[];
        try {
          results = path.findResults(obj).flat();
        } catch {
          return false;
        }
        if (!results.length) return false;
        if (want === undefined) return true;
        return results.every((r) => (typeof r === 'object' ? JSON.stringify(r) : String(r)) === want);
      },
    };
  }
  throw new CliError(`unrecognized condition: "${value}"`);
}

function asDef(t: Target): ResourceDef {
  return { ...t.mapping, singular: t.mapping.singularName, listKind: `${t.mapping.kind}List`, subresources: [] } as unknown as ResourceDef;
}

/** `kubectl wait --for=delete|create|condition=…|jsonpath=…`: a watch per object until it holds or --timeout ends. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('wait').summary('Experimental: Wait for a specific condition on one or many resources')
    .description(`Experimental: Wait for a specific condition on one or many resources.

 The command takes multiple resources and waits until the specified condition is seen in the Status field of every given resource.

 Alternatively, the command can wait for the given set of resources to be created or deleted by providing the "create" or "delete" keyword as the value to the --for flag.

 A successful message will be printed to stdout indicating when the specified condition has been met. You can use -o option to change to output destination.`)
    .usage('([-f FILENAME] | resource.group/resource.name | resource.group [(-l label | --all)]) [--for=create|--for=delete|--for condition=available|--for=jsonpath=\'{}\'[=value]]')
    .argument('[args...]')
    .option('--for <condition>', "The condition to wait on: [create|delete|condition=condition-name[=condition-value]|jsonpath='{JSONPath expression}'=[JSONPath value]]. The default condition-value is true.  Condition values are compared after Unicode simple case folding, which is a more general form of case-insensitivity.")
    .option('--timeout <duration>', 'The length of time to wait before giving up.  Zero means check once and don\'t wait, negative means wait for a week.', '30s')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .option('--field-selector <selector>', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.")
    .option('--all', 'Select all resources in the namespace of the specified resource types')
    .option('-A, --all-namespaces', 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.')
    .option('-f, --filename <file>', 'identifying the resource.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.', true)
    .option('--local', 'If true, annotation will NOT contact api-server but run locally.')
    .action(async (args: string[], o: WaitOptions) => wait(f, args, o));
  setExamples(cmd, `  # Wait for the pod "busybox1" to contain the status condition of type "Ready"
  kubectl wait --for=condition=Ready pod/busybox1

  # The default value of status condition is true; you can wait for other targets after an equal delimiter (compared after Unicode simple case folding, which is a more general form of case-insensitivity)
  kubectl wait --for=condition=Ready=false pod/busybox1

  # Wait for the pod "busybox1" to contain the status phase to be "Running"
  kubectl wait --for=jsonpath='{.status.phase}'=Running pod/busybox1

  # Wait for pod "busybox1" to be Ready
  kubectl wait --for='jsonpath={.status.conditions[?(@.type=="Ready")].status}=True' pod/busybox1

  # Wait for the service "loadbalancer" to have ingress
  kubectl wait --for=jsonpath='{.status.loadBalancer.ingress}' service/loadbalancer

  # Wait for the secret "busybox1" to be created, with a timeout of 30 seconds
  kubectl create secret generic busybox1
  kubectl wait --for=create secret/busybox1 --timeout=30s

  # Wait for the pod "busybox1" to be deleted, with a timeout of 60s, after having issued the "delete" command
  kubectl delete pod/busybox1
  kubectl wait --for=delete pod/busybox1 --timeout=60s`);
  return cmd;
}

async function wait(f: Factory, args: string[], o: WaitOptions): Promise<void> {
  if (!o.for) throw new CliError('unrecognized condition: ""');
  const cond = await parseFor(o.for);
  let timeoutMs = parseGoDuration(o.timeout.replace(/^-/, ''));
  if (timeoutMs === undefined) throw new CliError(`invalid argument "${o.timeout}" for "--timeout" flag: time: invalid duration "${o.timeout}"`);
  if (o.timeout.startsWith('-')) timeoutMs = 7 * 24 * 3600_000;
  const deadline = Date.now() + timeoutMs;
  const { targets, errors } = await resolveTargets(f, args, o, 'wait');
  if (cond.kind === 'delete') {
    // Objects already gone count as deleted.
    const left = errors.filter((e) => !isNotFound(e));
    if (left.length) reportErrors(f, left);
  } else if (errors.length && cond.kind !== 'create') {
    reportErrors(f, errors);
  }
  if (!targets.length && cond.kind !== 'delete' && !errors.length) throw new CliError('no matching resources found');
  const client = await f.client();
  const timeouts: unknown[] = [];
  for (const t of targets) {
    // One deadline for all objects: once it has passed, kubectl reports the rest as timed out without looking.
    const ok = timeoutMs > 0 && Date.now() >= deadline ? false : await waitFor(f, client, t, cond, deadline, timeoutMs);
    if (!ok) {
      const gr = t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource;
      timeouts.push(timeoutMs === 0 ? new CliError(`condition not met for ${gr}/${t.name}`)
        : new CliError(`timed out waiting for the condition on ${gr}/${t.name}`, { raw: true }));
      continue;
    }
    f.io.out.write(`${targetName(t)} condition met\n`);
  }
  reportErrors(f, timeouts);
}

async function waitFor(f: Factory, client: Awaited<ReturnType<Factory['client']>>, t: Target, cond: Condition, deadline: number, timeoutMs: number): Promise<boolean> {
  const holds = (obj: KubeObject | undefined): boolean => {
    if (cond.kind === 'delete') return obj === undefined || obj.metadata?.uid !== t.object.metadata?.uid;
    if (cond.kind === 'create') return obj !== undefined;
    return obj !== undefined && cond.check!(obj);
  };
  let current: KubeObject | undefined = t.object;
  if (holds(current)) return true;
  const ac = new AbortController();
  const left = deadline - Date.now();
  if (timeoutMs === 0 || left <= 0) return false;
  const timer = setTimeout(() => ac.abort(), left);
  try {
    while (!ac.signal.aborted) {
      try {
        current = await client.request<KubeObject>('GET', resourceUrl(t.mapping, t.namespace, t.name), { accept: 'application/json', signal: ac.signal });
      } catch (err) {
        if (ac.signal.aborted) return false;
        if (!isNotFound(err)) throw err;
        current = undefined;
      }
      if (holds(current)) return true;
      try {
        for await (const ev of client.watch<KubeObject>(asDef(t), t.namespace, {
          fieldSelector: `metadata.name=${t.name}`, resourceVersion: current?.metadata?.resourceVersion, signal: ac.signal,
        })) {
          if (ev.type === 'DELETED') current = undefined;
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') current = { ...ev.object, kind: t.object.kind, apiVersion: t.object.apiVersion };
          else continue;
          if (holds(current)) return true;
        }
      } catch (err) {
        if (ac.signal.aborted) return false;
        if ((err as { code?: number }).code !== 410) throw err;
      }
    }
    return false;
  } finally {
    clearTimeout(timer);

  }
}
