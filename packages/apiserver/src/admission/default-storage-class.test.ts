import { describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@k8ts/api';
import type { ResourceStore } from '../rest-store.js';
import { DefaultStorageClass, defaultStorageClass } from './default-storage-class.js';

const sc = (name: string, created: string, isDefault: boolean | 'beta'): KubeObject => ({
  metadata: {
    name, creationTimestamp: created,
    annotations: isDefault === 'beta' ? { 'storageclass.beta.kubernetes.io/is-default-class': 'true' }
      : { 'storageclass.kubernetes.io/is-default-class': isDefault ? 'true' : 'false' },
  },
  provisioner: 'x/y',
});
const PVCS = findResource('', 'v1', 'persistentvolumeclaims')!;

function plugin(classes: KubeObject[]): DefaultStorageClass {
  const p = new DefaultStorageClass();
  p.attach({ cache: { objects: new Map(classes.map((c) => [`/${c.metadata!.name}`, c])) } } as unknown as ResourceStore);
  return p;
}
const admit = (p: DefaultStorageClass, spec: Record<string, unknown>, annotations?: Record<string, string>) => {
  const object: KubeObject = { metadata: { name: 'c', ...(annotations ? { annotations } : {}) }, spec };
  p.mutate({ operation: 'CREATE', def: PVCS, namespace: 'default', name: 'c', subresource: '', object, dryRun: false });
  return (object.spec as { storageClassName?: string }).storageClassName;
};

describe('DefaultStorageClass admission', () => {
  it('picks the newest default class (either annotation), then the name', () => {
    expect(defaultStorageClass([sc('old', '2026-01-01T00:00:00Z', true), sc('new', '2026-02-01T00:00:00Z', 'beta'), sc('no', '2026-03-01T00:00:00Z', false)])?.metadata?.name).toBe('new');
    expect(defaultStorageClass([sc('b', '2026-01-01T00:00:00Z', true), sc('a', '2026-01-01T00:00:00Z', true)])?.metadata?.name).toBe('a');
    expect(defaultStorageClass([sc('no', '2026-01-01T00:00:00Z', false)])).toBeUndefined();
  });

  it('sets the class only on claims that name none', () => {
    const p = plugin([sc('local-path', '2026-01-01T00:00:00Z', true)]);
    expect(admit(p, {})).toBe('local-path');
    expect(admit(p, { storageClassName: '' })).toBe('');
    expect(admit(p, { storageClassName: 'fast' })).toBe('fast');
    expect(admit(p, {}, { 'volume.beta.kubernetes.io/storage-class': 'fast' })).toBeUndefined();
    expect(admit(plugin([]), {})).toBeUndefined();
  });
});
