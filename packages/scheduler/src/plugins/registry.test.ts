import { describe, expect, it } from 'vitest';
import { buildProfile, DEFAULT_PROFILE, defaultProfile, loadProfile, REGISTRY, type Profile } from './registry.js';

const names = (p: Profile) => ({
  preFilters: p.preFilters.map((x) => x.name),
  filters: p.filters.map((x) => x.name),
  scores: p.scores.map((s) => [s.plugin.name, s.weight]),
});

const DEFAULT_FILTERS = [
  'NodeUnschedulable', 'NodeName', 'NodeReady', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit',
  'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity',
];
const DEFAULT_SCORES = [
  ['TaintToleration', 3], ['NodeAffinity', 2], ['NodeResourcesFit', 1], ['PodTopologySpread', 2], ['InterPodAffinity', 2],
  ['NodeResourcesBalancedAllocation', 1],
];

describe('REGISTRY', () => {
  it('maps each upstream name to a factory of that plugin', () => {
    for (const [name, factory] of Object.entries(REGISTRY)) expect(factory().name).toBe(name);
    expect(Object.keys(REGISTRY)).toHaveLength(11);
  });
});

describe('DEFAULT_PROFILE', () => {
  it("has upstream's default plugins and weights, plus NodeReady", () => {
    expect(names(defaultProfile())).toEqual({ preFilters: ['NodeAffinity', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity'], filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES });
    expect(DEFAULT_PROFILE.score.map((s) => [s.name, s.weight])).toEqual(DEFAULT_SCORES);
  });

  it('uses one instance per plugin across extension points, and fresh ones per profile', () => {
    const p = defaultProfile();
    expect(p.scores.find((s) => s.plugin.name === 'TaintToleration')!.plugin).toBe(p.filters.find((f) => f.name === 'TaintToleration'));
    expect(defaultProfile().filters[0]).not.toBe(p.filters[0]);
  });
});

describe('loadProfile', () => {
  it.each([
    ['an empty document is the default profile', '', { filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES }],
    ['no plugins section is the default profile', 'profiles:\n- schedulerName: default-scheduler\n', { filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES }],
    ['disabling a filter', `
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    filter:
      disabled: [{ name: NodePorts }, { name: NodeReady }]
`, { filters: DEFAULT_FILTERS.filter((n) => n !== 'NodePorts' && n !== 'NodeReady'), scores: DEFAULT_SCORES }],
    ['disabling every score plugin and enabling one', `
profiles:
- plugins:
    score:
      disabled: [{ name: '*' }]
      enabled: [{ name: NodeResourcesBalancedAllocation, weight: 5 }]
`, { filters: DEFAULT_FILTERS, scores: [['NodeResourcesBalancedAllocation', 5]] }],
    ['re-enabling a default plugin replaces its weight in place; no weight means its default', `
profiles:
- plugins:
    score:
      enabled: [{ name: NodeAffinity, weight: 7 }, { name: TaintToleration }]
`, { filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES.map(([n, w]) => [n, n === 'NodeAffinity' ? 7 : w]) }],
    ['enabling a plugin after disabling all filters', `
profiles:
- plugins:
    filter:
      disabled: [{ name: '*' }]
      enabled: [{ name: NodeName }, { name: NodeResourcesFit }]
`, { filters: ['NodeName', 'NodeResourcesFit'], scores: DEFAULT_SCORES }],
  ])('%s', (_name, yaml, expected) => {
    const p = names(loadProfile(yaml));
    expect({ filters: p.filters, scores: p.scores }).toEqual(expected);
  });

  it('only pre-filters the enabled filter plugins', () => {
    const p = loadProfile('profiles:\n- plugins:\n    filter:\n      disabled: [{ name: InterPodAffinity }]\n');
    expect(names(p).preFilters).toEqual(['NodeAffinity', 'VolumeBinding', 'PodTopologySpread']);
    expect(names(p).scores).toContainEqual(['InterPodAffinity', 2]);
  });

  it.each([
    ['unknown plugin', 'profiles:\n- plugins:\n    filter:\n      enabled: [{ name: ImageLocality }]\n',
      'profiles[0].plugins.filter.enabled[0]: unknown plugin "ImageLocality" (known: NodeUnschedulable, NodeName'],
    ['unknown disabled plugin', 'profiles:\n- plugins:\n    score:\n      disabled: [{ name: NodeAfinity }]\n',
      'profiles[0].plugins.score.disabled[0]: unknown plugin "NodeAfinity"'],
    ['a filter-only plugin as a score', 'profiles:\n- plugins:\n    score:\n      enabled: [{ name: NodeName, weight: 1 }]\n',
      'profiles[0].plugins: plugin "NodeName" is not a score plugin'],
    ['unsupported extension point', 'profiles:\n- plugins:\n    multiPoint:\n      enabled: [{ name: NodeName }]\n',
      'profiles[0].plugins.multiPoint: extension point not supported (k8ts configures filter and score)'],
    ['bad weight', 'profiles:\n- plugins:\n    score:\n      enabled: [{ name: NodeAffinity, weight: -1 }]\n',
      'profiles[0].plugins.score.enabled[0].weight: must be a non-negative integer, got -1'],
    ['missing name', 'profiles:\n- plugins:\n    score:\n      enabled: [{ weight: 2 }]\n', 'profiles[0].plugins.score.enabled[0].name: a plugin name is required'],
    ['a plugin enabled twice', 'profiles:\n- plugins:\n    filter:\n      enabled: [{ name: NodePorts }, { name: NodePorts }]\n',
      'profiles[0].plugins.filter: plugin "NodePorts" is enabled twice'],
    ['two profiles', 'profiles:\n- schedulerName: a\n- schedulerName: b\n', 'profiles: k8ts runs one profile, got 2'],
    ['not YAML', 'profiles: [\n', 'scheduler configuration is not valid YAML'],
    ['not a mapping', 'profiles:\n- plugins: [1]\n', 'profiles[0].plugins: expected a mapping'],
  ])('rejects %s', (_name, yaml, message) => {
    expect(() => loadProfile(yaml)).toThrow(message);
  });

  it('buildProfile rejects unknown names too', () => {
    expect(() => buildProfile({ filter: ['Nope'], score: [] })).toThrow('unknown filter plugin "Nope"');
  });
});
