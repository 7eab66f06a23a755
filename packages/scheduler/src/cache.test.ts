import { describe, expect, it } from 'vitest';
import { FakeClock, type Node, type Pod } from '@k8ts/api';
import { SchedulerCache } from './cache.js';

const node = (name: string, cpu = '4'): Node => ({
  metadata: { name },
  status: { allocatable: { cpu, memory: '8Gi', pods: '110' } },
});
const pod = (name: string, nodeName?: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { nodeName, containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }] },
  ...extra,
});

function setup(nodes = ['n1', 'n2']) {
  const clock = new FakeClock();
  const cache = new SchedulerCache({ clock });
  for (const n of nodes) cache.addNode(node(n));
  /** Pod names and requested milli-CPU per node. */
  const view = (name: string) => {
    const info = cache.nodeInfo(name);
    return info && { pods: info.pods.map((p) => p.metadata!.name).sort(), milliCPU: info.requested.milliCPU };
  };
  return { clock, cache, view };
}

describe('SchedulerCache', () => {
  it('counts bound pods per node, and drops them on delete', () => {
    const { cache, view } = setup();
    cache.addPod(pod('a', 'n1'));
    cache.addPod(pod('b', 'n1'));
    cache.addPod(pod('c', 'n2'));
    cache.addPod(pod('pending')); // no spec.nodeName: not ours
    expect(view('n1')).toEqual({ pods: ['a', 'b'], milliCPU: 200 });
    expect(view('n2')).toEqual({ pods: ['c'], milliCPU: 100 });
    cache.removePod(pod('a', 'n1'));
    expect(view('n1')).toEqual({ pods: ['b'], milliCPU: 100 });
  });

  it('counts an assumed pod at once, and once only when the informer confirms it', () => {
    const { cache, view } = setup();
    const assumed = cache.assume(pod('a'), 'n1');
    expect(assumed.spec?.nodeName).toBe('n1');
    expect(view('n1')).toEqual({ pods: ['a'], milliCPU: 100 });
    cache.updatePod(pod('a'), pod('a', undefined, { status: { phase: 'Pending' } })); // not yet bound: still assumed
    expect(view('n1')).toEqual({ pods: ['a'], milliCPU: 100 });
    cache.finishBinding(pod('a'));
    cache.addPod(pod('a', 'n1'));
    expect(view('n1')).toEqual({ pods: ['a'], milliCPU: 100 });
    expect(() => cache.assume(pod('a'), 'n2')).toThrow(/already in the scheduler cache/);
  });

  it('forgets an assumed pod whose binding failed', () => {
    const { cache, view } = setup();
    cache.assume(pod('a'), 'n1');
    cache.forget(pod('a'));
    expect(view('n1')).toEqual({ pods: [], milliCPU: 0 });
    cache.assume(pod('a'), 'n2'); // may be assumed again
    expect(view('n2')).toEqual({ pods: ['a'], milliCPU: 100 });
  });

  it('expires an assumed pod ttl after finishBinding unless confirmed', () => {
    const { clock, cache, view } = setup();
    cache.assume(pod('a'), 'n1');
    cache.assume(pod('b'), 'n1');
    clock.advance(60_000);
    cache.cleanupExpired(); // binding still running: never expires
    expect(view('n1')?.pods).toEqual(['a', 'b']);

    cache.finishBinding(pod('a'));
    cache.finishBinding(pod('b'));
    cache.addPod(pod('b', 'n1'));
    clock.advance(29_999);
    cache.cleanupExpired();
    expect(view('n1')?.pods).toEqual(['a', 'b']);
    clock.advance(1);
    cache.cleanupExpired();
    expect(view('n1')).toEqual({ pods: ['b'], milliCPU: 100 });

    cache.addPod(pod('a', 'n1')); // confirmed after all: counted again
    expect(view('n1')).toEqual({ pods: ['a', 'b'], milliCPU: 200 });
  });

  it('moves an assumed pod the informer saw bound to another node', () => {
    const { cache, view } = setup();
    cache.assume(pod('a'), 'n1');
    cache.addPod(pod('a', 'n2'));
    expect(view('n1')).toEqual({ pods: [], milliCPU: 0 });
    expect(view('n2')).toEqual({ pods: ['a'], milliCPU: 100 });
  });

  it('does not count finished pods, but counts terminating ones', () => {
    const { cache, view } = setup();
    cache.addPod(pod('done', 'n1', { status: { phase: 'Succeeded' } }));
    cache.addPod(pod('a', 'n1'));
    cache.addPod(pod('b', 'n1'));
    cache.updatePod(pod('a', 'n1'), pod('a', 'n1', { status: { phase: 'Failed' } }));
    const terminating = pod('b', 'n1', { metadata: { ...pod('b').metadata, deletionTimestamp: '2026-11-24T07:32:17Z' } });
    cache.updatePod(pod('b', 'n1'), terminating);
    expect(view('n1')).toEqual({ pods: ['b'], milliCPU: 100 });
  });

  it('drops a removed node, and counts pods that arrived before or outlived their node', () => {
    const { cache, view } = setup(['n1']);
    cache.addPod(pod('a', 'n1'));
    cache.addPod(pod('b', 'n3'));
    cache.removeNode(node('n1'));
    expect(view('n1')).toBeUndefined();
    expect(cache.snapshot()).toEqual([]);
    cache.addNode(node('n3'));
    expect(view('n3')).toEqual({ pods: ['b'], milliCPU: 100 });
    cache.addNode(node('n1'));
    expect(view('n1')).toEqual({ pods: ['a'], milliCPU: 100 });
  });

  it('snapshots every node with its bound and assumed pods; a node update keeps its pods', () => {
    const { cache } = setup(['n1', 'n2', 'n3']);
    cache.addPod(pod('a', 'n1'));
    cache.assume(pod('b'), 'n2');
    cache.updateNode(node('n2'), node('n2', '8'));
    const snap = cache.snapshot();
    expect(snap.map((i) => [i.node.metadata!.name, i.pods.map((p) => p.metadata!.name)])).toEqual([
      ['n1', ['a']], ['n2', ['b']], ['n3', []],
    ]);
    expect(snap[1]).toMatchObject({ requested: { milliCPU: 100, pods: 1 }, allocatable: { milliCPU: 8000 } });
  });
});
