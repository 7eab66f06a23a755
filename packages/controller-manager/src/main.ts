#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient, createLogger, LeaderElector, SharedInformerFactory } from '@k8ts/api';
import { CONTROLLERS, enabledControllers, type ControllerContext } from './controllers.js';
import { parseDuration } from './duration.js';

/** commander argParser: a Go duration (`40s`, `1m0s`, `500ms`); anything else stops the process at start. */
function duration(value: string): string {
  try {
    parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** commander argParser: a non-negative number. */
function fraction(value: string): string {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('must be a non-negative number');
  return value;
}

const program = new Command('k8ts-controller-manager')
  .description('The k8ts controller manager: the control loops that keep the cluster as its objects say (Deployments, ReplicaSets, garbage collection, namespaces, node lifecycle and taint eviction, pod GC, …), one process, one leader.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--controllers <list>', `controllers to run: * (all), name to add, -name to remove; known: ${CONTROLLERS.map((c) => c.name).join(', ')}`).default('*'))
  .addOption(new Option('--kube-api-qps <n>', 'client-side rate limit on requests to the apiserver (upstream\'s default is 20: here 500, so that a 1,000-replica Deployment is limited by the apiserver, not by this client)').default('500'))
  .addOption(new Option('--kube-api-burst <n>', 'requests allowed at once above --kube-api-qps').default('1000'))
  .addOption(new Option('--leader-elect <bool>', 'elect a leader through the kube-system/kube-controller-manager Lease, so that several may run').default('true'))
  .addOption(new Option('--bind-address <ip>', 'address of the /healthz endpoint').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port of the /healthz endpoint (0 disables it)').env('CONTROLLER_MANAGER_PORT').default('10257'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'));
program
  .addOption(new Option('--node-monitor-period <duration>', 'how often the nodelifecycle controller checks node health').argParser(duration).default('5s'))
  .addOption(new Option('--node-monitor-grace-period <duration>', 'how long a node may go without renewing its Lease or posting status before it is marked Unknown').argParser(duration).default('40s'))
  .addOption(new Option('--node-startup-grace-period <duration>', 'how long a node that never posted status may stay silent before it is marked Unknown').argParser(duration).default('1m0s'))
  .addOption(new Option('--node-eviction-rate <qps>', 'nodes per second that get the NoExecute taint in a healthy zone').argParser(fraction).default('0.1'))
  .addOption(new Option('--secondary-node-eviction-rate <qps>', 'nodes per second that get the NoExecute taint in a large zone that is partially disrupted').argParser(fraction).default('0.01'))
  .addOption(new Option('--large-cluster-size-threshold <n>', 'zones with more nodes than this are large').argParser(fraction).default('50'))
  .addOption(new Option('--unhealthy-zone-threshold <fraction>', 'fraction of not-ready nodes (at least 3) that makes a zone partially disrupted').argParser(fraction).default('0.55'));
for (const c of CONTROLLERS) {
  if (c.syncsFlag !== null) program.addOption(new Option(`--concurrent-${c.syncsFlag ?? c.name}-syncs <n>`, `workers of the ${c.name} controller`).default(String(c.defaultWorkers)));
  for (const opt of c.options ?? []) program.addOption(new Option(`--${opt.flag} <value>`, opt.description).default(opt.default));
}
program.parse();

const o = program.opts<Record<string, string>>();
const log = createLogger('controller-manager', o.logLevel);

async function main(): Promise<void> {
  const enabled = enabledControllers(o.controllers);
  const clientOpts = { userAgent: 'kube-controller-manager/v1.32.4 (k8ts)', log, qps: Number(o.kubeApiQps), burst: Number(o.kubeApiBurst) };
  const client = o.apiserver ? new ApiClient({ server: o.apiserver, ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig, clientOpts);
  const ac = new AbortController();
  const health = Number(o.port) ? createServer((req, res) => {
    res.writeHead(req.url === '/healthz' || req.url === '/readyz' || req.url === '/livez' ? 200 : 404, { 'content-type': 'text/plain' }).end('ok');
  }) : undefined;
  if (health) await new Promise<void>((resolve, reject) => health.once('error', reject).listen(Number(o.port), o.bindAddress, resolve));
  const stop = (signal: string) => { log.info({ signal }, 'shutting down'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  const runAll = async (signal: AbortSignal) => {
    // Every informer, queue and worker of every controller listens on this one signal.
    setMaxListeners(0, signal);
    const informers = new SharedInformerFactory({ client, log });
    const ctx: ControllerContext = {
      client, informers, log,
      workers: (name) => {
        const c = CONTROLLERS.find((d) => d.name === name);
        return c?.syncsFlag === null ? c.defaultWorkers : Number(o[`concurrent${camel(c?.syncsFlag ?? name)}Syncs`]);
      },
      option: (flag) => o[uncapitalize(camel(flag))],
      nodeLifecycle: {
        nodeMonitorPeriodMs: parseDuration(o.nodeMonitorPeriod), nodeMonitorGracePeriodMs: parseDuration(o.nodeMonitorGracePeriod),
        nodeStartupGracePeriodMs: parseDuration(o.nodeStartupGracePeriod), nodeEvictionRate: Number(o.nodeEvictionRate),
        secondaryNodeEvictionRate: Number(o.secondaryNodeEvictionRate), largeClusterSizeThreshold: Number(o.largeClusterSizeThreshold),
        unhealthyZoneThreshold: Number(o.unhealthyZoneThreshold),
      },
    };
    const built = enabled.map((c) => ({ c, controller: c.build(ctx) }));
    informers.start(signal);
    log.info({ controllers: enabled.map((c) => c.name) }, 'starting controllers');
    await Promise.all(built.map(({ c, controller }) => controller.run(signal, ctx.workers(c.name))));
    await informers.shutdown();
  };
  if (o.leaderElect === 'false') {
    await runAll(ac.signal);
  } else {
    const elector = new LeaderElector({ client, namespace: 'kube-system', name: 'kube-controller-manager', identity: `${hostname()}_${randomUUID()}`, log });
    await elector.run(ac.signal, {
      onStartedLeading: (leading) => { log.info('became leader; running controllers'); return runAll(leading); },
      onStoppedLeading: () => { if (!ac.signal.aborted) { log.error('lost leadership; exiting so that a fresh process campaigns again'); process.exitCode = 1; ac.abort(); } },
      onNewLeader: (id) => log.info({ leader: id }, 'another controller manager leads'),
    });
  }
  health?.close();
  await client.close();
}

/** commander's option key for `--concurrent-<name>-syncs`. */
function camel(name: string): string {
  return name.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}

function uncapitalize(s: string): string {
  return s[0].toLowerCase() + s.slice(1);
}

main().catch((err: unknown) => {
  log.error({ err }, 'controller manager failed');
  process.exit(1);
});
