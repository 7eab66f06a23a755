import { parse } from 'yaml';
import type { FilterPlugin, Plugin, PluginHandle, PreBindPlugin, PreFilterPlugin, ScorePlugin } from '../types.js';
import { balancedAllocation, NODE_RESOURCES_BALANCED_ALLOCATION } from './balanced-allocation.js';
import { INTER_POD_AFFINITY, interPodAffinity } from './inter-pod-affinity.js';
import { NODE_AFFINITY, nodeAffinity } from './node-affinity.js';
import { NODE_NAME, nodeName } from './node-name.js';
import { NODE_PORTS, nodePorts } from './node-ports.js';
import { NODE_READY, nodeReady } from './node-ready.js';
import { NODE_RESOURCES_FIT, nodeResourcesFit } from './node-resources-fit.js';
import { NODE_UNSCHEDULABLE, nodeUnschedulable } from './node-unschedulable.js';
import { POD_TOPOLOGY_SPREAD, podTopologySpread } from './pod-topology-spread.js';
import { TAINT_TOLERATION, taintToleration } from './taint-toleration.js';
import { VOLUME_BINDING, volumeBinding } from './volume-binding.js';

/** Every plugin k8ts has, by its upstream name; a factory may read the handle (shared informers). */
export const REGISTRY: Record<string, (handle: PluginHandle) => Plugin> = {
  [NODE_UNSCHEDULABLE]: nodeUnschedulable,
  [NODE_NAME]: nodeName,
  [NODE_READY]: nodeReady,
  [TAINT_TOLERATION]: taintToleration,
  [NODE_AFFINITY]: nodeAffinity,
  [NODE_PORTS]: nodePorts,
  [NODE_RESOURCES_FIT]: nodeResourcesFit,
  [POD_TOPOLOGY_SPREAD]: podTopologySpread,
  [INTER_POD_AFFINITY]: interPodAffinity,
  [NODE_RESOURCES_BALANCED_ALLOCATION]: balancedAllocation,
  [VOLUME_BINDING]: volumeBinding,
};

/** Plugins enabled at each extension point, in order, with score weights. */
export interface PluginSet {
  filter: readonly string[];
  score: readonly { name: string; weight: number }[];
}

/**
 * Upstream's default plugins and score weights (pkg/scheduler/apis/config/v1/default_plugins.go), in its order,
 * minus the ones k8ts does not have, plus NodeReady where upstream's not-ready taint would be caught.
 */
export const DEFAULT_PROFILE: PluginSet = Object.freeze({
  filter: Object.freeze([
    NODE_UNSCHEDULABLE, NODE_NAME, NODE_READY, TAINT_TOLERATION, NODE_AFFINITY, NODE_PORTS, NODE_RESOURCES_FIT,
    VOLUME_BINDING, POD_TOPOLOGY_SPREAD, INTER_POD_AFFINITY,
  ]),
  score: Object.freeze([
    { name: TAINT_TOLERATION, weight: 3 },
    { name: NODE_AFFINITY, weight: 2 },
    { name: NODE_RESOURCES_FIT, weight: 1 },
    { name: POD_TOPOLOGY_SPREAD, weight: 2 },
    { name: INTER_POD_AFFINITY, weight: 2 },
    { name: NODE_RESOURCES_BALANCED_ALLOCATION, weight: 1 },
  ].map((s) => Object.freeze(s))),
});

/** Instantiated plugins the scheduler runs: pre-filters, filters, weighted scores. */
export interface Profile {
  preFilters: PreFilterPlugin[];
  filters: FilterPlugin[];
  scores: { plugin: ScorePlugin; weight: number }[];
  /** PreBind plugins: those of the filter plugins that have one (VolumeBinding). */
  preBinds?: PreBindPlugin[];
}

const isFilter = (p: Plugin): p is FilterPlugin => typeof (p as Partial<FilterPlugin>).filter === 'function';
const isScore = (p: Plugin): p is ScorePlugin => typeof (p as Partial<ScorePlugin>).score === 'function';
const isPreBind = <T extends Plugin>(p: T): p is T & PreBindPlugin => typeof (p as Partial<PreBindPlugin>).preBind === 'function';
const isPreFilter = <T extends Plugin>(p: T): p is T & PreFilterPlugin => typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';

/**
 * Instantiates a plugin set, one instance per plugin name. Pre-filters are those of the filter plugins, so a
 * plugin's per-cycle precomputation runs exactly when its filter does. Throws on unknown names.
 */
export function buildProfile(set: PluginSet, handle: PluginHandle = {}): Profile {
  const instances = new Map<string, Plugin>();
  const get = (name: string, point: 'filter' | 'score'): Plugin => {
    let p = instances.get(name);
    if (!p) {
      const factory = Object.hasOwn(REGISTRY, name) ? REGISTRY[name] : undefined;
      if (!factory) throw new Error(`unknown ${point} plugin "${name}" (known: ${Object.keys(REGISTRY).join(', ')})`);
      p = factory(handle);
      instances.set(name, p);
    }
    return p;
  };
  const filters = set.filter.map((name) => {
    const p = get(name, 'filter');
    if (!isFilter(p)) throw new Error(`plugin "${name}" is not a filter plugin`);
    return p;
  });
  const scores = set.score.map(({ name, weight }) => {
    const p = get(name, 'score');
    if (!isScore(p)) throw new Error(`plugin "${name}" is not a score plugin`);
    return { plugin: p, weight };
  });
  return { preFilters: filters.filter(isPreFilter), filters, scores, preBinds: filters.filter(isPreBind) };
}

