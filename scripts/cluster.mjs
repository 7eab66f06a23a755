// The local cluster launcher: `scripts/cluster up|down|status|env`. See `scripts/cluster --help`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ensureDockerEngine, ensureImages, findDockerEngine, networkGateway, networkSubnet, pingDocker, removeContainers } from './lib/docker.mjs';
import { followLogs, tailMerged, useColour } from './lib/logs.mjs';
import {
  APISERVER_MAIN, CONTROLLER_MANAGER_MAIN, DNS_MAIN, INGRESS_MAIN, KUBE_PROXY_MAIN, KUBELET_MAIN, ROOT, SCHEDULER_MAIN, chooseProxyMode,
  cleanupKubeProxyRules, cmdline, freePort, isAlive, isHealthy, isPortFree, isSameProcess, startApiserver, startEtcd,
  startControllerManager, startDns, startIngress, startKubeProxy, startKubelet, startScheduler, stopPid, writeKubeconfig,
} from './lib/processes.mjs';

const DEFAULT_STATE_DIR = path.join(ROOT, '.k8ts');
const DEFAULT_PORT = 6443;
const EXIT_DOWN = 3;
/** When this command started (the node process; `scripts/cluster` execs it at once). */
const commandStart = Math.round(performance.timeOrigin);

/**
 * The cluster's processes in order (stopped in reverse). `start(ctx)` starts one detached and healthy and may leave
 * values in ctx for the rows after it; a row starts as soon as the rows it names in `after` are up, so independent
 * ones start at once (the whole cluster comes up in the time of its longest chain: etcd, apiserver, DNS, kubelet); `healthPath` is what `status` asks (or `healthy(c)` when it is
 * not plain HTTP). A row whose start returns no `started` ran nothing of ours (a reused Docker engine).
 */
const BASE_COMPONENTS = [
  {
    name: 'etcd',
    healthPath: '/health',
    async start(ctx) {
      const etcd = await startEtcd({ dataDir: ctx.etcdDataDir, logFile: ctx.logFile('etcd'), detached: true });
      ctx.etcdEndpoint = etcd.endpoint;
      return { started: etcd, url: etcd.endpoint, ports: { client: etcd.clientPort, peer: etcd.peerPort } };
    },
  },
  {
    name: 'apiserver',
    healthPath: '/readyz',
    after: ['etcd'],
    async start(ctx) {
      const api = await startApiserver({
        etcdEndpoint: ctx.etcdEndpoint, port: ctx.apiserverPort, logFile: ctx.logFile('apiserver'), detached: true,
      });
      ctx.apiserverUrl = api.url;
      return { started: api, url: api.url, ports: { port: api.port } };
    },
  },
  {
    name: 'scheduler',
    healthPath: '/healthz',
    after: ['apiserver'],
    async start(ctx) {
      const sched = await startScheduler({ apiserverUrl: ctx.apiserverUrl, logFile: ctx.logFile('scheduler'), detached: true });
      return { started: sched, url: sched.url, ports: { port: sched.port } };
    },
  },
  {
    name: 'controller-manager',
    healthPath: '/healthz',
    after: ['apiserver'],
    async start(ctx) {
      // The local-path provisioner puts each node's volumes under that kubelet's root directory.
      const extraArgs = ['--local-path-dir', path.join(ctx.stateDir, 'kubelet', '{node}', 'local-path')];
      if (ctx.hpaSyncPeriod) extraArgs.push('--horizontal-pod-autoscaler-sync-period', ctx.hpaSyncPeriod);
      const cm = await startControllerManager({ apiserverUrl: ctx.apiserverUrl, logFile: ctx.logFile('controller-manager'), detached: true, extraArgs });
      return { started: cm, url: cm.url, ports: { port: cm.port } };
    },
  },
];

/** The Docker engine the kubelets use: the machine's own when one answers, else one we start (and stop on down). */
const DOCKER = {
  name: 'dockerd',
  healthy: (c) => pingDocker(c.url),
  async start(ctx) {
    const engine = await ensureDockerEngine();
    await ensureImages(engine.socket);
    ctx.dockerSocket = engine.socket;
    // The pods' addresses: kube-proxy masquerades ClusterIP traffic from outside them (its --cluster-cidr).
    ctx.podCidr = await networkSubnet(engine.socket).catch(() => undefined);
    // Whether the DNS server can listen where pods reach it (port 53 on the network's gateway): else the kubelets need
    // not wait for it.
    ctx.podGateway = await networkGateway(engine.socket).catch(() => undefined);
    ctx.dnsForPods = process.getuid?.() === 0 && Boolean(ctx.podGateway);
    if (!engine.startedByUs) return { url: engine.socket };
    const argv = cmdline(engine.pid) ?? [];
    return { started: { pid: engine.pid, argv, logFile: undefined, stop: engine.stop, process: undefined }, url: engine.socket };
  },
};

