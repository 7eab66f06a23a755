// The ingress data path: requests/s and p99 through k8ts-ingress (its own process, configured from a real apiserver
// and etcd, as scripts/cluster runs it) vs straight to the backend vs Debian's nginx as a reverse proxy configured the
// same way (one worker, keep-alive upstream, the same X-Forwarded headers) vs a minimal Node `http` proxy, in one
// run. The backend and the proxies run in child processes; traffic stays on 127.0.0.0/8.
// `node bench/ingress.mjs backend|minimal …` are the children.
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { freePort, startApiserver, startEtcd, startIngress, waitFor } from '../scripts/lib/processes.mjs';

const SELF = fileURLToPath(import.meta.url);
const BACKEND_IP = '127.0.0.61';

async function childBackend() {
  const body = 'x'.repeat(512);
  const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }).end(body); });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, BACKEND_IP, r));
  process.send({ port: server.address().port });
}

async function childMinimal(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const up = http.request({ host: BACKEND_IP, port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress }, agent }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  process.send({ port: server.address().port });
}

function start(args) {
  const child = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => { child.once('message', (m) => resolve({ child, ...m })); child.once('exit', (c) => reject(new Error(`bench child exited ${c}`))); });
}

/** Debian's nginx, installed when missing (root; the service is not started), run in the foreground on our config. */
async function startNginx(dir, backendPort) {
  if (!existsSync('/usr/sbin/nginx')) {
    if (process.getuid?.() !== 0) return undefined;
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' } });
  }
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server ${BACKEND_IP}:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    server_name bench.example.com;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`);
  const child = spawn('/usr/sbin/nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await waitFor(() => new Promise((r) => http.get({ host: '127.0.0.1', port, headers: { host: 'bench.example.com' } }, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false))), { timeoutMs: 10_000, what: 'nginx' });
  return { port, stop: () => { child.kill('SIGQUIT'); } };
}

/** Requests/s and latency percentiles of `count` GETs over `connections` keep-alive connections. */
async function measure(host, port, count, connections) {
  const pool = new Pool(`http://${host}:${port}`, { connections, pipelining: 1 });
  const lat = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next++ < count) {
      const s = performance.now();
      const res = await pool.request({ path: '/', method: 'GET', headers: { host: 'bench.example.com' } });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      lat.push(performance.now() - s);
    }
  }));
  const rate = count / ((performance.now() - t0) / 1000);
  await pool.close();
  lat.sort((a, b) => a - b);
  return { rate, p99: lat[Math.floor(lat.length * 0.99)] };
}

/** Runs the benchmark and prints its figures; returns them. */
export async function benchIngress({ n = 20_000, concurrency = 32, rounds = 3 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-bench-ingress-'));
  const backend = await start(['backend']);
  const minimal = await start(['minimal', String(backend.port)]);
  let etcd; let apiserver; let ingress; let nginx;
  try {
    etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
    apiserver = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(dir, 'apiserver.log') });
    const api = new Pool(apiserver.url, { connections: 2 });
    const post = async (p, body) => {
      const res = await api.request({ method: 'POST', path: p, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`POST ${p}: ${res.statusCode} ${text}`);
    };
    await post('/api/v1/namespaces/default/services', { metadata: { name: 'bench' }, spec: { ports: [{ name: 'http', port: 80, targetPort: backend.port }] } });
    await post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      metadata: { name: 'bench-1', labels: { 'kubernetes.io/service-name': 'bench' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }], endpoints: [{ addresses: [BACKEND_IP], conditions: { ready: true } }],
    });
    await post('/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
      metadata: { name: 'bench' },
      spec: { rules: [{ host: 'bench.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench', port: { name: 'http' } } } }] } }] },
    });
    await api.close();
    ingress = await startIngress({ apiserverUrl: apiserver.url, logFile: path.join(dir, 'ingress.log'), extraArgs: ['--log-level', 'warn'] });
    await waitFor(() => new Promise((r) => http.get({ host: '127.0.0.1', port: ingress.httpPort, headers: { host: 'bench.example.com' } }, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false))), { timeoutMs: 20_000, what: 'the ingress routing the bench host' });
    nginx = await startNginx(dir, backend.port);
    // The backend listens on its own loopback address: "direct" goes there, the proxies on 127.0.0.1.
    const targets = { direct: [BACKEND_IP, backend.port], ingress: ['127.0.0.1', ingress.httpPort], minimal: ['127.0.0.1', minimal.port], ...(nginx ? { nginx: ['127.0.0.1', nginx.port] } : {}) };
    const best = {};
    for (const [host, port] of Object.values(targets)) await measure(host, port, 1000, concurrency); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [name, [host, port]] of Object.entries(targets)) {
        const m = await measure(host, port, n, concurrency);
        if (!best[name] || m.rate > best[name].rate) best[name] = m;
      }
    }
    const f = (x) => x.toFixed(0);
    const line = (name) => `${f(best[name].rate)} req/s (p99 ${best[name].p99.toFixed(1)} ms)`;
    console.log(`ingress (keep-alive, ${concurrency} connections, N=${n}, best of ${rounds}): k8ts-ingress ${line('ingress')}; straight to the backend ${line('direct')}; minimal Node http proxy ${line('minimal')}${best.nginx ? `; nginx (1 worker) ${line('nginx')}` : ''}`);
    console.log(`ingress ratios: vs minimal Node proxy ${(best.ingress.rate / best.minimal.rate).toFixed(2)} (goal >= 0.8)${best.nginx ? `, vs nginx ${(best.ingress.rate / best.nginx.rate).toFixed(2)} (goal >= 0.5)` : ', nginx not measured (needs root to install it)'}, vs direct ${(best.ingress.rate / best.direct.rate).toFixed(2)}`);
    return best;
  } finally {
    nginx?.stop();
    await ingress?.stop();
    await apiserver?.stop();
    await etcd?.stop();
    backend.child.kill();
    minimal.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'backend') await childBackend();
else if (process.argv[2] === 'minimal') await childMinimal(Number(process.argv[3]));
else if (process.argv[1] === SELF) await benchIngress();
