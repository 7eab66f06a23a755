// Process helpers shared by scripts/cluster.mjs and the integration tests: install and start etcd, start the
// apiserver, wait for health, stop by PID. Plain ESM with JSDoc types so it runs without a build step.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
/** The built apiserver entry point. */
export const APISERVER_MAIN = path.join(ROOT, 'packages/apiserver/dist/main.js');
export const KUBELET_MAIN = path.join(ROOT, 'packages/kubelet/dist/main.js');
export const SCHEDULER_MAIN = path.join(ROOT, 'packages/scheduler/dist/main.js');
export const CONTROLLER_MANAGER_MAIN = path.join(ROOT, 'packages/controller-manager/dist/main.js');
export const DNS_MAIN = path.join(ROOT, 'packages/dns/dist/main.js');
export const KUBE_PROXY_MAIN = path.join(ROOT, 'packages/kube-proxy/dist/main.js');
export const INGRESS_MAIN = path.join(ROOT, 'packages/ingress/dist/main.js');

/**
 * A process started by these helpers.
 * @typedef {object} Started
 * @property {number} pid
 * @property {import('node:child_process').ChildProcess} process
 * @property {string[]} argv the command line it was started with (argv[0] included), to recognise it later
 * @property {string} [logFile] where its stdout and stderr go
 * @property {() => string} logTail the last lines it wrote
 * @property {(options?: { graceMs?: number }) => Promise<void>} stop SIGTERM, SIGKILL after graceMs (5 s); resolves once it has exited
 */

/**
 * Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws, naming `what`).
 * Errors thrown by `fn` count as "not yet"; the last one is quoted in the timeout error. `signal` stops waiting.
 * @template T
 * @param {() => T | Promise<T>} fn
 * @param {{ timeoutMs?: number, intervalMs?: number, what?: string, signal?: AbortSignal }} [options]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(fn, { timeoutMs = 30_000, intervalMs = 100, what = 'condition', signal } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    let lastError;
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError });
    }
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch (err) {
      signal?.throwIfAborted();
      throw err;
    }
  }
}

/**
 * A TCP port that was free on `host` a moment ago.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer().unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether `port` on `host` can be listened on right now.
 * @param {number} port
 * @param {string} [host]
 * @returns {Promise<boolean>}
 */
export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer().unref();
    server.on('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * True when `url` answers 200 within `timeoutMs`.
 * @param {string} url
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export async function isHealthy(url, timeoutMs = 2_000) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * The etcd binary, installing Debian's etcd-server first (apt-get, as root or via sudo) when `etcd` is not on PATH.
 * @returns {string}
 */
export function ensureEtcd() {
  const found = which('etcd');
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !which('sudo')) {
    throw new Error('etcd is not installed and installing it needs root: run `apt-get install -y etcd-server` as root');
  }
  const sudo = isRoot ? [] : ['sudo'];
  for (const args of [['apt-get', 'update'], ['apt-get', 'install', '-y', 'etcd-server']]) {
    const [cmd, ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', ...args];
    process.stderr.write(`etcd not found: running ${[...sudo, ...args].join(' ')}\n`);
    // stdout goes to stderr so that the caller's stdout stays machine-readable.
    const res = spawnSync(cmd, rest, { stdio: ['inherit', process.stderr, 'inherit'] });
    if (res.status !== 0) {
      throw new Error(`\`${[...sudo, ...args].join(' ')}\` failed (${res.error?.message ?? `exit ${res.status}`})`);
    }
  }
  const installed = which('etcd') ?? (isExecutable('/usr/bin/etcd') ? '/usr/bin/etcd' : undefined);
  if (!installed) throw new Error('installed etcd-server but no etcd binary was found on PATH');
  return installed;
}

/**
 * Starts a single-member etcd on loopback and waits (30 s) until GET /health answers 200.
 * Free ports are picked when none are given. No automatic compaction: the apiserver compacts.
 * @param {{ dataDir: string, host?: string, clientPort?: number, peerPort?: number, logFile?: string,
 *           detached?: boolean, etcdPath?: string }} options
 * @returns {Promise<Started & { endpoint: string, clientPort: number, peerPort: number }>}
 */
export async function startEtcd({ dataDir, host = '127.0.0.1', clientPort, peerPort, logFile, detached = false,
                                  etcdPath = ensureEtcd() }) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dir = path.resolve(dataDir);
  return retryOnPortClash(clientPort === undefined || peerPort === undefined, async () => {
    const client = clientPort ?? await freePort(host);
    let peer = peerPort ?? await freePort(host);
    while (peer === client) peer = await freePort(host);
    await assertPortsFree(host, { client: clientPort, peer: peerPort });
    const endpoint = `http://${host}:${client}`;
    const peerUrl = `http://${host}:${peer}`;
    const started = await launch({
      name: 'etcd',
      command: etcdPath,
      args: [
        '--name', 'k8ts', '--data-dir', dir,
        '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `k8ts=${peerUrl}`, '--initial-cluster-state', 'new',
        '--quota-backend-bytes', String(4 * 1024 ** 3),
        '--logger', 'zap', '--log-outputs', 'stderr',
      ],
      logFile, detached,
      healthy: async () => {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) });
        const body = await res.json().catch(() => ({}));
        return res.status === 200 && body.health === 'true';
      },
    });
    return { ...started, endpoint, clientPort: client, peerPort: peer };
  });
}

