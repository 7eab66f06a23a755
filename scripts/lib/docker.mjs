// Docker helpers shared by scripts and the integration tests: find (or start) the machine's one Docker engine and
// build the local images tests need (nothing can be pulled here). Plain ESM with JSDoc types, no build step.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT, cmdline, ensureEtcd, isAlive, isExecutable, isSameProcess, stopPid, tailFile, waitFor, which } from './processes.mjs';

/**
 * Where an engine we start keeps its state, socket, pid file and log. One well-known place for scripts and tests
 * alike, so that every run finds and reuses the engine a previous one started (DESIGN: one engine per machine).
 * Kept short: containerd's socket path under it must stay below the 108-byte unix socket limit.
 */
export const DOCKER_STATE_DIR = '/tmp/k8ts-docker';
/** The Engine API version every request names (Engine 20.10; newer engines still serve it). */
export const DOCKER_API_VERSION = 'v1.41';
/** The images `ensureImages` builds. */
export const IMAGES = { pause: 'k8ts/pause:latest', busybox: 'k8ts/busybox:latest' };

/**
 * Local stand-ins for the official base images of the k8ts Dockerfile, built from the host's own binaries by
 * `ensureBaseImages` where no registry answers (node:22-bookworm-slim, the official etcd image).
 */
export const BASE_IMAGES = { node: 'k8ts/node:local', etcd: 'k8ts/etcd:local' };

/** Label carrying a digest of an image's build context, so that a changed Dockerfile or binary rebuilds it. */
const CONTEXT_LABEL = 'io.k8ts.image.context';
const START_TIMEOUT_MS = 60_000;

/**
 * A Docker engine ready to answer.
 * @typedef {object} DockerEngine
 * @property {string} socket `unix:///path/to/docker.sock`
 * @property {boolean} startedByUs whether this call started it (a reused engine is never ours to stop)
 * @property {number} [pid] dockerd's pid, when started by us
 * @property {() => Promise<void>} stop stops the engine if this call started it; a no-op otherwise
 */

/**
 * Finds the machine's Docker engine or starts one, in this order: `DOCKER_HOST` (unix) if it answers;
 * /var/run/docker.sock; `<stateDir>/docker.sock` (an engine a previous run started); any other running dockerd's
 * unix socket (a second engine would fight the first over docker0 and iptables); else installs docker.io when
 * `dockerd` is missing and starts one detached on `<stateDir>/docker.sock`, waiting up to 60 s for it to answer.
 * Concurrent callers (parallel test files) start at most one engine. Progress goes to stderr.
 * @param {{ stateDir?: string }} [options]
 * @returns {Promise<DockerEngine>}
 */
export async function ensureDockerEngine({ stateDir = DOCKER_STATE_DIR } = {}) {
  const dir = path.resolve(stateDir);
  const found = await findEngine(dir);
  if (found) return reused(found);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const release = await lock(path.join(dir, 'start.lock'));
  try {
    // Another process may have started one while we waited for the lock.
    const again = await findEngine(dir);
    if (again) return reused(again);
    if (!findDockerd()) {
      aptInstall(['docker.io'], 'dockerd not found');
      // Where an init system runs, installing docker.io also starts the system's engine: use that one.
      const installed = await findEngine(dir);
      if (installed) return reused(installed);
    }
    return await startDockerd(dir);
  } finally {
    release();
  }
}

/**
 * The socket (`unix:///path`) of a Docker engine that answers, found as ensureDockerEngine finds one, without ever
 * starting one; undefined when none runs.
 * @param {{ stateDir?: string }} [options]
 * @returns {Promise<string | undefined>}
 */
export async function findDockerEngine({ stateDir = DOCKER_STATE_DIR } = {}) {
  const sock = await findEngine(path.resolve(stateDir));
  return sock ? `unix://${sock}` : undefined;
}

