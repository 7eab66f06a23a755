import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, FakeClock } from '@k8ts/api';
import { FakeRuntime } from '../test/fake-runtime.js';
import { Kubelet } from './kubelet.js';
import { LABELS } from './runtime.js';

const labels = (uid: string, node?: string) => ({
  [LABELS.podUid]: uid, [LABELS.podName]: uid, [LABELS.podNamespace]: 'default', ...(node ? { [LABELS.nodeName]: node } : {}),
});

describe('Kubelet relist on an engine shared by two nodes', () => {
  let dir = '';
  afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('removes its own orphans and never touches another node\'s containers or unlabelled ones', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-relist-'));
    const runtime = new FakeRuntime(new FakeClock());
    const orphan = { uid: 'orphan', name: 'orphan', namespace: 'default' };
    const theirs = { uid: 'theirs', name: 'theirs', namespace: 'default' };
    const legacy = { uid: 'legacy', name: 'legacy', namespace: 'default' };
    runtime.add(orphan, 'POD', labels('orphan', 'node-1'), { sandbox: true });
    runtime.add(orphan, 'app', labels('orphan', 'node-1'));
    const keep = [
      runtime.add(theirs, 'POD', labels('theirs', 'node-2'), { sandbox: true }),
      runtime.add(theirs, 'app', labels('theirs', 'node-2')),
      runtime.add(legacy, 'app', labels('legacy')),
    ];
    // Nothing is ever asked of the apiserver here: the pod informer has not run, so node-1 runs no pod.
    const client = new ApiClient({ server: 'http://127.0.0.1:1' });
    const kubelet = new Kubelet({ client, runtime, nodeName: 'node-1', nodeIP: '127.0.1.1', port: 0, network: 'bridge', rootDir: dir });
    await kubelet.relist(true);
    expect(runtime.containers.map((c) => c.id).sort()).toEqual(keep.map((c) => c.id).sort());
    expect(runtime.containers.every((c) => c.state === 'running')).toBe(true);
    expect(runtime.calls.filter((c) => c.startsWith('stop'))).toEqual(['stop app', 'stop POD']); // the orphan's only
    expect(kubelet.containersOf('theirs')).toEqual([]);
    await client.close();
  });
});