/**
 * Starts the built apiserver (packages/apiserver/dist/main.js) and waits (30 s) until GET /readyz answers 200.
 * @param {{ etcdEndpoint: string, host?: string, port?: number, logFile?: string, detached?: boolean,
 *           main?: string, nodeArgs?: string[] }} options (nodeArgs go to node itself, e.g. `--cpu-prof`)
 * @returns {Promise<Started & { url: string, port: number }>}
 */
export async function startApiserver({ etcdEndpoint, host = '127.0.0.1', port, logFile, detached = false,
                                       main = APISERVER_MAIN, nodeArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(port === undefined, async () => {
    const p = port ?? await freePort(host);
    await assertPortsFree(host, { port });
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: 'apiserver',
      command: process.execPath,
      args: [...nodeArgs, main, '--etcd-servers', etcdEndpoint, '--bind-address', host, '--port', String(p)],
      logFile, detached,
      healthy: () => isHealthy(`${url}/readyz`),
    });
    return { ...started, url, port: p };
  });
}

/**
 * Starts the built scheduler (packages/scheduler/dist/main.js) and waits (30 s) until its /healthz answers.
 * @param {{ apiserverUrl: string, host?: string, port?: number, logFile?: string, detached?: boolean, main?: string, nodeArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number }>}
 */
export async function startScheduler({ apiserverUrl, host = '127.0.0.1', port, logFile, detached = false, main = SCHEDULER_MAIN, nodeArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(port === undefined, async () => {
    const p = port ?? await freePort(host);
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: 'scheduler',
      command: process.execPath,
      args: [...nodeArgs, main, '--apiserver', apiserverUrl, '--bind-address', host, '--port', String(p)],
      logFile, detached,
      healthy: () => isHealthy(`${url}/healthz`),
    });
    return { ...started, url, port: p };
  });
}

/**
 * Starts the built controller manager (packages/controller-manager/dist/main.js) and waits (30 s) until its
 * /healthz answers.
 * @param {{ apiserverUrl: string, host?: string, port?: number, logFile?: string, detached?: boolean, main?: string, extraArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number }>}
 */
export async function startControllerManager({ apiserverUrl, host = '127.0.0.1', port, logFile, detached = false, main = CONTROLLER_MANAGER_MAIN, extraArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(port === undefined, async () => {
    const p = port ?? await freePort(host);
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: 'controller-manager',
      command: process.execPath,
      args: [main, '--apiserver', apiserverUrl, '--bind-address', host, '--port', String(p), ...extraArgs],
      logFile, detached,
      healthy: () => isHealthy(`${url}/healthz`),
    });
    return { ...started, url, port: p };
  });
}

/**
 * Starts the built cluster DNS server (packages/dns/dist/main.js) on dnsAddress:dnsPort (UDP and TCP) with its
 * /healthz on host:port, and waits (30 s) until /readyz answers (its caches synced, the server listening).
 * @param {{ apiserverUrl: string, dnsAddress?: string, dnsPort?: number, host?: string, port?: number, logFile?: string,
 *           detached?: boolean, main?: string, extraArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number, dnsAddress: string, dnsPort: number }>}
 */
