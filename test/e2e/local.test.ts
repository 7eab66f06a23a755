// The end-to-end scenario (test/e2e/scenario.ts) on the local cluster: `scripts/cluster up --nodes 2` as processes,
// driven by the real kubectl. Afterwards not one container of the cluster is left on the shared engine.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { listContainers } from '../../scripts/lib/docker.mjs';
import { startLocalCluster } from '../harness.js';
import { describeWebScenario, type E2eTarget } from './scenario.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const built = existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
if (!built) console.warn('skipping test/e2e/local.test.ts: packages/kubelet/dist/main.js does not exist (run `npm run build`)');

/** The local cluster as an E2eTarget, with `kubectl` as the CLI under test (the real one on PATH by default). */
async function localTarget(): Promise<E2eTarget> {
  const cluster = await startLocalCluster('k8ts-e2e-local-', { nodes: 2 });
  return {
    kubectl: cluster.kubectl,
    get apiserverUrl() { return cluster.apiserverUrl; },
    nodePortHost: '127.0.0.1',
    get ingressUrl() { return `http://127.0.0.1:${cluster.ingress!.http}`; },
    get dockerHost() { return cluster.dockerHost!; },
    get containerLabels() { return [`io.k8ts.cluster=${cluster.clusterName}`]; },
    restart: () => cluster.restart(),
    async teardown() {
      const { dockerHost, clusterName } = cluster;
      await cluster.down();
      expect(await listContainers(dockerHost, [`io.k8ts.cluster=${clusterName}`])).toEqual([]);
    },
  };
}

if (built) describeWebScenario('end to end on the local cluster (2 nodes, the real kubectl)', localTarget);
