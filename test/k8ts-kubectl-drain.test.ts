import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestApiserver, startTestControllers, type TestApiserver, type TestControllers } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { comparable, makeTwins, NS_OURS, NS_REAL, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;
let controllers: TestControllers | undefined;
const node = { namespaced: false };

/** A pod bound to the twin node of its namespace (the node has the namespace's name). */
function pod(name: string, extra: { owner?: string; emptyDir?: boolean; phase?: string } = {}) {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: { app: name }, ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner, name: 'x', uid: '00000000-0000-0000-0000-000000000001', controller: true }] } : {}) },
    spec: { nodeName: 'NODE', containers: [{ name: 'c', image: 'busybox' }], ...(extra.emptyDir ? { volumes: [{ name: 'v', emptyDir: {} }] } : {}) },
  };
}

async function createPods(specs: ReturnType<typeof pod>[]): Promise<void> {
  for (const ns of [NS_OURS, NS_REAL]) {
    for (const p of specs) {
      const body = JSON.parse(JSON.stringify(p).replace('NODE', ns));
      const r = await call(api.url, 'POST', `/api/v1/namespaces/${ns}/pods`, body);
      expect(r.status).toBe(201);
    }
  }
}

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  t = await makeTwins(api.url, k);
  for (const name of [NS_OURS, NS_REAL]) await t.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
});
afterAll(async () => {
  await controllers?.stop();
  k?.cleanup();
  await api?.stop();
});

/**
 * Both kubectls; stdout compared line-sorted (kubectl evicts pods in parallel), and the parts of warnings and errors
 * sorted (kubectl groups them in Go maps, so their order varies from run to run).
 */
async function sameSorted(args: string[]): Promise<void> {
  const ours = await k.ours(args.map((a) => a.replaceAll('NS', NS_OURS)));
  const real = await k.real(args.map((a) => a.replaceAll('NS', NS_REAL)));
  const sorted = (s: string) => comparable(s).split('\n').sort().join('\n');
  // The groups of one line in any order (the closing "], continuing command..." kept at the end), and the lines too:
  // the failures listed after "There are pending nodes to be drained:" come from a Go map as well.
  const loose = (s: string) => comparable(s).split('\n').map((l) => {
    const pre = /^(Warning: |error: unable to drain node "NS" due to error: \[)?/.exec(l)![0];
    const post = /(\], continuing command\.\.\.)?$/.exec(l)![0];
    return pre + l.slice(pre.length, l.length - post.length).split(/; |, (?=cannot delete)/).sort().join(' | ') + post;
  }).sort().join('\n');
  expect({ code: ours.code, stdout: sorted(ours.stdout), stderr: loose(ours.stderr) })
    .toEqual({ code: real.code, stdout: sorted(real.stdout), stderr: loose(real.stderr) });
}

describe('k8ts-kubectl drain, side by side with kubectl', () => {
  it('refuses pods it may not evict, with kubectl messages', async () => {
    for (const ns of [NS_OURS, NS_REAL]) {
      const r = await call(api.url, 'POST', `/apis/apps/v1/namespaces/${ns}/daemonsets`, {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' },
        spec: { selector: { matchLabels: { app: 'ds' } }, template: { metadata: { labels: { app: 'ds' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      });
      expect(r.status).toBe(201);
    }
    await createPods([pod('bare')]);
    await sameSorted(['drain', 'NS']);
    await createPods([pod('scratch', { owner: 'ReplicaSet', emptyDir: true })]);
    await sameSorted(['drain', 'NS', '--force']);
    await createPods([pod('ds', { owner: 'DaemonSet' })]);
    await sameSorted(['drain', 'NS', '--force', '--delete-emptydir-data']);
    await sameSorted(['drain', 'NS']);
    await sameSorted(['drain', 'NS', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--dry-run=client']);
    await t.same(['drain', 'nope-node'], undefined, node);
    await t.same(['drain'], undefined, node);
  });

  it('evicts and waits for the pods to go', async () => {
    await sameSorted(['drain', 'NS', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--grace-period=0', '--timeout=30s']);
    for (const ns of [NS_OURS, NS_REAL]) {
      const left = await call(api.url, 'GET', `/api/v1/namespaces/${ns}/pods`);
      expect(left.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['ds']);
    }
    const n = await t.get('/api/v1/nodes/NS');
    expect(n.ours.spec.unschedulable).toBe(true);
    await t.same(['drain', 'NS', '--ignore-daemonsets'], undefined, node);
  });

  it('retries a disruption budget refusal every 5 s', async () => {
    controllers = await startTestControllers(api.url, ['disruption']);
    await createPods([pod('guarded', { owner: 'ReplicaSet' })]);
    await call(api.url, 'PUT', `/api/v1/namespaces/${NS_OURS}/pods/guarded/status`, {
      ...(await call(api.url, 'GET', `/api/v1/namespaces/${NS_OURS}/pods/guarded`)).body,
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await call(api.url, 'POST', `/apis/policy/v1/namespaces/${NS_OURS}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
    });
    await eventually(async () => {
      const b = await call(api.url, 'GET', `/apis/policy/v1/namespaces/${NS_OURS}/poddisruptionbudgets/pdb`);
      return b.body.status?.observedGeneration === b.body.metadata.generation && b.body.status?.expectedPods === 1 || undefined;
    }, 'the disruption controller counts the budget');
    const r = await k.ours(['drain', NS_OURS, '--ignore-daemonsets', '--grace-period=0', '--timeout=7s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`evicting pod ${NS_OURS}/guarded\n`);
    expect(r.stderr).toMatch(new RegExp(`error when evicting pods/"guarded" -n "${NS_OURS}" \\(will retry after 5s\\): .+\\n`));
    expect(r.stderr.match(/will retry after 5s/g)!.length).toBe(2);
    expect(r.stderr).toContain('drain did not complete within 7s');
  }, 20_000);
});
