// The end-to-end scenario (test/e2e/scenario.ts) on the local cluster: `scripts/cluster up --nodes 2` as processes,
// driven by the real kubectl, then by ours (k8ts-kubectl, as built). Afterwards not one container of the cluster is
// left on the shared engine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { expect } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { listContainers } from '../../scripts/lib/docker.mjs';
import { startLocalCluster } from '../harness.js';
import { describeWebScenario, type E2eTarget } from './scenario.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const built = existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
if (!built) console.warn('skipping test/e2e/local.test.ts: packages/kubelet/dist/main.js does not exist (run `npm run build`)');
const OURS = path.join(ROOT, 'packages/kubectl/dist/bundle/main.cjs');
const execFileP = promisify(execFile);

/** The local cluster as an E2eTarget, with the real kubectl on PATH or ours (k8ts-kubectl) as the CLI under test. */
async function localTarget(cli: 'kubectl' | 'k8ts-kubectl'): Promise<E2eTarget> {
  const cluster = await startLocalCluster(`k8ts-e2e-${cli}-`, { nodes: 2 });
  const ours = async (...args: string[]) =>
    (await execFileP(process.execPath, [OURS, `--cache-dir=${cluster.dir}/kube-cache`, ...args], { env: cluster.env, timeout: 60_000 })).stdout;
  return {
    kubectl: cli === 'kubectl' ? cluster.kubectl : ours,
    get apiserverUrl() { return cluster.apiserverUrl; },
    nodePortHost: '127.0.0.1',
    get ingressUrl() { return `http://127.0.0.1:${cluster.ingress!.http}`; },
    ingressAddress: /127\.0\.1\.1/,
    get dockerHost() { return cluster.dockerHost!; },
    get containerLabels() { return [`io.k8ts.cluster=${cluster.clusterName}`]; },
    // down and up again does not depend on the CLI: run once, with the real kubectl.
    restart: cli === 'kubectl' ? () => cluster.restart() : undefined,
    async teardown() {
      const { dockerHost, clusterName } = cluster;
      await cluster.down();
      expect(await listContainers(dockerHost, [`io.k8ts.cluster=${clusterName}`])).toEqual([]);
    },
  };
}

if (built) describeWebScenario('end to end on the local cluster (2 nodes, the real kubectl)', () => localTarget('kubectl'));
if (built && existsSync(OURS)) describeWebScenario('end to end on the local cluster (2 nodes, k8ts-kubectl)', () => localTarget('k8ts-kubectl'));
