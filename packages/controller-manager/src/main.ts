#!/usr/bin/env node
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, LeaderElector, SharedInformerFactory } from '@k8ts/api';
import { CONTROLLERS, enabledControllers, type ControllerContext } from './controllers.js';

const program = new Command('k8ts-controller-manager')
  .description('The k8ts controller manager: the control loops that keep the cluster as its objects say (ReplicaSets, …), one process, one leader.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--controllers <list>', `controllers to run: * (all), name to add, -name to remove; known: ${CONTROLLERS.map((c) => c.name).join(', ')}`).default('*'))
  .addOption(new Option('--kube-api-qps <n>', 'client-side rate limit on requests to the apiserver (upstream\'s default 20 would make a 1,000-replica Deployment take 50 s)').default('200'))
  .addOption(new Option('--kube-api-burst <n>', 'requests allowed at once above --kube-api-qps').default('300'))
  .addOption(new Option('--leader-elect <bool>', 'elect a leader through the kube-system/kube-controller-manager Lease, so that several may run').default('true'))
  .addOption(new Option('--bind-address <ip>', 'address of the /healthz endpoint').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port of the /healthz endpoint (0 disables it)').env('CONTROLLER_MANAGER_PORT').default('10257'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'));
for (const c of CONTROLLERS) {
  if (c.syncsFlag !== null) program.addOption(new Option(`--concurrent-${c.syncsFlag ?? c.name}-syncs <n>`, `workers of the ${c.name} controller`).default(String(c.defaultWorkers)));
  for (const opt of c.options ?? []) program.addOption(new Option(`--${opt.flag} <value>`, opt.description).default(opt.default));
}
program.parse();

const o = program.opts<Record<string, string>>();
const log = createLogger('controller-manager', o.logLevel);

async function main(): Promise<void> {
  const enabled = enabledControllers(o.controllers);
  const clientOpts = { userAgent: 'k8ts-controller-manager', log, qps: Number(o.kubeApiQps), burst: Number(o.kubeApiBurst) };
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
    const informers = new SharedInformerFactory({ client, log });
    const ctx: ControllerContext = {
      client, informers, log,
      workers: (name) => {
        const c = CONTROLLERS.find((d) => d.name === name);
        return c?.syncsFlag === null ? c.defaultWorkers : Number(o[`concurrent${camel(c?.syncsFlag ?? name)}Syncs`]);
      },
      option: (flag) => o[uncapitalize(camel(flag))],
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

function uncapitalize(s: string): string {
  return s[0].toLowerCase() + s.slice(1);
}

/** commander's option key for `--concurrent-<name>-syncs`. */
function camel(name: string): string {
  return name.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}

main().catch((err: unknown) => {
  log.error({ err }, 'controller manager failed');
  process.exit(1);
});
