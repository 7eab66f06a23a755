// `scripts/images`: finds or starts the machine's Docker engine, builds the local images (k8ts/pause, k8ts/busybox
// and, unless --no-base-images, local stand-ins for the Dockerfile's base images from this host's binaries), writes
// what docker-compose.yml reads into .env and the compose cluster's kubeconfig, and prints the engine's socket.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BASE_IMAGES, DOCKER_STATE_DIR, ensureBaseImages, ensureDockerEngine, ensureImages, ensureRouteLocalnet, IMAGES, socketPath } from './lib/docker.mjs';
import { ROOT, writeKubeconfig } from './lib/processes.mjs';

const DEFAULT_ENV_FILE = path.join(ROOT, '.env');
const DEFAULT_KUBECONFIG = path.join(ROOT, '.k8ts/compose.kubeconfig');
const DEFAULT_DATA_DIR = path.join(ROOT, '.k8ts/compose');

const usage = `usage: scripts/images [--no-base-images] [--env-file FILE] [--state-dir DIR]

Ensures a Docker engine answers (DOCKER_HOST, /var/run/docker.sock, an engine a previous run left in the state
dir, or a new dockerd started there — installing docker.io if needed) and builds ${Object.values(IMAGES).join(', ')}.
Without a registry, it also builds ${BASE_IMAGES.node} (the host's node, busybox and iptables) and ${BASE_IMAGES.etcd}
(the host's etcd and etcdctl), stand-ins for node:22-bookworm-slim and the official etcd image.

Then it writes, for docker-compose.yml, into the env file (other lines in it are kept):
  K8TS_NODE_IMAGE, K8TS_ETCD_IMAGE   the base images (only with the local ones)
  K8TS_DOCKER_SOCKET                 the engine's socket on the host, which the kubelets mount
  K8TS_DATA_DIR                      the kubelets' root directories, bind-mounted at the same path (${path.relative(ROOT, DEFAULT_DATA_DIR)})
  DOCKER_HOST                        when the engine is not at /var/run/docker.sock, so that compose finds it
and the kubeconfig of the compose cluster (${path.relative(ROOT, DEFAULT_KUBECONFIG)}: http://127.0.0.1:$K8TS_APISERVER_PORT, default 6443).
After it, \`docker compose up -d --build\` (Debian: \`docker-compose up -d --build\`) runs offline.
Prints the engine's socket; point kubelets at it with --docker-socket or DOCKER_HOST.

  --no-base-images  keep the official base images (a registry answers); build only the pod images
  --env-file FILE   the env file docker compose reads (default <repo>/.env)
  --kubeconfig FILE where to write the compose cluster's kubeconfig (default <repo>/${path.relative(ROOT, DEFAULT_KUBECONFIG)})
  --state-dir DIR   where a dockerd started here keeps its data, socket and log (default ${DOCKER_STATE_DIR})
  -h, --help        this help
`;

/**
 * Sets `values` in the env file: existing assignments of those names are replaced, every other line kept.
 * @param {string} file
 * @param {Record<string, string | undefined>} values undefined removes the name
 */
function updateEnvFile(file, values) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  const kept = old.filter((line) => {
    const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    return !name || !(name in values);
  });
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const added = Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  const header = old.length ? [] : ['# Written by scripts/images for docker-compose.yml (git-ignored); edit freely, it keeps other lines.'];
  fs.writeFileSync(file, `${[...header, ...kept, ...added].join('\n')}\n`);
}

try {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string' }, 'env-file': { type: 'string' }, kubeconfig: { type: 'string' },
      'no-base-images': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
  } else {
    const engine = await ensureDockerEngine({ stateDir: values['state-dir'] ?? DOCKER_STATE_DIR });
    await ensureImages(engine.socket);
    const base = values['no-base-images'] ? undefined : await ensureBaseImages(engine.socket);
    const sock = socketPath(engine.socket);
    const envFile = path.resolve(values['env-file'] ?? DEFAULT_ENV_FILE);
    updateEnvFile(envFile, {
      K8TS_NODE_IMAGE: base?.node, K8TS_ETCD_IMAGE: base?.etcd,
      K8TS_DOCKER_SOCKET: sock, K8TS_DATA_DIR: DEFAULT_DATA_DIR,
      DOCKER_HOST: sock === '/var/run/docker.sock' ? undefined : engine.socket,
    });
    ensureRouteLocalnet();
    const kubeconfig = path.resolve(values.kubeconfig ?? DEFAULT_KUBECONFIG);
    const port = process.env.K8TS_APISERVER_PORT ?? readEnv(envFile).K8TS_APISERVER_PORT ?? '6443';
    writeKubeconfig(kubeconfig, `http://127.0.0.1:${port}`);
    process.stderr.write(`images ready: ${[...Object.values(IMAGES), ...(base ? Object.values(base) : [])].join(', ')}
wrote ${envFile} and ${kubeconfig}
use the engine with: export DOCKER_HOST=${engine.socket}
start the compose cluster with: docker compose up -d --build   (or docker-compose up -d --build)
then: export KUBECONFIG=${kubeconfig}
`);
    process.stdout.write(`${engine.socket}\n`);
  }
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}

/** @param {string} file */
function readEnv(file) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

