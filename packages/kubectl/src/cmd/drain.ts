import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError, ExitCode, formatError } from '../errors.js';
import type { Factory } from '../factory.js';
import { parseGoDuration } from '../factory.js';
import { setExamples } from '../help.js';
import { resolveNodes, setUnschedulable } from './node-util.js';
import { dryRunFlag, isNotFound } from './util.js';
import { parseDryRun, type DryRun } from './write-util.js';

interface DrainOptions {
  selector?: string;
  podSelector?: string;
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  gracePeriod: string;
  timeout: string;
  disableEviction?: boolean;
  skipWaitForDeleteTimeout: string;
  dryRun?: string | boolean;
}

interface Pod extends KubeObject {
  metadata: KubeObject['metadata'] & { ownerReferences?: { kind?: string; controller?: boolean; name?: string }[]; annotations?: Record<string, string> };
  spec?: { volumes?: { emptyDir?: unknown }[] };
  status?: { phase?: string };
}

/** `kubectl drain NODE`: cordon, then evict (pods/eviction, retried every 5 s on 429) and wait for each pod to go. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('drain').summary('Drain node in preparation for maintenance').description(`Drain node in preparation for maintenance.

 The given node will be marked unschedulable to prevent new pods from arriving. 'drain' evicts the pods if the API server supports https://kubernetes.io/docs/concepts/workloads/pods/disruptions/ eviction https://kubernetes.io/docs/concepts/workloads/pods/disruptions/ . Otherwise, it will use normal DELETE to delete the pods. The 'drain' evicts or deletes all pods except mirror pods (which cannot be deleted through the API server).  If there are daemon set-managed pods, drain will not proceed without --ignore-daemonsets, and regardless it will not delete any daemon set-managed pods, because those pods would be immediately replaced by the daemon set controller, which ignores unschedulable markings.  If there are any pods that are neither mirror pods nor managed by a replication controller, replica set, daemon set, stateful set, or job, then drain will not delete any pods unless you use --force.  --force will also allow deletion to proceed if the managing resource of one or more pods is missing.

 'drain' waits for graceful termination. You should not operate on the machine until the command completes.

 When you are ready to put the node back into service, use kubectl uncordon, which will make the node schedulable again.

 (k8ts-kubectl: --chunk-size and --skip-wait-for-delete-timeout are accepted and ignored.)`)
    .usage('NODE')
    .argument('[node...]')
    .option('--force', 'Continue even if there are pods that do not declare a controller.')
    .option('--ignore-daemonsets', 'Ignore DaemonSet-managed pods.')
    .option('--delete-emptydir-data', 'Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).')
    .option('--grace-period <seconds>', 'Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.', '-1')
    .option('--timeout <duration>', 'The length of time to wait before giving up, zero means infinite', '0s')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on')
    .option('--pod-selector <selector>', 'Label selector to filter pods on the node')
    .option('--disable-eviction', 'Force drain to use delete, even if eviction is supported. This will bypass checking PodDisruptionBudgets, use with caution.')
    .option('--skip-wait-for-delete-timeout <seconds>', 'If pod DeletionTimestamp older than N seconds, skip waiting for the pod.  Seconds must be greater than 0 to skip.', '0')
    .option('--chunk-size <n>', 'Return large lists in chunks rather than all at once. Pass 0 to disable.', '500')
    .addOption(dryRunFlag())
    .action(async (nodes: string[], o: DrainOptions) => drain(f, nodes, o));
  setExamples(cmd, `  # Drain node "foo", even if there are pods not managed by a replication controller, replica set, job, daemon set, or stateful set on it
  kubectl drain foo --force

  # As above, but abort if there are pods not managed by a replication controller, replica set, job, daemon set, or stateful set, and use a grace period of 15 minutes
  kubectl drain foo --grace-period=900`);
  return cmd;
}

const podKey = (p: Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * kubectl's GetPodsForDeletion: per pod, the filters daemonSet, mirror, localStorage, unreplicated in that order (the
 * first that refuses decides); refusals grouped by message in pod order, warnings likewise.
 */
export async function podsForDeletion(pods: Pod[], o: DrainOptions, daemonSetExists: (ns: string, name: string) => Promise<boolean | Error>): Promise<{ evict: Pod[]; warnings: string[]; errors: string[] }> {
  const errs = new Map<string, string[]>();
  const warns = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, msg: string, p: Pod): void => { m.set(msg, [...(m.get(msg) ?? []), podKey(p)]); };
  const evict: Pod[] = [];
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const ctrl = p.metadata?.ownerReferences?.find((r) => r.controller);
    const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (ctrl?.kind === 'DaemonSet' && !finished) {
      const found = await daemonSetExists(p.metadata?.namespace ?? '', ctrl.name ?? '');
      if (found instanceof Error) {
        if (!o.force) { add(errs, `cannot delete ${found.message}`, p); continue; }
      } else if (!o.ignoreDaemonsets) {
        add(errs, 'cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)', p);
        continue;
      } else {
        add(warns, 'ignoring DaemonSet-managed Pods', p);
        continue;
      }
    }
    if (p.metadata?.annotations?.['kubernetes.io/config.mirror']) continue;
    if (!finished && (p.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined) && !o.deleteEmptydirData) {
      add(errs, 'cannot delete Pods with local storage (use --delete-emptydir-data to override)', p);
      continue;
    }
    if (!ctrl && !finished) {
      // kubectl 1.32 prints this refusal with "cannot delete" twice.
      if (!o.force) { add(errs, 'cannot delete cannot delete Pods that declare no controller (use --force to override)', p); continue; }
      add(warns, 'deleting Pods that declare no controller', p);
    }
    evict.push(p);
  }
  const lines = (m: Map<string, string[]>): string[] => [...m].map(([msg, ps]) => `${msg}: ${ps.join(', ')}`);
  const errors = lines(errs);
  return { evict: errors.length ? [] : evict, warnings: lines(warns), errors };
}