/**
 * The cluster DNS server, served as kube-system/kube-dns. With nodes it listens on the pod network's gateway (the
 * host's docker0 address, which pods reach) on port 53 when root, and the kubelets point ClusterFirst pods at it;
 * without root (no port 53), without nodes or with that port taken, on a free loopback port only.
 */
const DNS = {
  name: 'dns',
  healthPath: '/readyz',
  after: ['apiserver', 'dockerd'],
  async start(ctx) {
    const root = process.getuid?.() === 0;
    const gateway = ctx.podGateway;
    let dns;
    let why = !ctx.dockerSocket ? '' : !root ? 'port 53 needs root' : !gateway ? 'no pod network gateway' : '';
    if (root && gateway) {
      try {
        dns = await startDns({ apiserverUrl: ctx.apiserverUrl, dnsAddress: gateway, dnsPort: 53, logFile: ctx.logFile('dns'), detached: true });
        ctx.clusterDns = gateway;
      } catch (err) {
        if (!/EADDRINUSE|address already in use/i.test(err.message)) throw err;
        why = `${gateway}:53 is taken`;
      }
    }
    // Else on a free loopback port: names still resolve from the host (dig -p), not from pods.
    dns ??= await startDns({ apiserverUrl: ctx.apiserverUrl, logFile: ctx.logFile('dns'), detached: true });
    if (why) console.log(`  cluster DNS on ${dns.dnsAddress}:${dns.dnsPort}, which pods cannot reach (${why}): ClusterFirst pods use the host's resolvers`);
    return { started: dns, url: dns.url, ports: { port: dns.port, dns: dns.dnsPort } };
  },
};

/** One kubelet per node: node-N on its own loopback address 127.0.1.N, so nodes sharing a host never clash. */
function kubeletRow(i) {
  const nodeName = `node-${i}`;
  return {
    name: `kubelet-${nodeName}`,
    healthPath: '/healthz',
    // ClusterFirst pods need the DNS server's address, when pods can reach it at all (see DNS): then it comes first.
    after: (ctx) => (ctx.dnsForPods ? ['dns', 'dockerd'] : ['apiserver', 'dockerd']),
    // --cleanup-on-exit: its pods' containers go with it (pods get at most 2 s each), which takes a few seconds.
    stopGraceMs: 30_000,
    async start(ctx) {
      const k = await startKubelet({
        apiserverUrl: ctx.apiserverUrl, nodeName, nodeIP: `127.0.1.${i}`, port: ctx.kubeletPort, dockerSocket: ctx.dockerSocket,
        rootDir: path.join(ctx.stateDir, 'kubelet', nodeName), manifestDir: path.join(ctx.stateDir, 'manifests', nodeName),
        logFile: ctx.logFile(`kubelet-${nodeName}`), detached: true,
        // --cluster-name keeps this cluster's containers apart from other clusters' node-N on the same engine.
        extraArgs: ['--cluster-name', ctx.clusterName, '--cleanup-on-exit', ...(ctx.clusterDns ? ['--cluster-dns', ctx.clusterDns] : [])],
      });
      return { started: k, url: k.url, ports: { port: k.port } };
    },
  };
}

/**
 * kube-proxy: in iptables mode one for the host, whose tables every node shares (NodePorts on 127.0.0.1 and each
 * node address; its rules are removed on down); in userspace mode one per node on the node's own address (node-1's
 * also on 127.0.0.1), serving NodePorts only.
 */
function kubeProxyRows(nodes, mode) {
  const nodeIPs = Array.from({ length: nodes }, (_, i) => `127.0.1.${i + 1}`);
  if (mode === 'iptables') {
    return [{
      name: 'kube-proxy',
      healthPath: '/healthz',
      after: ['apiserver', 'dockerd'],
      afterStop: () => cleanupKubeProxyRules(),
      async start(ctx) {
        const p = await startKubeProxy({
          apiserverUrl: ctx.apiserverUrl, mode, nodePortAddresses: ['127.0.0.1', ...nodeIPs], logFile: ctx.logFile('kube-proxy'), detached: true,
          extraArgs: ctx.podCidr ? ['--cluster-cidr', ctx.podCidr] : [],
        });
        return { started: p, url: p.url, ports: { port: p.port } };
      },
    }];
  }
  return nodeIPs.map((nodeIP, i) => ({
    name: `kube-proxy-node-${i + 1}`,
    healthPath: '/healthz',
    after: ['apiserver', 'dockerd'],
    async start(ctx) {
      const p = await startKubeProxy({
        apiserverUrl: ctx.apiserverUrl, mode, nodeName: `node-${i + 1}`, nodeIP, host: nodeIP,
        nodePortAddresses: i === 0 ? ['127.0.0.1', nodeIP] : [nodeIP], logFile: ctx.logFile(`kube-proxy-node-${i + 1}`), detached: true,
      });
      return { started: p, url: p.url, ports: { port: p.port } };
    },
  }));
}

