import { describe, expect, it } from 'vitest';
import { goMarshal } from './cmd/apply-util.js';
import { patchMetaFor } from './patch-meta.js';
import { threeWayMergePatch } from './strategic-patch.js';

const deployMeta = patchMetaFor('apps/v1', 'Deployment')!;
const deploy = (spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'demo' }, spec });

describe('threeWayMergePatch (kubectl apply)', () => {
  it('sends what kubectl sends for a changed image and replicas (kubectl-wire.md §6)', () => {
    const original = deploy({ replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } });
    const current = deploy({ replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }] } } });
    const modified = deploy({ replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } } });
    expect(goMarshal(threeWayMergePatch(original, modified, current, deployMeta)))
      .toBe('{"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"image":"nginx:1.26","name":"app"}]}}}}');
  });

  it('retains only the strategy keys sent, and deletes dropped fields and list items', () => {
    const original = deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, template: { metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } } });
    const modified = deploy({ strategy: { type: 'Recreate' }, template: { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'a', image: 'x' }] } } });
    expect(threeWayMergePatch(original, modified, original, deployMeta)).toEqual({
      spec: {
        strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' },
        template: {
          metadata: { labels: { b: null } },
          spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ $patch: 'delete', name: 'b' }] },
        },
      },
    });
  });

  it('is empty when nothing changed, whatever the server added', () => {
    const applied = deploy({ replicas: 1 });
    const live = { ...deploy({ replicas: 1, revisionHistoryLimit: 10 }), status: { replicas: 1 } };
    expect(threeWayMergePatch(applied, applied, live, deployMeta)).toEqual({});
  });

  it('sets and deletes in primitive lists merged as sets (finalizers)', () => {
    const cm = (fin: string[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', finalizers: fin } });
    const meta = patchMetaFor('v1', 'ConfigMap')!;
    expect(threeWayMergePatch(cm(['a', 'b']), cm(['a', 'c']), cm(['a', 'b']), meta)).toEqual({
      metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['b'], '$setElementOrder/finalizers': ['a', 'c'] },
    });
  });
});