export async function startDns({ apiserverUrl, dnsAddress = '127.0.0.1', dnsPort, host = '127.0.0.1', port, logFile, detached = false,
                                 main = DNS_MAIN, extraArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(port === undefined || dnsPort === undefined, async () => {
    const p = port ?? await freePort(host);
    const d = dnsPort ?? await freePort(dnsAddress);
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: 'dns',
      command: process.execPath,
      args: [main, '--apiserver', apiserverUrl, '--bind-address', dnsAddress, '--port', String(d),
        '--health-bind-address', host, '--health-port', String(p), ...extraArgs],
      logFile, detached,
      healthy: () => isHealthy(`${url}/readyz`),
    });
    return { ...started, url, port: p, dnsAddress, dnsPort: d };
  });
}

/**
 * Starts the built kube-proxy (packages/kube-proxy/dist/main.js) and waits (30 s) until its /healthz answers (after
 * its first sync). `mode` iptables programs the host's tables (root); userspace listens on `nodePortAddresses`.
 * @param {{ apiserverUrl: string, mode: 'iptables' | 'userspace', nodePortAddresses: string[], nodeName?: string,
 *           nodeIP?: string, host?: string, port?: number, logFile?: string, detached?: boolean, main?: string,
 *           extraArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number }>}
 */
export async function startKubeProxy({ apiserverUrl, mode, nodePortAddresses, nodeName, nodeIP, host = '127.0.0.1', port, logFile,
                                       detached = false, main = KUBE_PROXY_MAIN, extraArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(port === undefined, async () => {
    const p = port ?? await freePort(host);
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: nodeName ? `kube-proxy ${nodeName}` : 'kube-proxy',
      command: process.execPath,
      args: [main, '--apiserver', apiserverUrl, '--proxy-mode', mode, '--nodeport-addresses', nodePortAddresses.join(','),
        ...(nodeName ? ['--hostname-override', nodeName] : []), ...(nodeIP ? ['--node-ip', nodeIP] : []),
        '--healthz-bind-address', `${host}:${p}`, '--metrics-bind-address', `${host}:${p}`, ...extraArgs],
      logFile, detached,
      healthy: () => isHealthy(`${url}/healthz`),
    });
    return { ...started, url, port: p };
  });
}

/**
 * Starts the built ingress controller (packages/ingress/dist/main.js): HTTP and HTTPS on 127.0.0.1 and each node
 * address, /healthz and /metrics on host:port; waits (30 s) until /healthz answers (caches synced, first
 * configuration in place). Ports left undefined (or 0) are picked free.
 * @param {{ apiserverUrl: string, nodeIPs?: string[], httpPort?: number, httpsPort?: number, host?: string, port?: number,
 *           logFile?: string, detached?: boolean, main?: string, extraArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number, httpPort: number, httpsPort: number }>}
 */