/**
 * The ingress controller: one for the host, on 127.0.0.1 and every node address (HTTP on --ingress-http-port,
 * HTTPS on --ingress-https-port), serving the IngressClass `k8ts`, which it creates marked default.
 */
function ingressRow(nodes) {
  return {
    name: 'ingress',
    healthPath: '/healthz',
    after: ['apiserver'],
    async start(ctx) {
      const nodeIPs = Array.from({ length: nodes }, (_, i) => `127.0.1.${i + 1}`);
      const i = await startIngress({
        apiserverUrl: ctx.apiserverUrl, nodeIPs, httpPort: ctx.ingressPorts.http, httpsPort: ctx.ingressPorts.https,
        logFile: ctx.logFile('ingress'), detached: true,
      });
      return { started: i, url: i.url, ports: { port: i.port, http: i.httpPort, https: i.httpsPort } };
    },
  };
}

/** Every row for a cluster of `nodes` kubelets and kube-proxies in `proxyMode`. */
function components(nodes, proxyMode = 'userspace') {
  return nodes > 0
    ? [...BASE_COMPONENTS, DOCKER, DNS, ...Array.from({ length: nodes }, (_, i) => kubeletRow(i + 1)), ...kubeProxyRows(nodes, proxyMode), ingressRow(nodes)]
    : [...BASE_COMPONENTS, DNS];
}

/** Runs a stopped row's afterStop (kube-proxy's rule cleanup), reporting rather than throwing. */
function afterStop(nodes, proxyMode, name) {
  const row = components(nodes, proxyMode).find((r) => r.name === name);
  try {
    if (row?.afterStop) { row.afterStop(); console.log(`removed the rules of ${name}`); }
  } catch (err) {
    console.error(`cluster: ${err.message}`);
  }
}

/** An error that is the user's to fix: printed without a stack trace. */
class UserError extends Error {}