/**
 * Builds `k8ts/pause:latest` and `k8ts/busybox:latest` through the Engine API (`POST /build`, an in-memory tar
 * context) when missing or built from a different context. Installs busybox-static when /bin/busybox is not a
 * static binary, and gcc/libc6-dev when pause.c does not compile statically.
 * @param {string} socket `unix:///path` or a path
 * @returns {Promise<void>}
 */
export async function ensureImages(socket) {
  const sock = socketPath(socket);
  await ensureImage(sock, IMAGES.busybox, 'images/busybox', () => ({ busybox: { data: fs.readFileSync(staticBusybox()), mode: 0o755 } }));
  await ensureImage(sock, IMAGES.pause, 'images/pause', () => ({ pause: { data: compilePause(), mode: 0o755 } }));
}

/**
 * Builds the local base images (`BASE_IMAGES`) from this host's binaries, when missing or built from a different
 * context: `k8ts/node:local` holds the host's node with its libraries, the static busybox and the host's iptables;
 * `k8ts/etcd:local` the host's etcd and etcdctl in /usr/local/bin. Installs busybox-static and etcd-client when missing.
 * @param {string} socket `unix:///path` or a path
 * @returns {Promise<typeof BASE_IMAGES>}
 */
export async function ensureBaseImages(socket) {
  const sock = socketPath(socket);
  await ensureImage(sock, BASE_IMAGES.node, 'images/node', nodeRootfs);
  await ensureImage(sock, BASE_IMAGES.etcd, 'images/etcd', etcdRootfs);
  return BASE_IMAGES;
}

const ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet';

/**
 * net.ipv4.conf.all.route_localnet=1, which the compose kube-proxy (its /proc/sys read-only) needs for NodePorts on
 * 127.0.0.1; set as root, else a hint on stderr.
 * @returns {string | undefined} the value it had before (to put back), undefined when it could not be read
 */
export function ensureRouteLocalnet() {
  let before;
  try {
    before = fs.readFileSync(ROUTE_LOCALNET, 'utf8').trim();
    if (before === '1') return before;
    fs.writeFileSync(ROUTE_LOCALNET, '1');
    process.stderr.write('set net.ipv4.conf.all.route_localnet=1 (the compose kube-proxy serves NodePorts on 127.0.0.1)\n');
  } catch (err) {
    process.stderr.write(`could not set net.ipv4.conf.all.route_localnet=1 (${err.code ?? err.message}): NodePorts of the compose cluster need it on 127.0.0.1; run \`sudo sysctl -w net.ipv4.conf.all.route_localnet=1\`\n`);
  }
  return before;
}

/**
 * Puts route_localnet back to what ensureRouteLocalnet found.
 * @param {string | undefined} value
 */
export function restoreRouteLocalnet(value) {
  if (value !== undefined && value !== '1') fs.writeFileSync(ROUTE_LOCALNET, value);
}

