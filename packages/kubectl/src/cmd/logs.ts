import type { Command } from 'commander';
import type { ApiClient } from '@k8ts/api';
import { CliError, usageError } from '../errors.js';
import { parseGoDuration, type Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { groupResource, resourceUrl } from '../rest-mapper.js';
import { isNotFound } from './util.js';

interface LogsOptions {
  container?: string;
  allContainers?: boolean;
  follow?: boolean;
  previous?: boolean;
  since?: string;
  sinceTime?: string;
  tail: string;
  timestamps?: boolean;
  selector?: string;
  prefix?: boolean;
  maxLogRequests: string;
  limitBytes?: string;
  ignoreErrors?: boolean;
  podRunningTimeout: string;
}

/** `kubectl logs`: one container's log, or every container's (`--all-containers`), of a pod, a controller's pod or `-l` pods. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('logs')
    .summary('Print the logs for a container in a pod')
    .description(`Print the logs for a container in a pod or specified resource. If the pod has only one container, the container name is optional.`)
    .usage('[-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]')
    .argument('[args...]')
    .option('--all-containers', 'Get all containers\' logs in the pod(s).')
    .option('-c, --container <name>', 'Print the logs of this container')
    .option('-f, --follow', 'Specify if the logs should be streamed.')
    .option('--ignore-errors', 'If watching / following pod logs, allow for any errors that occur to be non-fatal')
    .option('--limit-bytes <n>', 'Maximum bytes of logs to return. Defaults to no limit.')
    .option('--max-log-requests <n>', 'Specify maximum number of concurrent logs to follow when using by a selector. Defaults to 5.', '5')
    .option('--pod-running-timeout <duration>', 'The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one pod is running', '20s')
    .option('--prefix', 'Prefix each log line with the log source (pod name and container name)')
    .option('-p, --previous', 'If true, print the logs for the previous instance of the container in a pod if it exists.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .option('--since <duration>', 'Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all logs. Only one of since-time / since may be used.')
    .option('--since-time <time>', 'Only return logs after a specific date (RFC3339). Defaults to all logs. Only one of since-time / since may be used.')
    .option('--tail <n>', 'Lines of recent log file to display. Defaults to -1 with no selector, showing all log lines otherwise 10, if a selector is provided.', '-1')
    .option('--timestamps', 'Include timestamps on each line in the log output')
    .action(async (args: string[], o: LogsOptions) => logs(f, args, o));
  setExamples(cmd, `  # Return snapshot logs from pod nginx with only one container
  kubectl logs nginx

  # Return snapshot logs from pod nginx, prefixing each line with the source pod and container name
  kubectl logs nginx --prefix

  # Return snapshot logs from pod nginx with multi containers
  kubectl logs nginx --all-containers=true

  # Return snapshot logs from all containers in pods defined by label app=nginx
  kubectl logs -l app=nginx --all-containers=true

  # Return snapshot of previous terminated ruby container logs from pod web-1
  kubectl logs -p -c ruby web-1

  # Begin streaming the logs of the ruby container in pod web-1
  kubectl logs -f -c ruby web-1

  # Display only the most recent 20 lines of output in pod nginx
  kubectl logs --tail=20 nginx

  # Show all logs from pod nginx written in the last hour
  kubectl logs --since=1h nginx

  # Return snapshot logs from first container of a job named hello
  kubectl logs job/hello

  # Return snapshot logs from container nginx-1 of a deployment named nginx
  kubectl logs deployment/nginx -c nginx-1`);
  return cmd;
}

interface LogRequest { pod: any; container: string }

const SELECTOR_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController', 'Service']);

async function logs(f: Factory, args: string[], o: LogsOptions): Promise<void> {
  if (o.since !== undefined && parseGoDuration(o.since) === undefined) {
    throw new CliError(`Error: invalid argument "${o.since}" for "--since" flag: time: invalid duration "${o.since}"\nSee 'kubectl logs --help' for usage.`, { raw: true });
  }
  if (!/^-?\d+$/.test(o.tail)) {
    throw new CliError(`Error: invalid argument "${o.tail}" for "--tail" flag: strconv.ParseInt: parsing "${o.tail}": invalid syntax\nSee 'kubectl logs --help' for usage.`, { raw: true });
  }
  if (o.selector && args.length) throw usageError('logs', 'only a selector (-l) or a POD name is allowed');
  if (!o.selector && args.length === 0) {
    throw usageError('logs', "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command");
  }
  if (args.length > 2) throw usageError('logs', "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command");
  if (o.since !== undefined && o.sinceTime !== undefined) throw new CliError('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (o.allContainers && o.container) throw new CliError('--container cannot be used with --all-containers');
  let sinceTime: string | undefined;
  if (o.sinceTime !== undefined) {
    const t = Date.parse(o.sinceTime);
    if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(o.sinceTime)) throw new CliError(`--since-time must be RFC3339 (e.g. 2024-01-02T15:04:05Z): ${o.sinceTime}`);
    sinceTime = new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
  }
  const client = await f.client();
  const namespace = f.namespace();
  const pods: any[] = [];
  if (o.selector) {
    pods.push(...((await client.request<any>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { query: { labelSelector: o.selector } })).items ?? []));
    if (!pods.length) {
      f.io.err.write(`No resources found in ${namespace} namespace.\n`);
      return;
    }
  } else {
    // `POD [CONTAINER]`, `TYPE/NAME`.
    const arg = args[0];
    if (args.length === 2 && !o.container) o.container = args[1];
    const slash = arg.indexOf('/');
    const mapper = await f.mapper();
    const mapping = slash < 0 ? mapper.resourceFor('pods') : mapper.resourceFor(arg.slice(0, slash));
    const name = slash < 0 ? arg : arg.slice(slash + 1);
    let obj: any;
    try {
      obj = await client.request<any>('GET', resourceUrl(mapping, mapping.namespaced ? namespace : undefined, name));
    } catch (err) {
      if (isNotFound(err)) throw new CliError(`error from server (NotFound): ${groupResource(mapping)} "${name}" not found in namespace "${namespace}"`);
      throw err;
    }
    if (mapping.kind === 'Pod' && !mapping.group) pods.push(obj);
    else if (SELECTOR_KINDS.has(mapping.kind)) pods.push(await firstPod(f, client, namespace, mapping.kind === 'Service' ? obj.spec?.selector : obj.spec?.selector, mapping.kind === 'Service', o));
    else throw new CliError(`cannot get the logs from *v1.${mapping.kind}: selector for *v1.${mapping.kind} not implemented`);
  }
  const requests: LogRequest[] = [];
  for (const pod of pods) {
    if (o.allContainers) {
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) requests.push({ pod, container: c.name });
    } else {
      requests.push({ pod, container: pickContainer(f, pod, o.container, !!o.selector) });
    }
  }
  const maxRequests = Number(o.maxLogRequests);
  if (o.follow && requests.length > maxRequests) {
    throw new CliError(`you are attempting to follow ${requests.length} log streams, but maximum allowed concurrency is ${maxRequests}, use --max-log-requests to increase the limit`);
  }
  let tail = Number(o.tail);
  if (o.selector && tail === -1) tail = 10;
  const query: Record<string, string | undefined> = {
    follow: o.follow ? 'true' : undefined, previous: o.previous ? 'true' : undefined, timestamps: o.timestamps ? 'true' : undefined,
    tailLines: tail >= 0 ? String(tail) : undefined, limitBytes: o.limitBytes, sinceTime,
    sinceSeconds: o.since !== undefined ? String(Math.max(1, Math.ceil(parseGoDuration(o.since)! / 1000))) : undefined,
  };
  const stream = async (r: LogRequest): Promise<void> => {
    const path = `/api/v1/namespaces/${encodeURIComponent(r.pod.metadata.namespace)}/pods/${encodeURIComponent(r.pod.metadata.name)}/log`;
    const prefix = o.prefix ? `[pod/${r.pod.metadata.name}/${r.container}] ` : '';
    let pending = '';
    try {
      for await (const chunk of client.stream('GET', path, { query: { ...query, container: r.container }, accept: '*/*' })) {
        if (!prefix) {
          f.io.out.write(chunk.toString('utf8'));
          continue;
        }
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) f.io.out.write(`${prefix}${l}\n`);
      }
      if (prefix && pending) f.io.out.write(`${prefix}${pending}`);
    } catch (err) {
      if (!o.ignoreErrors) throw err;
      f.io.err.write(`error: ${(err as Error).message}\n`);
    }
  };
  // kubectl follows several streams at once; snapshots are printed one after the other.
  if (o.follow && requests.length > 1) await Promise.all(requests.map(stream));
  else for (const r of requests) await stream(r);
}

