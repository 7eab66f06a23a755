import { describe, expect, it } from 'vitest';
import { compilePatchMeta, patchTableFor } from './patch-meta.js';

describe('patch tables', () => {
  it('has a table for each built-in kind kubectl patches strategically, none for other kinds', () => {
    expect(patchTableFor('', 'ConfigMap')).toEqual({});
    expect(patchTableFor('apps', 'Deployment')?.['spec.strategy']).toEqual({ strategy: 'retainKeys' });
    expect(patchTableFor('stable.example.com', 'CronTab')).toBeUndefined();
    expect(patchTableFor('', 'toString')).toBeUndefined();
  });

  it('compiles a table with ObjectMeta, list items as [] segments', () => {
    const meta = compilePatchMeta(patchTableFor('apps', 'Deployment')!);
    expect(meta(['spec', 'template', 'spec', 'containers', '[]', 'env'])).toEqual({ strategy: 'merge', mergeKey: 'name' });
    expect(meta(['metadata', 'ownerReferences'])).toEqual({ strategy: 'merge', mergeKey: 'uid' });
    expect(meta(['spec', 'template', 'spec', 'tolerations'])).toEqual({ strategy: 'replace' });
    // A key with a dot is one segment: it does not stand for the path it spells.
    expect(meta(['metadata.ownerReferences'])).toBeUndefined();
  });
});