/** @returns {Files} node, its libraries, busybox, iptables (binary, libraries, extensions), /etc/passwd and group. */
function nodeRootfs() {
  const node = fs.realpathSync(process.execPath);
  const xtables = fs.realpathSync(which('iptables-restore') ?? '/usr/sbin/iptables-restore');
  const extensionsDir = ['/usr/lib/x86_64-linux-gnu/xtables', '/usr/lib/aarch64-linux-gnu/xtables', '/usr/lib/xtables', '/lib/xtables']
    .find((d) => fs.existsSync(d));
  const extensions = extensionsDir ? fs.readdirSync(extensionsDir).filter((f) => f.endsWith('.so')).map((f) => path.join(extensionsDir, f)) : [];
  /** @type {Files} */
  const files = {
    'rootfs/usr/local/bin/node': { data: fs.readFileSync(node), mode: 0o755 },
    'rootfs/bin/busybox': { data: fs.readFileSync(staticBusybox()), mode: 0o755 },
    'rootfs/usr/sbin/xtables-multi': { data: fs.readFileSync(xtables), mode: 0o755 },
    'rootfs/etc/passwd': { data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'), mode: 0o644 },
    'rootfs/etc/group': { data: Buffer.from('root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n'), mode: 0o644 },
    // iptables reads these to name protocols; Debian's netbase.
    ...(['/etc/protocols', '/etc/services', '/etc/ethertypes'].filter((f) => fs.existsSync(f))
      .reduce((acc, f) => ({ ...acc, [`rootfs${f}`]: { data: fs.readFileSync(f), mode: 0o644 } }), {})),
  };
  for (const ext of extensions) files[`rootfs${ext}`] = { data: fs.readFileSync(ext), mode: 0o644 };
  for (const lib of sharedLibraries([node, xtables, ...extensions])) files[`rootfs${lib}`] = { data: fs.readFileSync(lib), mode: 0o755 };
  Object.assign(files, npmFiles());
  return files;
}

/**
 * The host's npm (plain JavaScript) under /usr/local/lib/node_modules/npm with an `npm` launcher, as the official
 * Node image has it: the image build prunes its dev dependencies with it. Nothing when the host has no npm.
 * @returns {Files}
 */
function npmFiles() {
  const cli = which('npm');
  if (!cli) return {};
  const dir = path.dirname(path.dirname(fs.realpathSync(cli))); // …/npm/bin/npm-cli.js
  if (!fs.existsSync(path.join(dir, 'package.json'))) return {};
  /** @type {Files} */
  const files = {
    'rootfs/usr/local/bin/npm': { data: Buffer.from('#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n'), mode: 0o755 },
  };
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      // Symbolic links are only node_modules/.bin entries of npm's own dependencies: not needed to run it.
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) files[`rootfs/usr/local/lib/node_modules/npm/${r}`] = { data: fs.readFileSync(path.join(dir, r)), mode: 0o644 | (fs.statSync(path.join(dir, r)).mode & 0o111) };
    }
  };
  walk('');
  return files;
}

/** @returns {Files} etcd and etcdctl in /usr/local/bin with their libraries. */
function etcdRootfs() {
  const etcd = fs.realpathSync(ensureEtcd());
  let etcdctl = which('etcdctl');
  if (!etcdctl) {
    aptInstall(['etcd-client'], 'etcdctl not found (the etcd image\'s health check uses it)');
    etcdctl = which('etcdctl') ?? '/usr/bin/etcdctl';
  }
  etcdctl = fs.realpathSync(etcdctl);
  /** @type {Files} */
  const files = {
    'rootfs/usr/local/bin/etcd': { data: fs.readFileSync(etcd), mode: 0o755 },
    'rootfs/usr/local/bin/etcdctl': { data: fs.readFileSync(etcdctl), mode: 0o755 },
    'rootfs/tmp/.keep': { data: Buffer.alloc(0), mode: 0o644 },
  };
  for (const lib of sharedLibraries([etcd, etcdctl])) files[`rootfs${lib}`] = { data: fs.readFileSync(lib), mode: 0o755 };
  return files;
}

/**
 * The shared libraries (and the program interpreter) `ldd` lists for `binaries`, as the paths they are loaded from.
 * @param {string[]} binaries
 * @returns {string[]}
 */