/** A fresh profile with DEFAULT_PROFILE's plugins and weights (default spreading needs the handle's informers). */
export function defaultProfile(handle: PluginHandle = {}): Profile {
  return buildProfile(DEFAULT_PROFILE, handle);
}

interface PluginEntry { name: string; weight?: number }

const asObject = (v: unknown, path: string): Record<string, unknown> => {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path}: expected a mapping`);
  return v as Record<string, unknown>;
};

function entries(v: unknown, path: string, disabled: boolean): PluginEntry[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${path}: expected a list of {name, weight}`);
  return v.map((e: unknown, i) => {
    const o = asObject(e, `${path}[${i}]`);
    if (typeof o.name !== 'string' || o.name === '') throw new Error(`${path}[${i}].name: a plugin name is required`);
    if (o.weight !== undefined && o.weight !== null && (typeof o.weight !== 'number' || !Number.isInteger(o.weight) || o.weight < 0)) {
      throw new Error(`${path}[${i}].weight: must be a non-negative integer, got ${JSON.stringify(o.weight)}`);
    }
    if (!(disabled && o.name === '*') && !Object.hasOwn(REGISTRY, o.name)) {
      throw new Error(`${path}[${i}]: unknown plugin "${o.name}" (known: ${Object.keys(REGISTRY).join(', ')})`);
    }
    return { name: o.name, weight: typeof o.weight === 'number' ? o.weight : undefined };
  });
}

/**
 * Upstream's mergePluginSet: defaults minus the disabled ones ("*" disables them all); an enabled plugin that is
 * also a default replaces it in place (new weight), other enabled plugins are appended in order.
 */
function merge(defaults: readonly PluginEntry[], enabled: PluginEntry[], disabled: PluginEntry[]): PluginEntry[] {
  const off = new Set(disabled.map((d) => d.name));
  const custom = new Map(enabled.map((e) => [e.name, e]));
  const kept = off.has('*') ? [] : defaults.filter((d) => !off.has(d.name)).map((d) => custom.get(d.name) ?? d);
  return [...kept, ...enabled.filter((e) => !kept.includes(e))];
}

/**
 * Reads a KubeSchedulerConfiguration-like YAML: `profiles[0].plugins.{filter,score}.{enabled,disabled}` lists of
 * `{name, weight}` applied to DEFAULT_PROFILE as upstream merges them. A score weight of 0 or none means the
 * plugin's default weight (1 for plugins with none). No profiles → the default profile. Throws a message naming the
 * offending field for YAML errors, unknown plugins, unsupported extension points and plugins at the wrong point.
 */
export function loadProfile(yamlText: string, handle: PluginHandle = {}): Profile {
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch (err) {
    throw new Error(`scheduler configuration is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const profiles = asObject(doc, 'configuration').profiles;
  if (profiles === undefined || profiles === null) return defaultProfile(handle);
  if (!Array.isArray(profiles)) throw new Error('profiles: expected a list');
  if (profiles.length > 1) throw new Error(`profiles: k8ts runs one profile, got ${profiles.length}`);
  const plugins = asObject(asObject(profiles[0], 'profiles[0]').plugins, 'profiles[0].plugins');
  for (const point of Object.keys(plugins)) {
    if (point !== 'filter' && point !== 'score') throw new Error(`profiles[0].plugins.${point}: extension point not supported (k8ts configures filter and score)`);
  }
  const section = (point: 'filter' | 'score') => {
    const o = asObject(plugins[point], `profiles[0].plugins.${point}`);
    return [
      entries(o.enabled, `profiles[0].plugins.${point}.enabled`, false),
      entries(o.disabled, `profiles[0].plugins.${point}.disabled`, true),
    ] as const;
  };
  const defaultWeight = (name: string) => DEFAULT_PROFILE.score.find((s) => s.name === name)?.weight ?? 1;
  const filter = merge(DEFAULT_PROFILE.filter.map((name) => ({ name })), ...section('filter'));
  const score = merge(DEFAULT_PROFILE.score, ...section('score'));
  const profile = { filter: filter.map((e) => e.name), score: score.map((e) => ({ name: e.name, weight: e.weight || defaultWeight(e.name) })) };
  for (const point of ['filter', 'score'] as const) {
    const names = point === 'filter' ? profile.filter : profile.score.map((s) => s.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new Error(`profiles[0].plugins.${point}: plugin "${twice}" is enabled twice`);
  }
  try {
    return buildProfile(profile, handle);
  } catch (err) {
    throw new Error(`profiles[0].plugins: ${(err as Error).message}`, { cause: err });
  }
}
