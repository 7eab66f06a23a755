#!/usr/bin/env node
import { hostname } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ApiClient, createLogger, hostAddress, SharedInformerFactory } from '@k8ts/api';
import { readHostResolvConf } from './dns.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { DockerStreaming } from './docker/streaming.js';
import { Kubelet } from './kubelet.js';
import { buildKubeletServer } from './server.js';
import { StatsCollector } from './stats.js';

const program = new Command('k8ts-kubelet')
  .description('The k8ts node agent: registers a Node, runs its pods as Docker containers, serves their logs.')
  .addOption(new Option('--kubeconfig <path>', 'kubeconfig to reach the apiserver').env('KUBECONFIG'))
  .addOption(new Option('--apiserver <url>', 'apiserver URL (instead of a kubeconfig)').env('K8TS_APISERVER'))
  .addOption(new Option('--node-name <name>', 'name of this node').env('NODE_NAME').default(hostname()))
  .addOption(new Option('--node-ip <ip>', "this node's InternalIP; the kubelet listens there").env('NODE_IP')
    .default(hostAddress(), "the host's default interface's address, as upstream"))
  .addOption(new Option('--port <port>', 'kubelet HTTP port (logs, stats)').env('KUBELET_PORT').default('10250'))
  .addOption(new Option('--docker-socket <path>', 'Docker Engine API socket').env('DOCKER_HOST').default('unix:///var/run/docker.sock'))
  .addOption(new Option('--pod-network <name>', 'Docker network pod sandboxes join').default('bridge'))
  .addOption(new Option('--root-dir <dir>', 'where pod volumes live').env('KUBELET_ROOT_DIR').default('/var/lib/k8ts-kubelet'))
  .addOption(new Option('--pod-manifest-path <dir>', 'directory of static pod manifests (run without the apiserver, mirrored into it)').env('KUBELET_POD_MANIFEST_PATH'))
  .addOption(new Option('--cluster-dns <ips>', 'comma-separated nameservers of ClusterFirst pods (the kube-dns Service); none: ClusterFirst pods get the host\'s').env('KUBELET_CLUSTER_DNS'))
  .addOption(new Option('--cluster-domain <domain>', 'the cluster domain, searched by ClusterFirst pods').default('cluster.local'))
  .addOption(new Option('--resolv-conf <file>', 'the resolv.conf of pods with dnsPolicy Default ("" for none)').default('/etc/resolv.conf'))
  .addOption(new Option('--backoff-initial <seconds>', 'first container restart back-off').default('10'))
  .addOption(new Option('--backoff-max <seconds>', 'largest container restart back-off').default('300'))
  .addOption(new Option('--cpu <quantity>', 'cpu capacity to report (default: the host\'s)'))
  .addOption(new Option('--memory <quantity>', 'memory capacity to report (default: the host\'s)'))
  .addOption(new Option('--max-pods <n>', 'pods capacity').default('110'))
  .addOption(new Option('--kube-api-qps <qps>', 'client-side limit of requests per second to the apiserver (0: none; upstream defaults to 50)').default('0'))
  .addOption(new Option('--kube-api-burst <n>', 'requests allowed at once above --kube-api-qps (upstream defaults to 100)').default('100'))
  .addOption(new Option('--cluster-name <name>', 'labels every container io.k8ts.cluster=<name> and sees only those: clusters whose node names clash can share one Docker engine (none: no such label, no filter)').env('K8TS_CLUSTER_NAME'))
  .addOption(new Option('--cleanup-on-exit', 'on SIGTERM/SIGINT, stop and remove the containers and sandboxes of this node\'s pods before exiting (each pod\'s grace period, at most --cleanup-grace-period); without it they keep running and the next kubelet adopts them'))
  .addOption(new Option('--cleanup-grace-period <seconds>', 'longest grace period a pod gets from --cleanup-on-exit').default('2'))
  .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
  .parse();

const o = program.opts<Record<string, string>>();
const cleanupOnExit = Boolean(program.opts().cleanupOnExit);
const log = createLogger('kubelet', o.logLevel).child({ node: o.nodeName });

async function main(): Promise<void> {
  const clientOpts = { userAgent: 'kubelet/v1.32.4 (k8ts)', log, qps: Number(o.kubeApiQps), burst: Number(o.kubeApiBurst) };
  const client = o.apiserver ? new ApiClient({ server: o.apiserver, ...clientOpts }) : ApiClient.fromKubeconfig(o.kubeconfig, clientOpts);
  const runtime = new DockerRuntime({ socket: o.dockerSocket, nodeName: o.nodeName, clusterName: o.clusterName, log });
  const informers = new SharedInformerFactory({ client, log });
  const kubelet = new Kubelet({
    client, informers, runtime, log, nodeName: o.nodeName, nodeIP: o.nodeIp, port: Number(o.port), network: o.podNetwork,
    rootDir: path.resolve(o.rootDir),
    dns: { clusterDNS: (o.clusterDns ?? '').split(',').map((s) => s.trim()).filter(Boolean), clusterDomain: o.clusterDomain, host: readHostResolvConf(o.resolvConf) },
    backoff: { initialMs: Number(o.backoffInitial) * 1000, maxMs: Number(o.backoffMax) * 1000 },
    ...(o.podManifestPath ? { podManifestPath: path.resolve(o.podManifestPath) } : {}),
    capacity: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}), pods: Number(o.maxPods) },
  });
  const stats = new StatsCollector({ runtime, nodeName: o.nodeName });
  const streaming = new DockerStreaming(runtime.docker, { log });
  const server = buildKubeletServer({ runtime, nodeName: o.nodeName, pod: (key) => kubelet.podFor(key), stats, streaming, log });
  await server.listen({ host: o.nodeIp, port: Number(o.port) });
  log.info({ address: `${o.nodeIp}:${o.port}`, docker: o.dockerSocket }, 'kubelet serving');
  const ac = new AbortController();
  const stop = (signal: string) => { log.info({ signal }, 'shutting down'); ac.abort(); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await kubelet.run(ac.signal);
  if (cleanupOnExit) {
    try {
      const pods = await kubelet.removeAllContainers(Number(o.cleanupGracePeriod));
      log.info({ pods }, 'removed the containers of this node\'s pods (--cleanup-on-exit)');
    } catch (err) {
      log.error({ err }, 'could not remove every container of this node\'s pods (--cleanup-on-exit)');
      process.exitCode = 1;
    }
  }
  await informers.shutdown();
  await server.close();
  await client.close();
}

main().catch((err: unknown) => {
  log.error({ err }, 'kubelet failed');
  process.exit(1);
});
