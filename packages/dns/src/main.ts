#!/usr/bin/env node
import { createServer } from 'node:http';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, ENDPOINTSLICES, hostAddress, PODS, SERVICES, SharedInformerFactory, type EndpointSlice, type Pod, type Service } from '@k8ts/api';
import { registerKubeDns } from './register.js';
import { DnsServer, Forwarder, hostNameservers } from './server.js';
import { ClusterZone, podIndexers, serviceIndexers, sliceIndexers } from './zone.js';

const root = process.getuid?.() === 0;
const program = new Command('k8ts-dns')
  .description('The k8ts cluster DNS server: Services, EndpointSlices and Pods as DNS records under the cluster domain (as CoreDNS\'s kubernetes plugin), other names forwarded to the host\'s resolvers.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--cluster-domain <domain>', 'the cluster domain served').default('cluster.local'))
  .addOption(new Option('--bind-address <ip>', 'address the DNS server listens on (UDP and TCP); pods must reach it').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'DNS port (53 when root, else 10053)').env('DNS_PORT').default(root ? '53' : '10053'))
  .addOption(new Option('--advertise-address <ip>', 'address written to the kube-dns endpoints (default: --bind-address; for a wildcard bind, the host\'s default interface\'s, as the apiserver does)'))
  .addOption(new Option('--register-service <bool>', 'create kube-system/kube-dns and point its Endpoints and EndpointSlice at this server').default('true'))
  .addOption(new Option('--service-ip <ip>', 'ClusterIP of the kube-dns Service when it is created').default('10.96.0.10'))
  .addOption(new Option('--upstream-nameservers <list>', 'comma-separated resolvers for names outside the cluster domain (default: /etc/resolv.conf\'s; "none": SERVFAIL at once)'))
  .addOption(new Option('--forward-timeout <ms>', 'budget of one forwarded query, after which the answer is SERVFAIL').default('1500'))
  .addOption(new Option('--cache-size <n>', 'cluster-zone answers kept until the next change of a Service, EndpointSlice or Pod (0 disables)').default('10000'))
  .addOption(new Option('--health-bind-address <ip>', 'address of /healthz, /readyz and /metrics').default('127.0.0.1'))
  .addOption(new Option('--health-port <port>', 'port of /healthz, /readyz and /metrics (0 disables it)').env('DNS_HEALTH_PORT').default('10054'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .parse();

const o = program.opts<Record<string, string>>();
const log = createLogger('dns', o.logLevel);

async function main(): Promise<void> {
  const clientOpts = { userAgent: 'k8ts-dns', log };
  const client = o.apiserver ? new ApiClient({ server: o.apiserver, ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig, clientOpts);
  const ac = new AbortController();
  const informers = new SharedInformerFactory({ client, log });
  const zone = new ClusterZone({
    domain: o.clusterDomain,
    services: informers.informerFor<Service>(SERVICES, { indexers: serviceIndexers }),
    slices: informers.informerFor<EndpointSlice>(ENDPOINTSLICES, { indexers: sliceIndexers }),
    pods: informers.informerFor<Pod>(PODS, { indexers: podIndexers }),
  });
  const self = (ns: string) => ns === o.bindAddress || ns === `${o.bindAddress}:${o.port}`;
  const upstreams = o.upstreamNameservers === 'none' ? [] : (o.upstreamNameservers ? o.upstreamNameservers.split(',').map((s) => s.trim()).filter(Boolean) : hostNameservers()).filter((ns) => !self(ns));
  const server = new DnsServer({ zone, log, cacheSize: Number(o.cacheSize), forwarder: new Forwarder({ nameservers: upstreams, timeoutMs: Number(o.forwardTimeout) }) });

  informers.start(ac.signal);
  let ready = false;
  const health = Number(o.healthPort) ? createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/metrics') {
      const s = server.stats;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end([
        '# TYPE k8ts_dns_requests_total counter', `k8ts_dns_requests_total ${s.queries}`,
        '# TYPE k8ts_dns_nxdomain_total counter', `k8ts_dns_nxdomain_total ${s.nxdomain}`,
        '# TYPE k8ts_dns_servfail_total counter', `k8ts_dns_servfail_total ${s.servfail}`,
        '# TYPE k8ts_dns_forwarded_total counter', `k8ts_dns_forwarded_total ${s.forwarded}`, '',
      ].join('\n'));
      return;
    }
    const ok = path === '/healthz' || (path === '/readyz' && ready);
    res.writeHead(ok ? 200 : path === '/readyz' ? 503 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
  }) : undefined;
  if (health) await new Promise<void>((resolve, reject) => health.once('error', reject).listen(Number(o.healthPort), o.healthBindAddress, resolve));
  const stop = (signal: string) => { log.info({ signal }, 'shutting down'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  // As CoreDNS: the zone is served only once the caches hold the cluster, never answering NXDOMAIN from an empty one.
  if (!(await informers.waitForCacheSync(ac.signal))) return;
  const port = await server.listen(o.bindAddress, Number(o.port));
  ready = true;
  log.info({ address: o.bindAddress, port, domain: o.clusterDomain, upstreams }, 'serving cluster DNS');
  if (o.registerService !== 'false') {
    const wildcard = o.bindAddress === '0.0.0.0' || o.bindAddress === '::';
    const address = o.advertiseAddress ?? (wildcard ? hostAddress() : o.bindAddress);
    for (let delay = 500; !ac.signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        await registerKubeDns(client, { address, port, clusterIP: o.serviceIp });
        log.info({ address, port, clusterIP: o.serviceIp }, 'kube-system/kube-dns points at this server');
        break;
      } catch (err) {
        log.warn({ err }, 'could not register kube-dns; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
  await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  health?.close();
  await informers.shutdown();
  await client.close();
}

main().catch((err: unknown) => {
  log.error({ err }, 'dns server failed');
  process.exit(1);
});