function layout(stateDir) {
  const dir = path.resolve(stateDir);
  return {
    dir,
    etcdDataDir: path.join(dir, 'etcd'),
    logs: path.join(dir, 'logs'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    pids: path.join(dir, 'pids.json'),
    clusterName: clusterNameOf(dir),
    // How to address this state dir again in hints printed to the user.
    flag: dir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${shellQuote(dir)}`,
  };
}

/**
 * The cluster's name, from its state directory: the kubelets label their containers `io.k8ts.cluster=<name>`, so that
 * `down` and `clean` find exactly this cluster's and two clusters on one engine never touch each other's.
 */
function clusterNameOf(dir) {
  return `local-${createHash('sha256').update(dir).digest('hex').slice(0, 10)}`;
}

/** The rows a cluster runs on its nodes (stopped first, before its pod containers are swept). */
const isNodeRow = (name) => name.startsWith('kubelet-') || name.startsWith('kube-proxy') || name === 'ingress';

/**
 * Removes every container labelled with the cluster's name: whatever its kubelets' --cleanup-on-exit left (a kubelet
 * that crashed, or was killed). Reports rather than throws.
 */
async function sweepContainers(socket, clusterName) {
  try {
    const n = await removeContainers(socket, [`io.k8ts.cluster=${clusterName}`]);
    if (n) console.log(`removed ${n} pod container${n === 1 ? '' : 's'} the kubelets left`);
  } catch (err) {
    console.error(`cluster: could not remove the cluster's pod containers: ${err.message} (scripts/cluster clean retries)`);
  }
}

function readState(files) {
  try {
    return JSON.parse(fs.readFileSync(files.pids, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${files.pids}: ${err.message}`);
  }
}

function writeState(files, state) {
  const tmp = `${files.pids}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, files.pids);
}

/** Each recorded component with whether its PID still runs what we started and whether it answers healthy. */
function inspect(state) {
  return Promise.all(state.components.map(async (c) => {
    const row = components(state.nodes ?? 0, state.proxyMode).find((r) => r.name === c.name);
    if (c.pid === undefined) return { ...c, running: true, healthy: await row?.healthy?.(c) ?? false }; // not ours
    const running = isSameProcess(c.pid, c.argv);
    const healthy = running && (row?.healthy ? await row.healthy(c) : await isHealthy(`${c.url}${row?.healthPath ?? '/healthz'}`));
    return { ...c, running, healthy };
  }));
}

function printTable(rows) {
  const table = [['COMPONENT', 'PID', 'URL', 'HEALTHY'],
    // '-' for a component this script did not start (the machine's own Docker engine).
    ...rows.map((r) => [r.name, r.pid === undefined ? '-' : String(r.pid), r.url, r.healthy ? 'yes' : r.running ? 'no' : 'no (not running)'])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

async function up(opts, cmd) {
  const files = layout(opts.stateDir);
  const previous = readState(files);
  if (previous) {
    const rows = await inspect(previous);
    if (rows.some((r) => r.running)) {
      if (rows.every((r) => r.healthy)) {
        console.log(`k8ts is already up (state in ${files.dir}):`);
        printTable(rows);
        return 0;
      }
      printTable(rows);
      throw new UserError(`k8ts is partly up: run \`scripts/cluster${files.flag} down\`, then up again`);
    }
    fs.rmSync(files.pids); // left by a launcher that died: nothing it recorded runs any more
  }
  if (opts.build) buildIfStale();
  const apiserverPort = await choosePort(opts.port, cmd.getOptionValueSource('port') === 'default');

  fs.mkdirSync(files.logs, { recursive: true });
  const ctx = {
    etcdDataDir: files.etcdDataDir,
    stateDir: files.dir,
    clusterName: files.clusterName,
    apiserverPort,
    kubeletPort: opts.kubeletPort,
    ingressPorts: opts.nodes > 0 ? {
      http: await chooseIngressPort(opts.ingressHttpPort, process.getuid?.() === 0 ? 80 : 8080, 'HTTP'),
      https: await chooseIngressPort(opts.ingressHttpsPort, process.getuid?.() === 0 ? 443 : 8443, 'HTTPS'),
    } : {},
    hpaSyncPeriod: opts.horizontalPodAutoscalerSyncPeriod,
    logFile(name) {
      const file = path.join(files.logs, `${name}.log`);
      fs.appendFileSync(file, `--- ${new Date().toISOString()} scripts/cluster starts ${name} ---\n`);
      return file;
    },
  };
  const state = {
    mode: opts.detach ? 'detached' : 'foreground',
    launcher: { pid: process.pid, argv: cmdline(process.pid) ?? [] },
    startedAt: new Date().toISOString(),
    nodes: opts.nodes,
    proxyMode: 'userspace',
    clusterName: files.clusterName,
    components: [],
  };
  if (opts.nodes > 0) {
    const chosen = opts.proxyMode === 'auto' ? await chooseProxyMode() : { mode: opts.proxyMode, reason: 'asked' };
    state.proxyMode = chosen.mode;
    console.log(chosen.mode === 'iptables'
      ? `kube-proxy: iptables mode (${chosen.reason}): one kube-proxy programs the host's tables for every node; ClusterIPs and NodePorts work`
      : `kube-proxy: userspace mode (${chosen.reason}): one kube-proxy per node serves its NodePorts; pods cannot reach ClusterIPs in this mode`);
  }

  // Every child has its own process group, so a Ctrl-C in the terminal reaches only us and we stop them in order.
  const running = [];
  let phase = 'starting';
  const stopAll = async (code) => {
    phase = 'stopping';
    logView.abort();
    const stop = async ({ name, started }) => {
      if (started.process && (started.process.exitCode !== null || started.process.signalCode !== null)) return;
      console.log(`stopping ${name} (pid ${started.pid})`);
      const row = components(state.nodes, state.proxyMode).find((r) => r.name === name);
      await started.stop({ graceMs: row?.stopGraceMs }).catch((err) => console.error(`cluster: could not stop ${name}: ${err.message}`));
      afterStop(state.nodes, state.proxyMode, name);
    };
    // The nodes at once (each kubelet removes its pods' containers on the way out), then the control plane in order.
    const reversed = [...running].reverse();
    await Promise.all(reversed.filter((r) => isNodeRow(r.name)).map(stop));
    if (ctx.dockerSocket) await sweepContainers(ctx.dockerSocket, files.clusterName);
    for (const r of reversed.filter((x) => !isNodeRow(x.name))) await stop(r);
    fs.rmSync(files.pids, { force: true });
    process.exit(code);
  };
  const logView = new AbortController();
  const onSignal = (sig) => {
    if (phase === 'running') void stopAll(0);
    else if (phase === 'starting') {
      console.log(`${sig}: stopping once the component being started is up`);
      phase = 'interrupted';
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSignal);

  const rows = components(opts.nodes, state.proxyMode);
  const order = (list) => list.sort((a, b) => rows.findIndex((r) => r.name === a.name) - rows.findIndex((r) => r.name === b.name));
  const done = new Set();
  const inFlight = new Map();
  let failure;
  const startRow = (row) => row.start(ctx).then(({ started, url, ports }) => {
    if (started) {
      running.push({ name: row.name, started });
      order(running);
    }
    state.components.push({
      name: row.name, pid: started?.pid, url, ports, argv: started?.argv, logFile: started?.logFile, startedAt: new Date().toISOString(),
    });
    order(state.components);
    writeState(files, state); // after each start, so that `down` finds whatever is running should we die
    done.add(row.name);
  }, (err) => { failure ??= err; }).finally(() => inFlight.delete(row.name));
  while (!failure && phase !== 'interrupted') {
    for (const row of rows) {
      if (done.has(row.name) || inFlight.has(row.name)) continue;
      const after = typeof row.after === 'function' ? row.after(ctx) : row.after ?? [];
      if (!after.every((n) => done.has(n) || !rows.some((r) => r.name === n))) continue;
      console.log(`starting ${row.name}…`);
      inFlight.set(row.name, startRow(row));
    }
    if (!inFlight.size) break; // all started
    await Promise.race(inFlight.values());
  }
  await Promise.allSettled(inFlight.values()); // what is starting is up or has failed: then stopAll finds it
  if (failure) {
    console.error(`cluster: ${failure.message}`);
    await stopAll(1);
  }
  if (phase === 'interrupted') await stopAll(130);
  writeKubeconfig(files.kubeconfig, ctx.apiserverUrl);
  // Node Ready is what a user waits for: the kubelets are healthy by now, and register within moments.
  const ready = opts.nodes > 0 ? await waitForNodesReady(ctx.apiserverUrl, opts.nodes, 30_000) : undefined;
  printUp(files, state, { startedMs: commandStart, ready, logs: !opts.detach && opts.logs });
  if (opts.detach) return 0;

  phase = 'running';
  for (const { name, started } of running) {
    if (!started.process) continue; // dockerd runs in its own session; `down` stops it
    started.process.ref(); // keeps us attached for as long as they run
    started.process.once('exit', (code, sig) => {
      if (phase !== 'running') return;
      console.error(`cluster: ${name} exited unexpectedly (${sig ?? `code ${code}`}); last lines of its log:`);
      console.error(started.logTail());
      void stopAll(1);
    });
  }
  if (opts.logs) {
    // The merged view from here on; every line also stays in its component's file.
    void followLogs(logSources(files, state), { out: process.stdout, colour: useColour(process.stdout), signal: logView.signal });
  }
  return new Promise(() => {}); // stopAll exits the process
}

/** Each recorded component's log file, named as the component. */
function logSources(files, state) {
  return state.components.filter((c) => c.logFile).map((c) => ({ name: c.name, file: c.logFile }));
}

/**
 * Waits until `nodes` Nodes report Ready=True; the seconds since the command started, or undefined when they were not
 * all Ready by the deadline (up still succeeds: `kubectl get nodes` says why).
 */
async function waitForNodesReady(apiserverUrl, nodes, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${apiserverUrl}/api/v1/nodes`, { signal: AbortSignal.timeout(2_000) });
      const list = await res.json();
      const ready = (list.items ?? []).filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (ready.length >= nodes) return (Date.now() - commandStart) / 1000;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`not every node is Ready after ${timeoutMs / 1000} s: kubectl get nodes, and the kubelets' logs, say why`);
  return undefined;
}

function ingressLine(state) {
  const ports = state.components.find((c) => c.name === 'ingress')?.ports;
  return ports ? `\ningress:     http://127.0.0.1:${ports.http}, https://127.0.0.1:${ports.https} and on each node address (IngressClass k8ts, the default)` : '';
}

function printUp(files, state, { startedMs, ready, logs }) {
  const took = ready !== undefined ? `${state.nodes} node${state.nodes === 1 ? '' : 's'} Ready ${ready.toFixed(1)} s after the command`
    : `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
  console.log(`\nk8ts is up (${state.mode}; ${took}; state in ${files.dir})`);
  printTable(state.components.map((c) => ({ ...c, healthy: true })));
  console.log(`
logs:        ${files.logs}/{${state.components.map((c) => c.name).join(',')}}.log
etcd data:   ${files.etcdDataDir}
kubeconfig:  ${files.kubeconfig}
nodes:       ${state.nodes}${state.nodes ? ` (node-1…node-${state.nodes} on 127.0.1.1…127.0.1.${state.nodes}; static pod manifests in ${files.dir}/manifests/<node>/)` : ''}${state.nodes ? `
kube-proxy:  ${state.proxyMode} mode (NodePorts on 127.0.0.1 and each node address${state.proxyMode === 'iptables' ? '; ClusterIPs too' : '; pods cannot reach ClusterIPs'})` : ''}${ingressLine(state)}

Try, in another shell:
  export KUBECONFIG=${shellQuote(files.kubeconfig)}    # or: eval "$(scripts/cluster${files.flag} env)"
${state.nodes ? `  kubectl get nodes -o wide
  kubectl apply -f ${shellQuote(path.relative(process.cwd(), path.join(ROOT, 'examples/web.yaml')) || 'examples/web.yaml')}      # a Deployment of 2 and its Service
  kubectl get pods -n demo -o wide` : `  kubectl get --raw /readyz
  kubectl create configmap hello --from-literal=greeting=hi
  kubectl get configmaps`}
${state.mode === 'detached'
    ? `Logs: scripts/cluster${files.flag} logs -f (all, merged) or ${files.logs}/<component>.log. Stop it with: scripts/cluster${files.flag} down`
    : `Ctrl-C (or scripts/cluster${files.flag} down in another shell) stops it and removes its pods' containers.${logs ? ' The components\' logs follow, merged:' : ''}`}`);
}

/**
 * The ingress controller's port: as asked, else the default, or a free one when that is taken. 0 is left to
 * startIngress, which picks one and picks again when another process takes it before the controller listens.
 */
async function chooseIngressPort(asked, fallback, what) {
  if (asked === 0) return 0;
  const port = asked ?? fallback;
  if (await isPortFree(port)) return port;
  if (asked !== undefined) throw new UserError(`ingress ${what} port ${port} on 127.0.0.1 is in use: pass another --ingress-${what.toLowerCase()}-port (0 picks a free one)`);
  const free = await freePort();
  console.log(`port ${port} is in use: the ingress controller serves ${what} on ${free} instead`);
  return free;
}

/** The apiserver's port: as asked, or a free one when the default is taken; 0 (undefined) is left to startApiserver. */
async function choosePort(port, isDefault) {
  if (port === 0) return undefined;
  if (await isPortFree(port)) return port;
  if (!isDefault) throw new UserError(`port ${port} on 127.0.0.1 is in use: pass another --port (0 picks a free one)`);
  const free = await freePort();
  console.log(`port ${port} is in use: the apiserver listens on ${free} instead`);
  return free;
}

/** Runs `npm run build` when the apiserver's build is missing or older than the sources it is built from. */
function buildIfStale() {
  const reason = staleBuildReason();
  if (!reason) return;
  console.log(`building (${reason}): npm run build`);
  const res = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) {
    throw new UserError(`npm run build failed (${res.error?.message ?? `exit ${res.status}`}): fix it, or pass --no-build`);
  }
}

function staleBuildReason() {
  const rel = (file) => path.relative(ROOT, file);
  // tsc -b may leave main.js untouched when only a dependency changed; it then refreshes the tsbuildinfo.
  for (const [main, pkg] of [[APISERVER_MAIN, 'apiserver'], [KUBELET_MAIN, 'kubelet'], [SCHEDULER_MAIN, 'scheduler'], [CONTROLLER_MANAGER_MAIN, 'controller-manager'], [DNS_MAIN, 'dns'], [KUBE_PROXY_MAIN, 'kube-proxy'], [INGRESS_MAIN, 'ingress']]) {
    if (!fs.existsSync(main)) return `${rel(main)} is missing`;
    const dir = path.join(ROOT, 'packages', pkg);
    const built = Math.max(...[main, path.join(dir, 'tsconfig.tsbuildinfo'), path.join(dir, 'dist/tsconfig.tsbuildinfo')]
      .map((file) => fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0));
    for (const src of ['packages/api/src', `packages/${pkg}/src`].map((d) => path.join(ROOT, d))) {
      const entries = fs.existsSync(src) ? fs.readdirSync(src, { recursive: true }) : [];
      for (const entry of entries) {
        const file = path.join(src, entry);
        if (/(?<!\.test)(?<!\.d)\.ts$/.test(file) && fs.statSync(file).mtimeMs > built) {
          return `${rel(file)} is newer than ${rel(main)}`;
        }
      }
    }
  }
  return undefined;
}

async function down(opts) {
  const files = layout(opts.stateDir);
  const state = readState(files);
  if (!state) {
    console.log(`k8ts is not running (no ${files.pids})`);
    return 0;
  }
  // A foreground launcher stops its components itself, in order; whatever it leaves is stopped below.
  if (state.mode === 'foreground' && isSameProcess(state.launcher.pid, state.launcher.argv)) {
    console.log(`stopping the foreground launcher (pid ${state.launcher.pid})`);
    await stopPid(state.launcher.pid, { graceMs: 60_000 });
  }
  const rows = components(state.nodes ?? 0, state.proxyMode);
  const stop = async (c) => {
    if (c.pid === undefined) return; // not ours (a Docker engine that was already running)
    if (isSameProcess(c.pid, c.argv)) {
      console.log(`stopping ${c.name} (pid ${c.pid})`);
      await stopPid(c.pid, { graceMs: rows.find((r) => r.name === c.name)?.stopGraceMs });
      afterStop(state.nodes ?? 0, state.proxyMode, c.name);
    } else if (isAlive(c.pid)) {
      console.log(`pid ${c.pid} no longer runs ${c.name}: leaving it alone`);
    }
  };
  // The nodes at once (each kubelet removes its pods' containers on the way out), then the control plane in order.
  const reversed = [...state.components].reverse();
  await Promise.all(reversed.filter((c) => isNodeRow(c.name)).map(stop));
  const socket = state.components.find((c) => c.name === 'dockerd')?.url;
  if (socket && await pingDocker(socket)) await sweepContainers(socket, state.clusterName ?? files.clusterName);
  for (const c of reversed.filter((x) => !isNodeRow(x.name))) await stop(c);
  fs.rmSync(files.pids, { force: true });
  console.log(`k8ts is down (objects kept in ${files.dir}; \`scripts/cluster${files.flag} up\` resumes them, and their pods start again)`);
  return 0;
}

/** Removes the containers of this state dir's cluster (or, with --all, every container a k8ts kubelet made). */
async function clean(opts) {
  const files = layout(opts.stateDir);
  const state = readState(files);
  if (state && !opts.all && (await inspect(state)).some((r) => r.running && r.pid !== undefined)) {
    throw new UserError(`k8ts is up in ${files.dir}: \`scripts/cluster${files.flag} down\` stops it and removes its containers`);
  }
  const socket = state?.components.find((c) => c.name === 'dockerd')?.url ?? await findDockerEngine();
  if (!socket || !await pingDocker(socket)) {
    console.log('no Docker engine answers: no containers to remove');
    return 0;
  }
  const labels = opts.all ? ['io.kubernetes.pod.uid'] : [`io.k8ts.cluster=${state?.clusterName ?? files.clusterName}`];
  const n = await removeContainers(socket, labels);
  console.log(`removed ${n} container${n === 1 ? '' : 's'} ${opts.all ? 'made by k8ts kubelets (label io.kubernetes.pod.uid)' : `of the cluster in ${files.dir} (label ${labels[0]})`}`);
  return 0;
}

/** The merged, colourized view of the components' logs: the last --tail lines of each, then (-f) what follows. */
async function logs(names, opts) {
  const files = layout(opts.stateDir);
  const state = readState(files);
  let sources = state ? logSources(files, state)
    : (fs.existsSync(files.logs) ? fs.readdirSync(files.logs) : []).filter((f) => f.endsWith('.log'))
      .map((f) => ({ name: f.slice(0, -'.log'.length), file: path.join(files.logs, f) }));
  if (names.length) {
    const unknown = names.filter((n) => !sources.some((s) => s.name === n));
    if (unknown.length) throw new UserError(`no log of ${unknown.join(', ')} in ${files.logs} (there are: ${sources.map((s) => s.name).join(', ') || 'none'})`);
    sources = sources.filter((s) => names.includes(s.name));
  }
  if (!sources.length) throw new UserError(`no logs in ${files.logs}: \`scripts/cluster${files.flag} up\` first`);
  const colour = useColour(process.stdout);
  for (const line of tailMerged(sources, { lines: opts.tail, colour })) console.log(line);
  if (!opts.follow) return 0;
  const ac = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => ac.abort());
  await followLogs(sources, { out: process.stdout, colour, signal: ac.signal });
  return 0;
}

async function status(opts) {
  const files = layout(opts.stateDir);
  const state = readState(files);
  if (!state) {
    console.log(`k8ts is down (no ${files.pids})`);
    return EXIT_DOWN;
  }
  const rows = await inspect(state);
  printTable(rows);
  console.log(`\nmode: ${state.mode}, started ${state.startedAt}, nodes: ${state.nodes}, kubeconfig: ${files.kubeconfig}`);
  if (rows.every((r) => !r.running)) {
    console.log(`k8ts is down (nothing recorded in ${files.pids} runs any more)`);
    return EXIT_DOWN;
  }
  return rows.every((r) => r.healthy) ? 0 : 1;
}

function env(opts) {
  const files = layout(opts.stateDir);
  console.log(`export KUBECONFIG=${shellQuote(files.kubeconfig)}`);
  const docker = readState(files)?.components.find((c) => c.name === 'dockerd');
  if (docker) console.log(`export DOCKER_HOST=${shellQuote(docker.url)}`);
  return 0;
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function intArg(min) {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

const stateDirOption = () => new Option('--state-dir <dir>', 'directory holding the cluster state')
  .env('K8TS_STATE_DIR').default(DEFAULT_STATE_DIR, '<repo>/.k8ts');

const program = new Command('scripts/cluster')
  .description('Runs a local k8ts cluster as processes on this machine: etcd, apiserver, scheduler, controller-manager, cluster DNS, --nodes kubelets (node-N on 127.0.1.N), kube-proxy and the ingress controller, with a Docker engine when none answers.')
  .showHelpAfterError('(scripts/cluster --help, or scripts/cluster COMMAND --help, lists what it accepts)')
  // Accepted before the command as well (`scripts/cluster --state-dir DIR down`): the command's own wins.
  .option('--state-dir <dir>', 'directory holding the cluster state, for any command (or the command\'s own --state-dir)')
  .hook('preAction', (self, command) => {
    const dir = self.opts().stateDir;
    if (dir !== undefined && command.getOptionValueSource('stateDir') !== 'cli') command.setOptionValueWithSource('stateDir', dir, 'cli');
  })
  .addHelpText('after', `
State directory (--state-dir or K8TS_STATE_DIR, default <repo>/.k8ts):
  etcd/          etcd data; kept across down/up, so up resumes the same objects (their pods start again)
  logs/*.log     one log per component, appended across runs (scripts/cluster logs shows them merged)
  kubeconfig     points kubectl at the apiserver (cluster, context k8ts; user admin)
  kubelet/       each node's pod volumes and local-path volumes
  manifests/     each node's static pod manifests
  pids.json      PIDs, ports and start times of a running cluster; removed by down

Pod containers carry the label io.k8ts.cluster=local-<hash of the state dir>: down removes them (the kubelets run
with --cleanup-on-exit, and down removes whatever a killed kubelet left); a kubelet restarted alone adopts them.

Examples:
  scripts/cluster up                  start in the foreground, showing every component's log merged; Ctrl-C stops it
  scripts/cluster up --detach         start in the background and return once every node is Ready
  eval "$(scripts/cluster env)"       point kubectl at it
  scripts/cluster logs -f             follow the merged logs (or: scripts/cluster logs -f kubelet-node-1 apiserver)
  scripts/cluster status              exit 0 when all healthy, 1 when some are not, 3 when down
  scripts/cluster down                stop it and remove its pods' containers; up again resumes the same objects
  scripts/cluster clean               remove the pod containers a killed cluster left (--all: of every k8ts cluster)`);

program.command('up')
  .description('start etcd, the apiserver, the scheduler, the controller-manager, --nodes kubelets, kube-proxy and the ingress controller (with a Docker engine when none answers), building first if the build is stale; write the kubeconfig')
  .option('-d, --detach', 'run in the background (own process groups, output to logs/) and return once every node is Ready')
  .option('--no-logs', 'in the foreground, do not show the components\' logs (they still go to logs/*.log; `scripts/cluster logs -f` shows them)')
  .addOption(new Option('--port <port>', 'apiserver port; when the default is taken a free one is used, 0 always picks one')
    .default(DEFAULT_PORT).argParser(intArg(0)))
  .addOption(new Option('--kubelet-port <port>', 'port every kubelet serves on, at its node\'s own address').default(10250).argParser(intArg(1)))
  .addOption(new Option('--nodes <n>', 'number of kubelets (node-1…node-N on 127.0.1.1…); 0 runs the control plane only, without Docker')
    .default(2).argParser(intArg(0)))
  .addOption(new Option('--proxy-mode <mode>', 'kube-proxy mode: auto picks iptables as root (unless another kube-proxy owns the host\'s tables), else userspace')
    .choices(['auto', 'iptables', 'userspace']).env('K8TS_PROXY_MODE').default('auto'))
  .addOption(new Option('--ingress-http-port <port>', 'the ingress controller\'s HTTP port on 127.0.0.1 and each node address (default 80 as root, else 8080; 0 picks a free one)')
    .env('K8TS_INGRESS_HTTP_PORT').argParser(intArg(0)))
  .addOption(new Option('--ingress-https-port <port>', 'its HTTPS port (default 443 as root, else 8443; 0 picks a free one)')
    .env('K8TS_INGRESS_HTTPS_PORT').argParser(intArg(0)))
  .option('--horizontal-pod-autoscaler-sync-period <duration>', 'the controller-manager\'s HPA sync period (its default: 15s)')
  .option('--no-build', 'use packages/*/dist as it is instead of running `npm run build` when it is stale')
  .addOption(stateDirOption())
  .action(async (opts, cmd) => { process.exitCode = await up(opts, cmd); });

program.command('down')
  .description('stop the cluster recorded in pids.json (only processes this script started) and remove its pod containers, keeping its state (etcd data, logs)')
  .addOption(stateDirOption())
  .action(async (opts) => { process.exitCode = await down(opts); });

program.command('clean')
  .description('remove the pod containers of the cluster in --state-dir (label io.k8ts.cluster), e.g. after a kubelet was killed; --all: of every k8ts cluster on this engine')
  .option('--all', 'remove every container a k8ts kubelet made (label io.kubernetes.pod.uid), of any cluster, local or compose')
  .addOption(stateDirOption())
  .action(async (opts) => { process.exitCode = await clean(opts); });

program.command('logs')
  .description('show the components\' logs merged, a line each prefixed with its component (colours on a terminal; NO_COLOR / FORCE_COLOR); every component, or those named')
  .argument('[component...]', 'components to show, as `status` names them (etcd, apiserver, kubelet-node-1, …)')
  .option('-f, --follow', 'keep following the logs until Ctrl-C')
  .addOption(new Option('--tail <n>', 'lines of each log to show first').default(10).argParser(intArg(0)))
  .addOption(stateDirOption())
  .action(async (names, opts) => { process.exitCode = await logs(names, opts); });

program.command('status')
  .description('show each component: pid, url, healthy; exit 0 when all healthy, 1 when not, 3 when down')
  .addOption(stateDirOption())
  .action(async (opts) => { process.exitCode = await status(opts); });

program.command('env')
  .description('print shell exports for using the cluster: eval "$(scripts/cluster env)"')
  .addOption(stateDirOption())
  .action((opts) => { process.exitCode = env(opts); });

try {
  await program.parseAsync();
} catch (err) {
  console.error(`cluster: ${err instanceof UserError ? err.message : err.stack}`);
  process.exitCode = 1;
}
// Idle keep-alive sockets from the health checks must not hold the command open.
process.exit();
