import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startLocalCluster } from './harness.js';

// A StatefulSet's volumeClaimTemplates end to end, with real containers and the real kubectl: the statefulset
// controller makes the claims, the scheduler's VolumeBinding picks the node, the local-path provisioner makes the
// volume there, the kubelet mounts it; a deleted pod's replacement gets the same claim and reads what it wrote.
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js'));

const manifest = `apiVersion: v1
kind: Service
metadata: { name: data }
spec:
  clusterIP: None
  selector: { app: data }
  ports: [{ port: 80 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: data }
spec:
  serviceName: data
  replicas: 2
  selector: { matchLabels: { app: data } }
  template:
    metadata: { labels: { app: data } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "echo \\"$(hostname) $(cat /proc/sys/kernel/random/uuid)\\" >> /data/log && exec sleep 3600"]
        volumeMounts: [{ name: www, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 16Mi } }
`;

describe.skipIf(!built)('a StatefulSet with volumeClaimTemplates on a 2-node cluster', () => {
  let c: Awaited<ReturnType<typeof startLocalCluster>>;
  const kubectl = (...args: string[]) => c.kubectl(...args);
  const jp = async (what: string, expr: string) => (await kubectl('get', what, '-o', `jsonpath=${expr}`)).trim();
  const running = async (name: string) => (await jp(`pod/${name}`, '{.status.phase}').catch(() => '')) === 'Running';

  beforeAll(async () => { c = await startLocalCluster('k8ts-sts-volumes-', { nodes: 2 }); }, 600_000);
  afterAll(async () => { await c?.down(); }, 120_000);

  it('gives each pod its own claim on its node, and a replacement pod reads what the deleted one wrote', { timeout: 400_000 }, async () => {
    await kubectl('apply', '-f', c.file('data.yaml', manifest));
    await eventually(async () => await running('data-0') && await running('data-1'), 'data-0 and data-1 running', 180_000);
    // The claims the controller made from the template, bound to volumes of the default class.
    const pvc = await kubectl('get', 'pvc');
    expect(pvc).toMatch(/www-data-0\s+Bound\s+pvc-\S+\s+16Mi\s+RWO\s+local-path/);
    expect(pvc).toMatch(/www-data-1\s+Bound\s+pvc-\S+\s+16Mi\s+RWO\s+local-path/);

    const first = (await kubectl('exec', 'data-0', '--', 'cat', '/data/log')).trim().split('\n');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^data-0 [0-9a-f-]{36}$/);
    const node = await jp('pod/data-0', '{.spec.nodeName}');
    const uid = await jp('pod/data-0', '{.metadata.uid}');

    await kubectl('delete', 'pod', 'data-0', '--wait=true');
    await eventually(async () => await running('data-0') && (await jp('pod/data-0', '{.metadata.uid}')) !== uid, 'a new data-0 running', 180_000);
    // The same claim, so the same volume, on the node that volume is on; the line written before is still there.
    expect(await jp('pod/data-0', '{.spec.nodeName}')).toBe(node);
    const after = await eventually(async () => {
      const lines = (await kubectl('exec', 'data-0', '--', 'cat', '/data/log')).trim().split('\n');
      return lines.length === 2 && lines;
    }, 'the replacement\'s line after the first one', 60_000);
    expect(after[0]).toBe(first[0]);
    expect(after[1]).toMatch(/^data-0 [0-9a-f-]{36}$/);
    expect(after[1]).not.toBe(first[0]);
    // data-1's volume is its own.
    expect((await kubectl('exec', 'data-1', '--', 'cat', '/data/log')).trim()).toMatch(/^data-1 [0-9a-f-]{36}$/);

    // Scaling down keeps the claim (persistentVolumeClaimRetentionPolicy whenScaled: Retain, the default).
    await kubectl('scale', 'statefulset', 'data', '--replicas=1');
    await eventually(async () => !(await kubectl('get', 'pods', '-o', 'name')).includes('pod/data-1'), 'data-1 gone', 120_000);
    expect(await kubectl('get', 'pvc', 'www-data-1', '-o', 'name')).toContain('www-data-1');
  });
});
