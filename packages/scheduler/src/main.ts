#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, LeaderElector, SCHEDULER_DEBUG_URL_ANNOTATION, SharedInformerFactory } from '@k8ts/api';
import { defaultProfile, loadProfile } from './plugins/registry.js';
import { debugUrl, schedulerHttpHandler } from './debug.js';
import { Scheduler } from './scheduler.js';

const program = new Command('k8ts-scheduler')
  .description('The k8ts scheduler: binds pending pods to nodes (filter and score plugins, as kube-scheduler\'s default profile).')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--config <file>', 'a KubeSchedulerConfiguration-like YAML: enabled/disabled plugins and score weights'))
  .addOption(new Option('--scheduler-name <name>', 'spec.schedulerName of the pods this scheduler takes').default('default-scheduler'))
  .addOption(new Option('--leader-elect <bool>', 'elect a leader through the kube-system/kube-scheduler Lease, so that several may run').default('true'))
  .addOption(new Option('--bind-address <ip>', 'address of the /healthz endpoint').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port of the /healthz endpoint (0 disables it)').env('SCHEDULER_PORT').default('10259'))
  .addOption(new Option('--advertise-address <host>', 'where the apiserver reaches this scheduler\'s /debug/scheduling when it leads (published on its Lease; default: --bind-address, or the hostname when that is a wildcard)'))
  .addOption(new Option('--scheduling-explained-pods <n>', 'how many pods\' last scheduling cycles /debug/scheduling keeps (0: none)').default('256'))
  .addOption(new Option('--kube-api-qps <qps>', 'client-side limit of requests per second to the apiserver (0: none; upstream defaults to 50)').default('0'))
  .addOption(new Option('--kube-api-burst <n>', 'requests allowed at once above --kube-api-qps (upstream defaults to 100)').default('100'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .parse();

const o = program.opts<Record<string, string>>();
const log = createLogger('scheduler', o.logLevel);

async function main(): Promise<void> {
  const clientOpts = { userAgent: 'kube-scheduler/v1.32.4 (k8ts)', log, qps: Number(o.kubeApiQps), burst: Number(o.kubeApiBurst) };
  const client = o.apiserver ? new ApiClient({ server: o.apiserver, ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig, clientOpts);
  const explainedPods = Number(o.schedulingExplainedPods);
  if (!Number.isSafeInteger(explainedPods) || explainedPods < 0) throw new Error(`--scheduling-explained-pods: want a non-negative integer, got ${JSON.stringify(o.schedulingExplainedPods)}`);
  const ac = new AbortController();
  // The endpoints answer /healthz from the start; /debug/scheduling once the scheduler exists.
  const made: { scheduler?: Scheduler } = {};
  const health = Number(o.port) ? createServer(schedulerHttpHandler(() => made.scheduler)) : undefined;
  if (health) await new Promise<void>((resolve, reject) => health.once('error', reject).listen(Number(o.port), o.bindAddress, resolve));
  const stop = (signal: string) => { log.info({ signal }, 'shutting down'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // As kube-scheduler: informers are started and synced before leader election, so a new leader starts warm.
  const informers = new SharedInformerFactory({ client, log });
  const profile = o.config ? loadProfile(readFileSync(o.config, 'utf8'), { informers }) : defaultProfile({ informers });
  const running = new Scheduler({ client, informers, profile, log, schedulerNames: [o.schedulerName], explainedPods });
  made.scheduler = running;
  informers.start(ac.signal);
  await informers.waitForCacheSync(ac.signal);
  const schedule = (signal: AbortSignal) => running.run(signal);
  if (o.leaderElect === 'false') {
    await schedule(ac.signal);
  } else {
    const annotations = health ? { [SCHEDULER_DEBUG_URL_ANNOTATION]: debugUrl(o.bindAddress, Number(o.port), o.advertiseAddress) } : undefined;
    const elector = new LeaderElector({ client, namespace: 'kube-system', name: 'kube-scheduler', identity: `${hostname()}_${randomUUID()}`, annotations, log });
    await elector.run(ac.signal, {
      onStartedLeading: (leading) => { log.info('became leader; scheduling'); return schedule(leading); },
      onStoppedLeading: () => { if (!ac.signal.aborted) { log.error('lost leadership; exiting so that a fresh process campaigns again'); process.exitCode = 1; ac.abort(); } },
      onNewLeader: (id) => log.info({ leader: id }, 'another scheduler leads'),
    });
  }
  health?.close();
  await informers.shutdown();
  await client.close();
}

main().catch((err: unknown) => {
  log.error({ err }, 'scheduler failed');
  process.exit(1);
});
