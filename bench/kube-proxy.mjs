// kube-proxy's userspace data path: requests/s straight to a backend, through a minimal Node `net` pipe proxy, and
// through the userspace proxier's NodePort, measured in one run. Backend and proxies run in child processes so the
// load generator does not share their event loop. `node bench/kube-proxy.mjs backend|proxies …` are the children.
import { execFileSync, fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const SELF = fileURLToPath(import.meta.url);

async function childBackend(ip) {
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'); });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, ip, r));
  process.send({ port: server.address().port });
}

async function childProxies(backendIp, backendPort) {
  const { UserspaceProxier, buildServiceMap } = await import('../packages/kube-proxy/dist/index.js');
  const pipe = net.createServer({ noDelay: true }, (c) => {
    const b = net.connect({ host: backendIp, port: backendPort, noDelay: true });
    c.on('error', () => b.destroy()); b.on('error', () => c.destroy());
    c.pipe(b); b.pipe(c);
  });
  await new Promise((r) => pipe.listen(0, '127.0.0.1', r));
  // A free NodePort-range port for the userspace listener.
  let nodePort = 0;
  for (let p = 30000 + (process.pid % 2000); !nodePort && p < 32767; p++) {
    nodePort = await new Promise((r) => { const s = net.createServer().once('error', () => r(0)).listen(p, '127.0.0.1', () => s.close(() => r(p))); });
  }
  const proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1'] });
  const map = buildServiceMap(
    [{ metadata: { name: 'bench', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.99', ports: [{ name: 'http', port: 80, nodePort }] } }],
    [{ metadata: { name: 'bench-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'bench' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }], endpoints: [{ addresses: [backendIp], conditions: { ready: true } }] }]);
  await proxier.sync(map);
  process.send({ pipePort: pipe.address().port, nodePort });
}

function start(args) {
  const child = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => { child.once('message', (m) => resolve({ child, ...m })); child.once('exit', (c) => reject(new Error(`bench child exited ${c}`))); });
}

/** Requests/s of `count` GETs over `connections` keep-alive connections to 127.0.0.1:port (or a given host). */
async function keepAliveRate(host, port, count, connections) {
  const pool = new Pool(`http://${host}:${port}`, { connections, pipelining: 1 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next++ < count) { const res = await pool.request({ path: '/', method: 'GET' }); await res.body.text(); }
  }));
  const rate = count / ((performance.now() - t0) / 1000);
  await pool.close();
  return rate;
}

/** Requests/s when every request opens its own connection (the proxy's per-connection work included). */
async function newConnectionRate(host, port, count, concurrency) {
  let next = 0;
  const agent = new http.Agent({ keepAlive: false });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) {
      await new Promise((resolve, reject) => http.get({ host, port, path: '/', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
    }
  }));
  return count / ((performance.now() - t0) / 1000);
}

/** iptables mode as root when no other kube-proxy owns the tables: a NodePort on 127.0.0.1 DNATed to the backend. */
async function startIptables(backendIp, backendPort, nodePort) {
  if (process.getuid?.() !== 0) return undefined;
  try {
    if (/^:KUBE-SERVICES /m.test(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }))) return undefined;
  } catch { return undefined; }
  const { IptablesProxier, buildServiceMap } = await import('../packages/kube-proxy/dist/index.js');
  const routeLocalnet = execFileSync('cat', ['/proc/sys/net/ipv4/conf/all/route_localnet'], { encoding: 'utf8' }).trim();
  const proxier = new IptablesProxier({ nodePortAddresses: ['127.0.0.1'], serviceCIDR: '10.96.0.0/12' });
  await proxier.sync(buildServiceMap(
    [{ metadata: { name: 'bench-ipt', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.98', ports: [{ name: 'http', port: 80, nodePort }] } }],
    [{ metadata: { name: 'bench-ipt-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'bench-ipt' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }], endpoints: [{ addresses: [backendIp], conditions: { ready: true } }] }]));
  return {
    port: nodePort,
    stop: async () => { await IptablesProxier.cleanup(); execFileSync('sh', ['-c', `echo ${routeLocalnet} > /proc/sys/net/ipv4/conf/all/route_localnet`]); },
  };
}

/** Runs the benchmark and prints its figures; returns them. */
export async function benchKubeProxy({ n = 20_000, concurrency = 32, rounds = 3 } = {}) {
  const backend = await start(['backend', '127.0.0.31']);
  const proxies = await start(['proxies', '127.0.0.31', String(backend.port)]);
  const targets = { direct: ['127.0.0.31', backend.port], pipe: ['127.0.0.1', proxies.pipePort], userspace: ['127.0.0.1', proxies.nodePort] };
  const best = { keepAlive: {}, newConn: {} };
  let ipt;
  try {
    ipt = await startIptables('127.0.0.31', backend.port, proxies.nodePort + 1);
    if (ipt) targets.iptables = ['127.0.0.1', ipt.port];
    for (const [, [h, p]] of Object.entries(targets)) await keepAliveRate(h, p, 500, concurrency); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [name, [h, p]] of Object.entries(targets)) {
        best.keepAlive[name] = Math.max(best.keepAlive[name] ?? 0, await keepAliveRate(h, p, n, concurrency));
        best.newConn[name] = Math.max(best.newConn[name] ?? 0, await newConnectionRate(h, p, Math.round(n / 4), concurrency));
      }
    }
  } finally {
    await ipt?.stop();
    backend.child.kill();
    proxies.child.kill();
  }
  const f = (x) => x.toFixed(0);
  for (const [label, b] of [['keep-alive', best.keepAlive], ['new connection per request', best.newConn]]) {
    console.log(`kube-proxy userspace (${label}): ${f(b.userspace)} req/s through the NodePort vs ${f(b.pipe)} through a minimal net pipe proxy`
      + ` (ratio ${(b.userspace / b.pipe).toFixed(2)}, goal >= 0.9) vs ${f(b.direct)} straight to the backend (ratio ${(b.userspace / b.direct).toFixed(2)})`);
    if (b.iptables) console.log(`kube-proxy iptables (${label}): ${f(b.iptables)} req/s through the NodePort vs ${f(b.direct)} straight to the backend (ratio ${(b.iptables / b.direct).toFixed(2)}, goal >= 0.9)`);
  }
  if (!ipt) console.log('kube-proxy iptables: not measured (needs root, and no other kube-proxy owning the host\'s tables)');
  return best;
}

if (process.argv[2] === 'backend') await childBackend(process.argv[3]);
else if (process.argv[2] === 'proxies') await childProxies(process.argv[3], Number(process.argv[4]));
else if (process.argv[1] === SELF) await benchKubeProxy();