function sharedLibraries(binaries) {
  const libs = new Set();
  for (const bin of binaries) {
    if (isStaticElf(bin)) continue;
    const res = spawnSync('ldd', [bin], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`ldd ${bin} failed: ${res.error?.message ?? res.stderr.trim()}`);
    for (const line of res.stdout.split('\n')) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  return [...libs].sort();
}

/**
 * The docker compose command: `docker compose` (v2) when the docker CLI has it, else `docker-compose` (Debian's
 * 1.29), installing Debian's docker-compose (apt, as root or via sudo) when neither is there.
 * @returns {string[]} the command and its leading arguments
 */
export function ensureCompose() {
  const found = findCompose();
  if (found) return found;
  aptInstall(['docker-compose'], 'neither `docker compose` nor docker-compose found');
  const installed = findCompose();
  if (!installed) throw new Error('installed docker-compose but found no docker-compose on PATH');
  return installed;
}

function findCompose() {
  const docker = which('docker');
  if (docker && spawnSync(docker, ['compose', 'version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return [docker, 'compose'];
  const v1 = which('docker-compose');
  return v1 ? [v1] : undefined;
}

/**
 * Whether a Docker engine answers `GET /_ping` on `socket` within `timeoutMs`.
 * @param {string} socket `unix:///path` or a path
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export async function pingDocker(socket, timeoutMs = 2_000) {
  try {
    const res = await dockerApi(socketPath(socket), 'GET', '/_ping', { timeoutMs });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * The gateway address of a Docker network (the host's side of the `bridge` network: docker0's address), which
 * containers on it reach the host at; undefined when the network has none.
 * @param {string} socket
 * @param {string} [network]
 * @returns {Promise<string | undefined>}
 */
export async function networkGateway(socket, network = 'bridge') {
  const res = await dockerApi(socketPath(socket), 'GET', `/networks/${encodeURIComponent(network)}`, { timeoutMs: 5_000 });
  if (res.status !== 200) return undefined;
  const body = JSON.parse(res.body.toString());
  const gateway = body?.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
  if (gateway) return gateway;
  // An engine may list the default bridge's subnet without its gateway: that is the bridge interface's own address.
  const bridge = body?.Options?.['com.docker.network.bridge.name'];
  const own = bridge ? interfaceAddress(bridge) : undefined;
  if (own) return own;
  // Else Docker's default: the subnet's first address.
  const subnet = body?.IPAM?.Config?.find((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c.Subnet ?? ''))?.Subnet;
  if (!subnet) return undefined;
  const [base] = subnet.split('/');
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * An interface's IPv4 address. os.networkInterfaces() leaves out interfaces that are down, and a bridge with no
 * container attached has no carrier (docker0 on a fresh engine): `ip` lists it all the same.
 * @param {string} name
 * @returns {string | undefined}
 */
function interfaceAddress(name) {
  const up = os.networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address;
  if (up) return up;
  const res = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  return res.status === 0 ? /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(res.stdout)?.[1] : undefined;
}

/**
 * The IPv4 subnet of a Docker network (the pods' addresses on the `bridge` network: kube-proxy's --cluster-cidr);
 * undefined when the network has none.
 * @param {string} socket
 * @param {string} [network]
 * @returns {Promise<string | undefined>}
 */
export async function networkSubnet(socket, network = 'bridge') {
  const res = await dockerApi(socketPath(socket), 'GET', `/networks/${encodeURIComponent(network)}`, { timeoutMs: 5_000 });
  if (res.status !== 200) return undefined;
  const body = JSON.parse(res.body.toString());
  return body?.IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(':'))?.Subnet;
}

/**
 * The containers (running or not) carrying every one of `labels` (`key` or `key=value`), as the Engine API lists them.
 * @param {string} socket
 * @param {string[]} labels
 * @returns {Promise<{ Id: string, Names: string[], State: string, Labels: Record<string, string> }[]>}
 */
export async function listContainers(socket, labels) {
  const filters = encodeURIComponent(JSON.stringify({ label: labels }));
  const res = await dockerApi(socketPath(socket), 'GET', `/containers/json?all=true&filters=${filters}`, { timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`listing containers: the engine answered ${res.status}: ${res.body.toString().trim()}`);
  return JSON.parse(res.body.toString());
}

/**
 * Removes (forcibly: running ones are killed) every container carrying all of `labels`; returns how many it removed.
 * Pod containers first and sandboxes (`io.kubernetes.docker.type=podsandbox`) last, as a kubelet does.
 * @param {string} socket
 * @param {string[]} labels
 * @returns {Promise<number>}
 */
export async function removeContainers(socket, labels) {
  const found = await listContainers(socket, labels);
  const sandbox = (c) => c.Labels?.['io.kubernetes.docker.type'] === 'podsandbox';
  let removed = 0;
  for (const batch of [found.filter((c) => !sandbox(c)), found.filter(sandbox)]) {
    await Promise.all(batch.map(async (c) => {
      const res = await dockerApi(socketPath(socket), 'DELETE', `/containers/${c.Id}?force=true&v=true`, { timeoutMs: 30_000 });
      // 404: gone meanwhile; 409: a removal of it is already in progress.
      if (res.status === 204 || res.status === 404 || res.status === 409) { if (res.status === 204) removed++; return; }
      throw new Error(`removing container ${c.Names?.[0] ?? c.Id}: the engine answered ${res.status}: ${res.body.toString().trim()}`);
    }));
  }
  return removed;
}

/**
 * The filesystem path of a Docker socket given as `unix:///path` or as a path.
 * @param {string} socket
 * @returns {string}
 */
export function socketPath(socket) {
  if (socket.startsWith('unix://')) return socket.slice('unix://'.length);
  if (/^[a-z]+:\/\//.test(socket)) throw new Error(`${socket}: only unix sockets are supported`);
  return socket;
}

// --- finding and starting the engine ---

/** @param {string} sock */
function reused(sock) {
  return { socket: `unix://${sock}`, startedByUs: false, stop: async () => {} };
}

/**
 * The socket of an engine that answers, waiting for a dockerd that is still starting; undefined when none runs.
 * @param {string} dir
 * @returns {Promise<string | undefined>}
 */
async function findEngine(dir) {
  const host = process.env.DOCKER_HOST;
  const candidates = [
    ...(host?.startsWith('unix://') ? [socketPath(host)] : []),
    '/var/run/docker.sock',
    path.join(dir, 'docker.sock'),
  ];
  for (const sock of candidates) if (await pingDocker(sock)) return sock;
  const running = runningDockerds();
  if (!running.length) return undefined;
  // A dockerd runs but did not answer yet: it may be starting (a parallel run launched it). Give it the start timeout.
  const sockets = running.flatMap((d) => d.sockets);
  const pids = running.map((d) => d.pid).join(', ');
  if (!sockets.length) throw new Error(`a dockerd (pid ${pids}) runs without a unix socket: set DOCKER_HOST to reach it; not starting a second engine`);
  const what = `the running dockerd (pid ${pids}) to answer on ${sockets.join(' or ')}`;
  return waitFor(async () => {
    for (const sock of sockets) if (await pingDocker(sock)) return sock;
    if (!runningDockerds().length) throw new Error('it exited');
    return undefined;
  }, { timeoutMs: START_TIMEOUT_MS, intervalMs: 250, what }).catch((err) => {
    throw new Error(`${err.message}; not starting a second engine (two fight over docker0): stop it or set DOCKER_HOST`, { cause: err });
  });
}

/**
 * Every live dockerd on this machine with the unix sockets its command line names (default /var/run/docker.sock).
 * @returns {{ pid: number, sockets: string[] }[]}
 */
function runningDockerds() {
  let pids = [];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);
  } catch {
    return [];
  }
  return pids.flatMap((pid) => {
    const argv = cmdline(pid);
    if (!argv?.length || path.basename(argv[0]) !== 'dockerd' || !isAlive(pid)) return [];
    const hosts = [];
    argv.forEach((arg, i) => {
      const m = /^(?:-H|--host)(?:=(.*))?$/.exec(arg);
      if (m) hosts.push(m[1] ?? argv[i + 1] ?? '');
    });
    const sockets = hosts.length ? hosts.filter((h) => h.startsWith('unix://')).map(socketPath) : ['/var/run/docker.sock'];
    return [{ pid, sockets }];
  });
}

/**
 * Starts dockerd detached (own session, output to dockerd.log) on `<dir>/docker.sock` and waits until it answers.
 * @param {string} dir
 * @returns {Promise<DockerEngine>}
 */
async function startDockerd(dir) {
  const dockerd = findDockerd();
  if (!dockerd) throw new Error('installed docker.io but found no dockerd binary');
  const sock = path.join(dir, 'docker.sock');
  const pidFile = path.join(dir, 'docker.pid');
  const logFile = path.join(dir, 'dockerd.log');
  // An engine killed without cleanup leaves these behind, and dockerd refuses to start over a live-looking pid file.
  // It would also wait for a containerd whose pid file names a dead (or zombie) process.
  for (const stale of [sock, pidFile]) fs.rmSync(stale, { force: true });
  const containerdPid = path.join(dir, 'exec/containerd/containerd.pid');
  const old = readPid(containerdPid);
  if (old !== undefined && !isAlive(old)) fs.rmSync(containerdPid, { force: true });
  const argv = [dockerd, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
    '-H', `unix://${sock}`, '--pidfile', pidFile];
  const [command, ...args] = [...sudo(), ...argv];
  process.stderr.write(`no Docker engine answers: starting ${argv.join(' ')} (log: ${logFile})\n`);
  const out = fs.openSync(logFile, 'a');
  const logStart = fs.fstatSync(out).size;
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.unref();
  const gone = new AbortController();
  child.once('error', (err) => gone.abort(new Error(`dockerd could not be started: ${err.message}`)));
  child.once('exit', (code, sig) => gone.abort(new Error(`dockerd exited (${sig ?? `code ${code}`})`)));
  try {
    await waitFor(() => pingDocker(sock), { timeoutMs: START_TIMEOUT_MS, intervalMs: 200, what: `dockerd to answer on ${sock}`, signal: gone.signal });
  } catch (err) {
    const pid = readPid(pidFile) ?? child.pid;
    if (pid && isSameProcess(pid, argv)) await stopDockerd(pid);
    const why = gone.signal.aborted ? gone.signal.reason.message : err.message;
    throw new Error(`dockerd failed to start: ${why}\n--- last lines of ${logFile} ---\n${tailFile(logFile, 30, logStart) || '(no output)'}`, { cause: err });
  }
  // Under sudo the child is sudo; the pid file names dockerd itself.
  const pid = readPid(pidFile) ?? /** @type {number} */ (child.pid);
  process.stderr.write(`dockerd (pid ${pid}) answers on unix://${sock}\n`);
  return {
    socket: `unix://${sock}`, startedByUs: true, pid,
    stop: async () => { if (isSameProcess(pid, argv)) await stopDockerd(pid); },
  };
}

/** The dockerd binary (/usr/sbin is not on every user's PATH). */
function findDockerd() {
  return which('dockerd') ?? (isExecutable('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : undefined);
}

/**
 * SIGTERM dockerd (it stops its containers first, hence the long grace), SIGKILL after 30 s.
 * @param {number} pid
 */
async function stopDockerd(pid) {
  if (process.getuid?.() === 0 || !which('sudo')) {
    await stopPid(pid, { graceMs: 30_000 });
    return;
  }
  spawnSync('sudo', ['-n', 'kill', '-TERM', String(pid)]);
  const exited = await waitFor(() => !isAlive(pid), { timeoutMs: 30_000, what: `dockerd (pid ${pid}) to exit` }).catch(() => false);
  if (!exited) spawnSync('sudo', ['-n', 'kill', '-KILL', String(pid)]);
}

/**
 * An exclusive lock file holding our pid; a lock whose holder died is taken over. Returns its release function.
 * @param {string} file
 * @returns {Promise<() => void>}
 */
async function lock(file) {
  await waitFor(() => {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // An empty lock is being written right now, unless it is old (its writer died in between). A holder that
      // outlived any start (its pid reused by another process, say) is stale too.
      const holder = readPid(file);
      const age = Date.now() - mtimeMs(file);
      const stale = holder === undefined ? age > 5_000 : !isAlive(holder) || age > START_TIMEOUT_MS + 30_000;
      if (stale) fs.rmSync(file, { force: true });
      return false;
    }
  }, { timeoutMs: 2 * START_TIMEOUT_MS + 60_000, intervalMs: 200, what: `the lock ${file}` });
  return () => fs.rmSync(file, { force: true });
}

/** @param {string} file */
function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** @param {string} file */
function readPid(file) {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// --- images ---

/**
 * @typedef {Record<string, { data: Buffer, mode: number }>} Files
 */

/**
 * Builds `name` from `<ROOT>/<dir>/Dockerfile` plus `files()` unless an image of that name carries the digest of
 * exactly this context.
 * @param {string} sock
 * @param {string} name
 * @param {string} dir
 * @param {() => Files} files
 */
async function ensureImage(sock, name, dir, files) {
  const context = { Dockerfile: { data: fs.readFileSync(path.join(ROOT, dir, 'Dockerfile')), mode: 0o644 }, ...files() };
  const digest = createHash('sha256');
  for (const [file, { data }] of Object.entries(context)) digest.update(`${file}\0${data.length}\0`).update(data);
  const hash = digest.digest('hex');
  const existing = await dockerApi(sock, 'GET', `/images/${encodeURIComponent(name)}/json`);
  if (existing.status === 200 && JSON.parse(existing.body.toString()).Config?.Labels?.[CONTEXT_LABEL] === hash) return;
  process.stderr.write(`building ${name}\n`);
  const query = new URLSearchParams({ t: name, rm: '1', forcerm: '1', labels: JSON.stringify({ [CONTEXT_LABEL]: hash }) });
  const res = await dockerApi(sock, 'POST', `/build?${query}`, {
    body: tar(context), headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 300_000,
  });
  // The build streams JSON lines; a failed step is an {"error": …} line in a 200 response.
  const lines = res.body.toString().split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { stream: l }; } });
  const failed = lines.find((l) => l.error);
  if (res.status !== 200 || failed) {
    const output = lines.map((l) => l.stream ?? l.status ?? '').join('').trim().split('\n').slice(-10).join('\n');
    throw new Error(`building ${name} failed: ${failed?.error ?? `HTTP ${res.status} ${lines[0]?.message ?? res.body.toString()}`}\n${output}`);
  }
}

/**
 * The path of a static busybox binary, installing Debian's busybox-static when /bin/busybox is absent or dynamic.
 * @returns {string}
 */
function staticBusybox() {
  const file = '/bin/busybox';
  if (!isStaticElf(file)) aptInstall(['busybox-static'], `${file} is missing or not statically linked`);
  if (!isStaticElf(file)) throw new Error(`installed busybox-static but ${file} is still not a static binary`);
  return file;
}

/**
 * Whether `file` is an ELF executable without a program interpreter (PT_INTERP), i.e. statically linked.
 * @param {string} file
 * @returns {boolean}
 */
export function isStaticElf(file) {
  let elf;
  try {
    elf = fs.readFileSync(file);
  } catch {
    return false;
  }
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const u16 = (o) => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o));
  const u32 = (o) => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o));
  const phoff = is64 ? Number(le ? elf.readBigUInt64LE(32) : elf.readBigUInt64BE(32)) : u32(28);
  const [phentsize, phnum] = is64 ? [u16(54), u16(56)] : [u16(42), u16(44)];
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > elf.length) return false;
    if (u32(off) === 3) return false; // PT_INTERP: needs a dynamic loader
  }
  return true;
}

