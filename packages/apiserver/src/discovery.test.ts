import { describe, expect, it } from 'vitest';
import type { ResourceDef } from '@k8ts/api';
import { aggregatedDiscovery, apiGroupList, apiResourceList, compareKubeVersions } from './discovery.js';

describe('compareKubeVersions', () => {
  it('orders as Kubernetes does: GA, beta, alpha, higher first, then the rest alphabetically', () => {
    const versions = ['v1alpha1', 'foo', 'v2', 'v1beta1', 'v1', 'v10', 'v1beta2', 'v11alpha2', 'bar'];
    expect(versions.sort(compareKubeVersions)).toEqual(['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
  });
});

describe('discovery with custom rows', () => {
  const row = (version: string): ResourceDef => ({
    group: 'example.com', version, resource: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', namespaced: false,
    shortNames: ['wd'], categories: [], verbs: ['get', 'list'], subresources: [],
  });
  const custom = [row('v1beta1'), row('v1')];
  it('lists a custom group after the built-in ones, its versions in Kubernetes order', () => {
    const groups = (apiGroupList(custom) as { groups: { name: string; preferredVersion: { version: string } }[] }).groups;
    const g = groups.find((x) => x.name === 'example.com')!;
    expect(g.preferredVersion.version).toBe('v1');
    expect(groups.indexOf(g)).toBeGreaterThan(groups.findIndex((x) => x.name === 'apps'));
    expect(apiResourceList('example.com', 'v1beta1', custom)).toMatchObject({ groupVersion: 'example.com/v1beta1', resources: [{ name: 'widgets', namespaced: false, shortNames: ['wd'] }] });
    const agg = aggregatedDiscovery(false, custom) as { items: { metadata: { name: string }; versions: { version: string; resources: { scope: string }[] }[] }[] };
    const item = agg.items.find((i) => i.metadata.name === 'example.com')!;
    expect(item.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
    expect(item.versions[0].resources[0].scope).toBe('Cluster');
    expect(apiResourceList('example.com', 'v1')).toBeUndefined();
  });
});