export async function startIngress({ apiserverUrl, nodeIPs = [], httpPort, httpsPort, host = '127.0.0.1', port, logFile, detached = false,
                                     main = INGRESS_MAIN, extraArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  return retryOnPortClash(!port || !httpPort || !httpsPort, async () => {
    const p = port || await freePort(host);
    const h = httpPort || await freePort('127.0.0.1');
    const s = httpsPort || await freePort('127.0.0.1');
    const url = `http://${host}:${p}`;
    const started = await launch({
      name: 'ingress',
      command: process.execPath,
      args: [main, '--apiserver', apiserverUrl, '--http-port', String(h), '--https-port', String(s),
        ...(nodeIPs.length ? ['--node-ip', nodeIPs.join(',')] : []), '--health-bind-address', `${host}:${p}`, ...extraArgs],
      logFile, detached,
      healthy: () => isHealthy(`${url}/healthz`),
    });
    return { ...started, url, port: p, httpPort: h, httpsPort: s };
  });
}

/**
 * Which kube-proxy mode a local cluster gets, and why: iptables as root when iptables works and no other
 * iptables-mode kube-proxy runs on this host (it holds the abstract socket `\0k8ts-kube-proxy-iptables`; two would
 * overwrite each other's rules) nor left its rules behind; userspace otherwise.
 * @returns {Promise<{ mode: 'iptables' | 'userspace', reason: string }>}
 */
export async function chooseProxyMode() {
  if (process.getuid?.() !== 0) return { mode: 'userspace', reason: 'not root' };
  const res = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return { mode: 'userspace', reason: `iptables does not work here (${res.error?.message ?? res.stderr.trim()})` };
  const lockFree = await new Promise((resolve) => {
    const probe = net.createServer().once('error', () => resolve(false)).listen('\0k8ts-kube-proxy-iptables', () => probe.close(() => resolve(true)));
  });
  if (!lockFree || /^:KUBE-SERVICES /m.test(res.stdout)) return { mode: 'userspace', reason: 'another kube-proxy already owns the host\'s iptables rules' };
  return { mode: 'iptables', reason: 'root' };
}

/**
 * Removes the iptables rules a kube-proxy left (`k8ts-kube-proxy --cleanup`).
 * @param {{ main?: string }} [options]
 */
export function cleanupKubeProxyRules({ main = KUBE_PROXY_MAIN } = {}) {
  const res = spawnSync(process.execPath, [main, '--cleanup'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`kube-proxy --cleanup failed: ${res.stderr.trim() || res.error?.message}`);
}

/**
 * Starts the built kubelet (packages/kubelet/dist/main.js) for one node and waits (30 s) until its /healthz
 * answers on nodeIP:port.
 * @param {{ apiserverUrl: string, nodeName: string, nodeIP: string, port: number, dockerSocket: string,
 *           rootDir: string, manifestDir?: string, logFile?: string, detached?: boolean, main?: string,
 *           extraArgs?: string[] }} options
 * @returns {Promise<Started & { url: string, port: number }>}
 */
export async function startKubelet({ apiserverUrl, nodeName, nodeIP, port, dockerSocket, rootDir, manifestDir, logFile,
                                     detached = false, main = KUBELET_MAIN, extraArgs = [] }) {
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  const url = `http://${nodeIP}:${port}`;
  const started = await launch({
    name: `kubelet ${nodeName}`,
    command: process.execPath,
    args: [main, '--apiserver', apiserverUrl, '--node-name', nodeName, '--node-ip', nodeIP, '--port', String(port),
      '--docker-socket', dockerSocket, '--root-dir', rootDir, ...(manifestDir ? ['--pod-manifest-path', manifestDir] : []), ...extraArgs],
    logFile, detached,
    healthy: () => isHealthy(`${url}/healthz`),
  });
  return { ...started, url, port };
}

/**
 * Whether `pid` is a live process (zombies count as gone).
 * @param {number} pid
 * @returns {boolean}
 */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code === 'ESRCH') return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the command name before it may hold spaces and parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * The command line of `pid` (argv, from /proc), or undefined when it is gone or unreadable.
 * @param {number} pid
 * @returns {string[] | undefined}
 */
export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is alive and still runs exactly the command line `argv` (so it is the process we started).
 * @param {number} pid
 * @param {string[]} argv
 * @returns {boolean}
 */
export function isSameProcess(pid, argv) {
  const actual = cmdline(pid);
  return isAlive(pid) && actual !== undefined && actual.length === argv.length && actual.every((a, i) => a === argv[i]);
}

/**
 * Stops `pid`: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited.
 * Callers make sure `pid` is theirs (see isSameProcess) before calling.
 * @param {number} pid
 * @param {{ graceMs?: number }} [options]
 * @returns {Promise<void>}
 */
export async function stopPid(pid, { graceMs = 5_000 } = {}) {
  const signal = (sig) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if (err.code !== 'ESRCH') throw err;
    }
  };
  const exited = (ms) => waitFor(() => !isAlive(pid), { timeoutMs: ms, intervalMs: 50, what: `pid ${pid} to exit` })
    .then(() => true, () => false);
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  if (await exited(graceMs)) return;
  signal('SIGKILL');
  if (!await exited(5_000)) throw new Error(`pid ${pid} did not exit after SIGKILL`);
}