/**
 * Compiles images/pause/pause.c statically; installs gcc and libc6-dev (static libc) when that fails.
 * @returns {Buffer} the binary
 */
function compilePause() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-pause-'));
  try {
    const out = path.join(tmp, 'pause');
    const compile = () => {
      const cc = which('cc') ?? which('gcc');
      if (!cc) return { status: 1, stderr: 'no C compiler (cc) found' };
      const res = spawnSync(cc, ['-static', '-Os', '-s', '-o', out, path.join(ROOT, 'images/pause/pause.c')], { encoding: 'utf8' });
      return { status: res.status, stderr: res.error?.message ?? res.stderr };
    };
    let res = compile();
    if (res.status !== 0) {
      aptInstall(['gcc', 'libc6-dev'], `cannot compile pause.c statically (${res.stderr.trim().split('\n').pop()})`);
      res = compile();
    }
    if (res.status !== 0) throw new Error(`cc -static -Os images/pause/pause.c failed:\n${res.stderr}`);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A tar archive (ustar) of `files`, for a build context.
 * @param {Files} files
 * @returns {Buffer}
 */
export function tar(files) {
  const blocks = [];
  for (const [name, { data, mode }] of Object.entries(files)) {
    // ustar: names past 100 bytes are split at a '/' into a prefix (at most 155 bytes) and the rest.
    let [prefix, base] = ['', name];
    if (Buffer.byteLength(name) > 100) {
      const cut = name.slice(0, 156).lastIndexOf('/');
      [prefix, base] = [name.slice(0, cut), name.slice(cut + 1)];
      if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) throw new Error(`tar: name too long: ${name}`);
    }
    const h = Buffer.alloc(512);
    const field = (value, offset, length) => h.write(value, offset, length, 'utf8');
    const octal = (n, offset, length) => field(`${n.toString(8).padStart(length - 1, '0')}\0`, offset, length);
    field(base, 0, 100);
    field(prefix, 345, 155);
    octal(mode, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(data.length, 124, 12);
    octal(0, 136, 12);
    field(' '.repeat(8), 148, 8); // the checksum is computed with its own field as spaces
    field('0', 156, 1);
    field('ustar\0' + '00', 257, 8);
    let sum = 0;
    for (const byte of h) sum += byte;
    field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

// --- small helpers ---

/**
 * One Engine API request over the unix socket; resolves with the status and the whole body.
 * @param {string} sock
 * @param {string} method
 * @param {string} apiPath without the version prefix
 * @param {{ body?: Buffer, headers?: Record<string, string>, timeoutMs?: number }} [options]
 * @returns {Promise<{ status: number, body: Buffer }>}
 */
function dockerApi(sock, method, apiPath, { body, headers = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: sock, method, path: `/${DOCKER_API_VERSION}${apiPath}`, timeout: timeoutMs,
      headers: { Host: 'docker', ...headers, ...(body ? { 'Content-Length': body.length } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: no answer from ${sock} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `sudo -n` when not root (and sudo exists), else nothing. */
function sudo() {
  return process.getuid?.() !== 0 && which('sudo') ? ['sudo', '-n'] : [];
}

/**
 * apt-get update + install (as root or via sudo), output to stderr.
 * @param {string[]} packages
 * @param {string} why
 */
function aptInstall(packages, why) {
  if (process.getuid?.() !== 0 && !which('sudo')) {
    throw new Error(`${why}, and installing ${packages.join(' ')} needs root: run \`apt-get install -y ${packages.join(' ')}\` as root`);
  }
  for (const args of [['apt-get', 'update'], ['apt-get', 'install', '-y', ...packages]]) {
    process.stderr.write(`${why}: running ${args.join(' ')}\n`);
    const [cmd, ...rest] = [...sudo(), 'env', 'DEBIAN_FRONTEND=noninteractive', ...args];
    // stdout goes to stderr so that the caller's stdout stays machine-readable.
    const res = spawnSync(cmd, rest, { stdio: ['ignore', process.stderr, 'inherit'] });
    if (res.status !== 0) throw new Error(`\`${args.join(' ')}\` failed (${res.error?.message ?? `exit ${res.status}`})`);
  }
}
