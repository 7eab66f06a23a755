#!/usr/bin/env node
// Captures the protobuf request bodies the real kubectl sends, into the golden fixtures of
// packages/apiserver/src/protobuf/testdata (read by decode.test.ts).
// Run after `npm run build`: node scripts/capture-protobuf.mjs
// It starts etcd and an apiserver, puts a recording proxy in front, runs each command of cases.json with kubectl,
// and writes <name>.pb (the body) and <name>.json (what `--dry-run=client -o json` prints for the same command).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, startApiserver, writeKubeconfig } from './lib/processes.mjs';

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), '../packages/apiserver/src/protobuf/testdata');
const cases = JSON.parse(readFileSync(path.join(here, 'cases.json'), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'k8ts-capture-'));
const etcd = await startEtcd({ dataDir: path.join(work, 'etcd') });
const api = await startApiserver({ etcdEndpoint: etcd.endpoint, logFile: path.join(work, 'apiserver.log') });
let captured = [];
const proxy = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if ((req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf')) {
      captured.push({ method: req.method, url: req.url, body });
    }
    const up = http.request(new URL(req.url, api.url), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.end(body);
  });
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const kubeconfig = path.join(work, 'kubeconfig');
writeKubeconfig(kubeconfig, `http://127.0.0.1:${proxy.address().port}`);
// Asynchronous: the proxy answers from this same event loop.
const kubectl = async (args) => (await promisify(execFile)('kubectl', [`--kubeconfig=${kubeconfig}`, `--cache-dir=${work}/cache`, ...args],
  { env: { ...process.env, HOME: work }, timeout: 60_000 })).stdout;
/** Flags go before a `--` that starts the container's command. */
const withFlags = (args, flags) => {
  const i = args.indexOf('--');
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)];
};
try {
  for (const c of cases) {
    const args = c.args.map((a) => (a === 'SETUP' ? path.join(here, 'setup.yaml') : a));
    if (c.noCapture) { await kubectl(args); continue; }
    captured = [];
    try { await kubectl(args); } catch { /* the server may refuse the body: the bytes are what we want */ }
    const hit = captured.find((x) => x.method === (c.method ?? 'POST'));
    if (!hit) { console.error(`${c.name}: no protobuf body captured`); continue; }
    writeFileSync(path.join(here, `${c.name}.pb`), hit.body);
    if (c.dryRun !== false) writeFileSync(path.join(here, `${c.name}.json`), await kubectl(withFlags(args, ['--dry-run=client', '-o', 'json'])));
    console.log(`${c.name}: ${hit.method} ${hit.url} ${hit.body.length} bytes`);
  }
} finally {
  proxy.close();
  await api.stop();
  await etcd.stop();
  rmSync(work, { recursive: true, force: true });
}
