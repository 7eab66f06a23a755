#!/usr/bin/env node
import { createServer, type Server } from 'node:http';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, SharedInformerFactory } from '@k8ts/api';
import { parseDuration, parseHostPort } from './flags.js';
import { DEFAULT_SERVICE_CIDR } from './iptables-rules.js';
import { acquireIptablesLock } from './host-lock.js';
import { checkIptables, IptablesProxier } from './iptables.js';
import { KubeProxy } from './kube-proxy.js';
import type { Proxier } from './proxier.js';
import { UserspaceProxier } from './userspace.js';

const isRoot = process.getuid?.() === 0;
const USERSPACE_NOTE = 'userspace mode serves NodePorts only: pods cannot reach ClusterIPs (no packet filter is programmed)';

const program = new Command('k8ts-kube-proxy')
  .description('The k8ts kube-proxy: routes Service NodePorts (and, in iptables mode, ClusterIPs) to ready endpoints from EndpointSlices.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--proxy-mode <mode>', `iptables (needs root: nat and filter rules, ClusterIPs and NodePorts) or userspace (${USERSPACE_NOTE}); default iptables as root, else userspace`)
    .choices(['iptables', 'userspace']).default(isRoot ? 'iptables' : 'userspace'))
  .addOption(new Option('--node-ip <ip>', 'this node\'s address: its NodePorts are served there').env('NODE_IP'))
  .addOption(new Option('--hostname-override <name>', 'the node name this kube-proxy serves (logged)'))
  .addOption(new Option('--nodeport-addresses <ips>', 'comma-separated addresses whose NodePorts are served (default 127.0.0.1 and --node-ip)'))
  .addOption(new Option('--iptables-min-sync-period <duration>', 'minimum time between syncs of the proxy rules (both modes)').default('1s'))
  .addOption(new Option('--sync-period <duration>', 'a full sync of the proxy rules at least this often').default('30s'))
  .addOption(new Option('--service-cluster-ip-range <cidr>', 'the service range: anything addressed there and not translated to an endpoint is rejected (iptables mode)').default(DEFAULT_SERVICE_CIDR))
  .addOption(new Option('--cluster-cidr <cidr>', 'the pod range: ClusterIP traffic from outside it is masqueraded (iptables mode)'))
  .addOption(new Option('--masquerade-all', 'masquerade all ClusterIP traffic (iptables mode)'))
  .addOption(new Option('--udp-timeout <duration>', 'idle time after which a UDP client\'s session ends (userspace mode)').default('250ms'))
  .addOption(new Option('--cleanup', 'remove every iptables rule and chain kube-proxy made, then exit'))
  .addOption(new Option('--healthz-bind-address <host:port>', '/healthz server (port 0 disables it)').default('127.0.0.1:10256'))
  .addOption(new Option('--metrics-bind-address <host:port>', '/metrics server (port 0 disables it)').default('127.0.0.1:10249'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .addHelpText('after', `\nNote: ${USERSPACE_NOTE}.`)
  .parse();

const o = program.opts<Record<string, string | boolean | undefined>>();
const log = createLogger('kube-proxy', String(o.logLevel));

function listen(server: Server, addr: string): Promise<Server | undefined> {
  const [host, port] = parseHostPort(addr);
  if (!port) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve(server)));
}

/** One iptables-mode kube-proxy (or --cleanup) per host at a time. */
async function lockIptables(): Promise<void> {
  try {
    await acquireIptablesLock();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new Error('another kube-proxy programs this host\'s iptables rules: run one per host, or use --proxy-mode userspace', { cause: err });
  }
}

async function main(): Promise<void> {
  if (o.cleanup) {
    await checkIptables();
    await lockIptables();
    await IptablesProxier.cleanup(log);
    return;
  }
  const minSyncPeriodMs = parseDuration(String(o.iptablesMinSyncPeriod));
  const syncPeriodMs = parseDuration(String(o.syncPeriod));
  const nodePortAddresses = o.nodeportAddresses
    ? String(o.nodeportAddresses).split(',').map((s) => s.trim()).filter(Boolean)
    : [...new Set(['127.0.0.1', ...(o.nodeIp ? [String(o.nodeIp)] : [])])];
  const mode = String(o.proxyMode);
  let proxier: Proxier;
  if (mode === 'iptables') {
    await checkIptables();
    await lockIptables();
    proxier = new IptablesProxier({
      nodePortAddresses, serviceCIDR: String(o.serviceClusterIpRange), clusterCIDR: o.clusterCidr ? String(o.clusterCidr) : undefined,
      masqueradeAll: o.masqueradeAll === true, log,
    });
    if (!o.clusterCidr && !o.masqueradeAll) log.warn('no --cluster-cidr: ClusterIP traffic from outside the pod range is not masqueraded');
  } else {
    proxier = new UserspaceProxier({ nodePortAddresses, log, udpIdleTimeoutMs: parseDuration(String(o.udpTimeout)) });
    log.warn(USERSPACE_NOTE);
  }
  log.info({ mode, nodePortAddresses, node: o.hostnameOverride, minSyncPeriodMs, syncPeriodMs }, `using the ${mode} proxier`);

  const clientOpts = { userAgent: 'kube-proxy/v1.32.4 (k8ts)', log };
  const client = o.apiserver ? new ApiClient({ server: String(o.apiserver), ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig ? String(o.kubeconfig) : undefined, clientOpts);
  const informers = new SharedInformerFactory({ client, log });
  const proxy = new KubeProxy({ informers, proxier, log, minSyncPeriodMs, syncPeriodMs });
  const handler = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(proxy.metricsText());
    } else if (path === '/healthz' || path === '/livez') {
      const ok = proxy.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ mode, lastUpdated: new Date(proxy.metrics.lastSyncTimestampSeconds * 1000).toISOString(), healthy: ok }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  const servers = [await listen(handler, String(o.healthzBindAddress))];
  if (o.metricsBindAddress !== o.healthzBindAddress) {
    servers.push(await listen(createServer((req, res) => handler.emit('request', req, res)), String(o.metricsBindAddress)));
  }
  const ac = new AbortController();
  const stop = (signal: string) => { log.info({ signal }, 'shutting down (rules stay in place)'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await proxy.run(ac.signal);
  for (const s of servers) s?.close();
  await informers.shutdown();
  await client.close();
}

main().catch((err: unknown) => {
  log.error({ err }, `kube-proxy failed: ${(err as Error).message}`);
  process.exit(1);
});