/** The refusals of one node: kubectl aggregates them (`[a, b]` when several). */
class DrainErrors extends Error {
  constructor(readonly lines: string[]) {
    super(lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`);
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

async function drain(f: Factory, nodes: string[], o: DrainOptions): Promise<void> {
  if (!nodes.length && !o.selector) throw new CliError('USAGE: drain NODE [flags]', { usage: 'drain' });
  const dryRun = parseDryRun(o.dryRun);
  const grace = Number(o.gracePeriod);
  const timeoutMs = parseGoDuration(o.timeout);
  if (timeoutMs === undefined) throw new CliError(`invalid argument "${o.timeout}" for "--timeout" flag: time: invalid duration "${o.timeout}"`);
  const { targets, errors } = await resolveNodes(f, nodes, o.selector, 'drain');
  if (errors.length) {
    for (const e of errors) f.io.err.write(`${formatError(e, f.serverForMessages())}\n`);
    throw new ExitCode(1);
  }
  const pending: string[] = [];
  const failures: string[] = [];
  for (const t of targets) {
    await setUnschedulable(f, t, true, dryRun);
    try {
      await drainNode(f, t.name, o, dryRun, grace, timeoutMs);
      f.io.out.write(`node/${t.name} drained${dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : ''}\n`);
    } catch (err) {
      f.io.err.write(`error: unable to drain node "${t.name}" due to error: ${(err as Error).message}, continuing command...\n`);
      pending.push(t.name);
      failures.push(...(err instanceof DrainErrors ? err.lines : [(err as Error).message]));
    }
  }
  if (pending.length) {
    f.io.err.write(`There are pending nodes to be drained:\n${pending.map((n) => ` ${n}\n`).join('')}`);
    // kubectl prints the refusals one per line as they are.
    throw new CliError(failures.join('\n'), { raw: true });
  }
}

async function drainNode(f: Factory, node: string, o: DrainOptions, dryRun: DryRun, grace: number, timeoutMs: number): Promise<void> {
  const client = await f.client();
  const list = await client.request<{ items?: Pod[] }>('GET', '/api/v1/pods', {
    query: { fieldSelector: `spec.nodeName=${node}`, labelSelector: o.podSelector || undefined }, accept: 'application/json',
  });
  const { evict, warnings, errors } = await podsForDeletion(list.items ?? [], o, async (ns, name) => {
    try {
      await client.request('GET', `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/daemonsets/${encodeURIComponent(name)}`, { accept: 'application/json' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return err as Error;
      throw err;
    }
  });
  if (errors.length) throw new DrainErrors(errors);
  if (warnings.length) f.warn(warnings.join('; '));
  if (dryRun === 'client') {
    for (const p of evict) f.io.out.write(`evicting pod ${podKey(p)} (dry run)\n`);
    return;
  }
  const ac = new AbortController();
  const timer = timeoutMs ? setTimeout(() => ac.abort(), timeoutMs) : undefined;
  try {
    await Promise.all(evict.map((p) => evictPod(f, p, o, dryRun, grace, ac.signal)));
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (ac.signal.aborted) throw new CliError(`drain did not complete within ${o.timeout}`);
}

async function evictPod(f: Factory, p: Pod, o: DrainOptions, dryRun: DryRun, grace: number, signal: AbortSignal): Promise<void> {
  const client = await f.client();
  const ns = p.metadata?.namespace ?? '';
  const name = p.metadata?.name ?? '';
  const base = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
  const deleteOptions = { ...(grace >= 0 ? { gracePeriodSeconds: grace } : {}), ...(dryRun === 'server' ? { dryRun: ['All'] } : {}) };
  if (!o.disableEviction) f.io.out.write(`evicting pod ${ns}/${name}\n`);
  while (!signal.aborted) {
    try {
      if (o.disableEviction) {
        await client.request('DELETE', base, { body: deleteOptions, accept: 'application/json' });
      } else {
        await client.request('POST', `${base}/eviction`, {
          body: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name, namespace: ns, creationTimestamp: null }, deleteOptions },
          accept: 'application/json',
        });
      }
      break;
    } catch (err) {
      if (isNotFound(err)) break;
      if ((err as { code?: number }).code === 429) {
        f.io.err.write(`error when evicting pods/"${name}" -n "${ns}" (will retry after 5s): ${(err as Error).message}\n`);
        await sleep(5000, signal);
        continue;
      }
      throw new CliError(`error when evicting pods/"${name}" -n "${ns}": ${(err as Error).message}`, { cause: err });
    }
  }
  if (signal.aborted) return;
  if (dryRun === 'server') {
    f.io.out.write(`pod/${name} ${o.disableEviction ? 'deleted' : 'evicted'} (server dry run)\n`);
    return;
  }
  // Wait for the pod to be gone (or replaced by one of the same name), polling as kubectl does.
  while (!signal.aborted) {
    try {
      const cur = await client.request<Pod>('GET', base, { accept: 'application/json', signal });
      if (cur.metadata?.uid !== p.metadata?.uid) break;
    } catch (err) {
      if (signal.aborted) return;
      if (isNotFound(err)) break;
      throw err;
    }
    await sleep(1000, signal);
  }
  if (!signal.aborted) f.io.out.write(`pod/${name} ${o.disableEviction ? 'deleted' : 'evicted'}\n`);
}
