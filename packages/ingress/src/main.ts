#!/usr/bin/env node
import { createServer } from 'node:http';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, SharedInformerFactory } from '@k8ts/api';
import { CONTROLLER_NAME, IngressController } from './controller.js';
import { IngressProxy } from './proxy.js';
import { listenIngress } from './server.js';
import { CertificateStore, fakeCertificate } from './tls.js';

const isRoot = process.getuid?.() === 0;
const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

const program = new Command('k8ts-ingress')
  .description('The k8ts ingress controller: serves the Ingresses of its IngressClass (and those without a class while it is the default) over HTTP and HTTPS, straight to ready endpoints.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--ingress-class <name>', 'the IngressClass served').default('k8ts'))
  .addOption(new Option('--controller-class <name>', 'spec.controller of that IngressClass').default(CONTROLLER_NAME))
  .addOption(new Option('--no-create-default-class', 'do not create the IngressClass (marked default) when it is missing'))
  .addOption(new Option('--http-port <port>', 'HTTP port (0: any free one)').default(isRoot ? '80' : '8080'))
  .addOption(new Option('--https-port <port>', 'HTTPS port (0: any free one)').default(isRoot ? '443' : '8443'))
  .addOption(new Option('--node-ip <ips>', 'comma-separated node addresses: listened on, and published in Ingress status').env('NODE_IP'))
  .addOption(new Option('--bind-address <ips>', 'comma-separated addresses to listen on (default 127.0.0.1 and --node-ip)'))
  .addOption(new Option('--publish-status-address <ips>', 'comma-separated addresses written to status.loadBalancer.ingress (default --node-ip, else 127.0.0.1)'))
  .addOption(new Option('--proxy-connect-timeout <ms>', 'time to connect to an endpoint before trying the next').default('5000'))
  .addOption(new Option('--proxy-read-timeout <ms>', 'idle time on an upstream before answering 504').default('60000'))
  .addOption(new Option('--health-bind-address <host:port>', '/healthz and /metrics').default('127.0.0.1:10254'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .parse();

const o = program.opts<Record<string, string | boolean | undefined>>();
const log = createLogger('ingress', String(o.logLevel));

async function main(): Promise<void> {
  const nodeIPs = list(o.nodeIp as string | undefined);
  const addresses = o.bindAddress ? list(String(o.bindAddress)) : [...new Set(['127.0.0.1', ...nodeIPs])];
  const publish = o.publishStatusAddress ? list(String(o.publishStatusAddress)) : nodeIPs.length ? nodeIPs : ['127.0.0.1'];
  const clientOpts = { userAgent: 'k8ts-ingress', log };
  const client = o.apiserver ? new ApiClient({ server: String(o.apiserver), ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig ? String(o.kubeconfig) : undefined, clientOpts);
  const informers = new SharedInformerFactory({ client, log });
  const proxy = new IngressProxy({ log, connectTimeoutMs: Number(o.proxyConnectTimeout), readTimeoutMs: Number(o.proxyReadTimeout) });
  const certs = new CertificateStore(await fakeCertificate());
  const controller = new IngressController({
    client, informers, proxy, certs, className: String(o.ingressClass), controllerName: String(o.controllerClass),
    createClass: o.createDefaultClass !== false, publishAddresses: publish, log,
  });
  const listeners = await listenIngress({ proxy, certs, addresses, httpPort: Number(o.httpPort), httpsPort: Number(o.httpsPort) });
  log.info({ http: listeners.http, https: listeners.https, ingressClass: o.ingressClass, publish }, 'listening');

  const [hh, hp] = String(o.healthBindAddress).split(/:(?=\d+$)/);
  const health = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(proxy.metricsText([
        '# HELP k8ts_ingress_controller_config_reloads_total Times the configuration was rebuilt from the API.',
        '# TYPE k8ts_ingress_controller_config_reloads_total counter',
        `k8ts_ingress_controller_config_reloads_total ${controller.reloads}`,
      ]));
    } else if (path === '/healthz') {
      const ok = controller.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not synced yet');
    } else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  if (Number(hp)) await new Promise<void>((r, j) => health.once('error', j).listen(Number(hp), hh, () => r()));

  const ac = new AbortController();
  const stop = (signal: string) => { log.info({ signal }, 'shutting down'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await controller.run(ac.signal);
  health.close();
  await listeners.close();
  proxy.close();
  await informers.shutdown();
  await client.close();
}

main().catch((err: unknown) => {
  log.error({ err }, `ingress controller failed: ${(err as Error).message}`);
  process.exit(1);
});
