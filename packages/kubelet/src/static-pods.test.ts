import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@k8ts/api';
import { readStaticPods, STATIC } from './static-pods.js';

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('readStaticPods', () => {
  it('reads one pod per file, bound to the node, named and hashed as upstream', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'static-'));
    writeFileSync(path.join(dir, 'web.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: k8ts/busybox:latest\n');
    writeFileSync(path.join(dir, 'bad.yaml'), 'kind: ConfigMap\nmetadata: {name: x}\n');
    writeFileSync(path.join(dir, 'broken.yaml'), 'a: [b');
    writeFileSync(path.join(dir, '.hidden'), 'x');
    const pods = await readStaticPods(dir, 'node-1', silentLogger);
    expect(pods).toHaveLength(1);
    const [pod] = pods;
    expect(pod.metadata).toMatchObject({ name: 'web-node-1', namespace: 'default', annotations: { [STATIC.source]: 'file' } });
    expect(pod.metadata!.uid).toBe(pod.metadata!.annotations![STATIC.hash]);
    expect(pod.spec).toMatchObject({ nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30 });
    expect(pod.spec!.containers[0].imagePullPolicy).toBe('Always');
    const again = await readStaticPods(dir, 'node-1', silentLogger);
    expect(again[0].metadata!.uid).toBe(pod.metadata!.uid); // stable: restarts adopt its containers
    writeFileSync(path.join(dir, 'web.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: k8ts/busybox:v2\n');
    expect((await readStaticPods(dir, 'node-1', silentLogger))[0].metadata!.uid).not.toBe(pod.metadata!.uid);
  });

  it('treats a missing directory as no static pods', async () => {
    expect(await readStaticPods('/nonexistent/k8ts-manifests', 'n', silentLogger)).toEqual([]);
  });
});
