#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger, hostAddress } from '@k8ts/api';
import { buildApp } from './app.js';

/** A flag that must be a non-negative integer (commander's argParser): anything else stops the server at start. */
function seconds(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return value;
}

const program = new Command('k8ts-apiserver')
  .description('The k8ts API server: Kubernetes REST API on HTTP, state in etcd.')
  .addOption(new Option('--etcd-servers <urls>', 'comma-separated etcd client URLs').env('ETCD_SERVERS').default('http://127.0.0.1:2379'))
  .addOption(new Option('--bind-address <ip>', 'address to listen on').env('APISERVER_BIND_ADDRESS').default('127.0.0.1'))
  .addOption(new Option('--advertise-address <ip>', 'address the kubernetes Service\'s Endpoints point at (default: the bind address; for 0.0.0.0, the host\'s default interface\'s, as upstream)').env('APISERVER_ADVERTISE_ADDRESS'))
  .addOption(new Option('--port <port>', 'port to listen on (plain HTTP)').env('APISERVER_PORT').default('6443'))
  .addOption(new Option('--etcd-compaction-interval <seconds>', 'compact etcd history this often; 0 disables').env('ETCD_COMPACTION_INTERVAL').default('300'))
  .addOption(new Option('--watch-cache-size <events>', 'events kept per resource for watch replay').default('10000'))
  .addOption(new Option('--max-requests-inflight <n>', 'non-watch requests served at once before 429').default('600'))
  .addOption(new Option('--default-not-ready-toleration-seconds <seconds>', 'tolerationSeconds of the toleration for node.kubernetes.io/not-ready:NoExecute that is added by default to every pod that does not already have such a toleration').argParser(seconds).default('300'))
  .addOption(new Option('--default-unreachable-toleration-seconds <seconds>', 'tolerationSeconds of the toleration for node.kubernetes.io/unreachable:NoExecute that is added by default to every pod that does not already have such a toleration').argParser(seconds).default('300'))
  .addOption(new Option('--service-account-signing-key-file <file>', 'PEM private key (RSA) that signs service-account tokens (serviceaccounts/<name>/token); default: a key made at start').env('SERVICE_ACCOUNT_SIGNING_KEY_FILE'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .parse();

const opts = program.opts<Record<string, string>>();
const log = createLogger('apiserver', opts.logLevel);

async function main(): Promise<void> {
  const app = await buildApp({
    etcdServers: opts.etcdServers.split(','),
    log,
    compactionIntervalMs: Number(opts.etcdCompactionInterval) * 1000,
    watchCacheSize: Number(opts.watchCacheSize),
    maxRequestsInflight: Number(opts.maxRequestsInflight),
    defaultNotReadyTolerationSeconds: Number(opts.defaultNotReadyTolerationSeconds),
    defaultUnreachableTolerationSeconds: Number(opts.defaultUnreachableTolerationSeconds),
    // As upstream: a wildcard bind advertises the address of the default route's interface (a container's own).
    advertiseAddress: opts.advertiseAddress ?? (['0.0.0.0', '::'].includes(opts.bindAddress) ? hostAddress() : undefined),
    serviceAccountSigningKeyFile: opts.serviceAccountSigningKeyFile,
  });
  const address = await app.listen({ host: opts.bindAddress, port: Number(opts.port) });
  log.info({ address }, 'apiserver listening');
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    app.close().then(() => process.exit(0), (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log.error({ err }, 'apiserver failed to start');
  process.exit(1);
});
