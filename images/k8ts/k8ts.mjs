#!/usr/bin/env node
// The k8ts image's entry point: `k8ts <component> [flags…]` runs that component's main (its flags as its --help
// lists them); `k8ts probe <url>` is the containers' health check. Plain ESM, no build step.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Component name → its package (each package's dist/main.js is its process entry). */
const COMPONENTS = {
  apiserver: 'apiserver', 'kube-apiserver': 'apiserver',
  scheduler: 'scheduler', 'kube-scheduler': 'scheduler',
  'controller-manager': 'controller-manager', 'kube-controller-manager': 'controller-manager',
  kubelet: 'kubelet',
  'kube-proxy': 'kube-proxy',
  dns: 'dns',
  ingress: 'ingress',
};

const usage = `usage: k8ts <component> [flags…]   run a component (k8ts <component> --help lists its flags)
       k8ts probe <url>              exit 0 when GET <url> answers 200 within 3 s ({host-address} in the URL is this
                                     container's own address, where the kubelet listens)

components: ${[...new Set(Object.keys(COMPONENTS).filter((c) => !c.startsWith('kube-') || c === 'kube-proxy'))].join(', ')}
`;

const [command, ...args] = process.argv.slice(2);
if (command === 'probe') {
  // Only what it needs: the health check runs every few seconds, and @k8ts/api as a whole takes seconds to load.
  let url = args[0] ?? '';
  if (url.includes('{host-address}')) {
    const { hostAddress } = await import(pathToFileURL(path.join(ROOT, 'packages/api/dist/host-address.js')).href);
    url = url.replaceAll('{host-address}', hostAddress());
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
    process.exitCode = res.status === 200 ? 0 : 1;
    if (res.status !== 200) process.stderr.write(`${url}: HTTP ${res.status}\n`);
  } catch (err) {
    process.stderr.write(`${url}: ${err.message}\n`);
    process.exitCode = 1;
  }
} else if (command && Object.hasOwn(COMPONENTS, command)) {
  const main = path.join(ROOT, 'packages', COMPONENTS[command], 'dist/main.js');
  // The component parses process.argv as if started as `node main.js …`.
  process.argv = [process.argv[0], main, ...args];
  await import(pathToFileURL(main).href);
} else {
  process.stdout.write(usage);
  process.exitCode = command === undefined || command === '--help' || command === '-h' ? 0 : 2;
}
