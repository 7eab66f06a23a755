// `node scripts/images.mjs [--state-dir DIR]`: finds or starts the machine's Docker engine, builds the local images
// (k8ts/pause, k8ts/busybox) when missing, and prints the engine's socket (`unix:///…`) on stdout.
import { parseArgs } from 'node:util';
import { DOCKER_STATE_DIR, ensureDockerEngine, ensureImages, IMAGES } from './lib/docker.mjs';

const usage = `usage: node scripts/images.mjs [--state-dir DIR]

Ensures a Docker engine answers (DOCKER_HOST, /var/run/docker.sock, an engine a previous run left in the state
dir, or a new dockerd started there — installing docker.io if needed) and builds ${Object.values(IMAGES).join(', ')}.
Prints the engine's socket; point the kubelet at it with --docker-socket or DOCKER_HOST.

  --state-dir DIR   where a dockerd started here keeps its data, socket and log (default ${DOCKER_STATE_DIR})
  -h, --help        this help
`;

try {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(usage);
  } else {
    const engine = await ensureDockerEngine({ stateDir: values['state-dir'] ?? DOCKER_STATE_DIR });
    await ensureImages(engine.socket);
    process.stderr.write(`images ready: ${Object.values(IMAGES).join(', ')}\nuse it with: export DOCKER_HOST=${engine.socket}\n`);
    process.stdout.write(`${engine.socket}\n`);
  }
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}