/**
 * Writes a kubeconfig for `serverUrl` (atomically, mode 0600): cluster k8ts, user admin without credentials,
 * context k8ts, current-context k8ts.
 * @param {string} file
 * @param {string} serverUrl
 */
export function writeKubeconfig(file, serverUrl) {
  const text = `apiVersion: v1
kind: Config
clusters:
- name: k8ts
  cluster:
    server: ${JSON.stringify(serverUrl)}
users:
- name: admin
  user: {}
contexts:
- name: k8ts
  context:
    cluster: k8ts
    user: admin
current-context: k8ts
preferences: {}
`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The last `lines` lines of `file` (at most 16 KiB read), starting no earlier than byte `from`; '' when unreadable.
 * @param {string} file
 * @param {number} [lines]
 * @param {number} [from]
 * @returns {string}
 */
export function tailFile(file, lines = 30, from = 0) {
  try {
    const size = fs.statSync(file).size;
    const start = Math.max(from, size - 16 * 1024);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, size - start));
      fs.readSync(fd, buf, 0, buf.length, start);
      return lastLines(buf.toString('utf8'), lines);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

// Spawns a process with its output in logFile (appended) or kept in memory, and waits until `healthy()`.
// When the process exits first or the deadline passes, it is stopped and the error carries its last lines.
async function launch({ name, command, args, logFile, detached, healthy, timeoutMs = 30_000 }) {
  /** @type {'pipe' | 'ignore' | number} */
  let out = 'pipe';
  let logStart = 0;
  if (logFile) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const fd = fs.openSync(logFile, 'a');
    logStart = fs.fstatSync(fd).size;
    out = fd;
  } else if (detached) {
    out = 'ignore';
  }
  const child = spawn(command, args, { stdio: ['ignore', out, out], detached });
  if (typeof out === 'number') fs.closeSync(out);
  if (detached) child.unref();
  let output = '';
  const keep = (chunk) => { output = (output + chunk).slice(-16 * 1024); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const logTail = () => (logFile ? tailFile(logFile, 30, logStart) : lastLines(output, 30));

  const gone = new AbortController();
  child.once('error', (err) => gone.abort(new Error(`${name} could not be started: ${err.message}`)));
  // 'close' rather than 'exit': by then its piped output has been read, so the error shows its last words.
  child.once('close', (code, sig) => gone.abort(new Error(`${name} exited (${sig ?? `code ${code}`})`)));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  const stop = async ({ graceMs } = {}) => {
    if (hasExited()) return;
    await stopPid(child.pid, { graceMs });
    // Our own child: let Node reap it so that 'exit' listeners have run before we return.
    if (!hasExited()) await Promise.race([new Promise((r) => child.once('exit', r)), sleep(1_000)]);
  };

  try {
    await waitFor(healthy, { timeoutMs, what: `${name} to become healthy`, signal: gone.signal });
  } catch (err) {
    await stop();
    const where = logFile ? `last lines of ${logFile}` : 'last lines of its output';
    throw new Error(`${name} failed to start: ${err.message}\n--- ${where} ---\n${logTail() || '(no output)'}`, { cause: err });
  }
  return { pid: child.pid, process: child, argv: [command, ...args], logFile, logTail, stop };
}

// Checks ports the caller chose: an answer from another process on that port must not pass for our health.
async function assertPortsFree(host, ports) {
  for (const [what, port] of Object.entries(ports)) {
    if (port !== undefined && !await isPortFree(port, host)) throw new Error(`${what} port ${host}:${port} is already in use`);
  }
}

// Picking a free port and binding it are two steps, so a parallel process may win the port: retry then.
async function retryOnPortClash(portsPicked, start) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!portsPicked || attempt >= 3 || !/address already in use|EADDRINUSE/i.test(err.message)) throw err;
    }
  }
}

function lastLines(text, n) {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/**
 * The path of an executable on PATH, or undefined.
 * @param {string} cmd
 * @returns {string | undefined}
 */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir || '.', cmd);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

/**
 * Whether `file` is an executable regular file.
 * @param {string} file
 * @returns {boolean}
 */
export function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