/** The container to read: `-c`, else the default-container annotation, else the first (and kubectl's notice). */
function pickContainer(f: Factory, pod: any, name: string | undefined, quiet: boolean): string {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  if (name) {
    if (!all.some((c) => c.name === name)) throw new CliError(`container ${name} is not valid for pod ${pod.metadata.name}`);
    return name;
  }
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated) {
    if (all.some((c) => c.name === annotated)) return annotated;
    f.io.err.write(`Default container name "${annotated}" not found in pod ${pod.metadata.name}\n`);
  }
  const containers = pod.spec?.containers ?? [];
  if (!containers.length) throw new CliError(`pod ${pod.metadata.namespace}/${pod.metadata.name} does not have any containers`);
  if (!quiet && (containers.length > 1 || pod.spec?.initContainers?.length || pod.spec?.ephemeralContainers?.length)) {
    const names = [...containers.map((c: any) => c.name), ...(pod.spec?.initContainers ?? []).map((c: any) => `${c.name} (init)`), ...(pod.spec?.ephemeralContainers ?? []).map((c: any) => `${c.name} (ephem)`)];
    f.io.err.write(`Defaulted container "${containers[0].name}" out of: ${names.join(', ')}\n`);
  }
  return containers[0].name;
}

/** A controller's pod for its logs (GetFirstPod): waits up to --pod-running-timeout; prefers running, ready pods. */
async function firstPod(f: Factory, client: ApiClient, namespace: string, selector: any, plain: boolean, o: LogsOptions): Promise<any> {
  const { selectorString } = await import('../describe/format.js');
  const labelSelector = plain ? Object.entries(selector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') : selectorString(selector);
  const deadline = Date.now() + (parseGoDuration(o.podRunningTimeout) ?? 20_000);
  for (;;) {
    const pods: any[] = (await client.request<any>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { query: { labelSelector } })).items ?? [];
    const active = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const pool = active.length ? active : pods;
    if (pool.length) {
      pool.sort(byLogging);
      if (pool.length > 1) f.io.err.write(`Found ${pool.length} pods, using pod/${pool[0].metadata.name}\n`);
      return pool[0];
    }
    if (Date.now() >= deadline) throw new CliError(`timed out waiting for the condition`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** podutils.ByLogging: assigned before unassigned, running before pending, ready before not, more restarts, older. */
function byLogging(a: any, b: any): number {
  const rank = (p: any): number[] => {
    const phase = p.status?.phase;
    const ready = (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    const restarts = (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
    return [p.spec?.nodeName ? 0 : 1, phase === 'Running' ? 0 : phase === 'Pending' ? 2 : 1, ready ? 0 : 1, -restarts, Date.parse(p.metadata?.creationTimestamp ?? '') || 0];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return 0;
}
