import { realClock, rfc3339, type Clock, type Pod } from '@k8ts/api';
import type { NodeInfo, Status } from './types.js';

/**
 * One score plugin's part of a cycle: its normalized score (clamped to 0..100) per feasible node, in the order of
 * the verdict's `feasible`, or skipped (its PreScore said Skip).
 */
export type ExplainedScores =
  | { plugin: string; weight: number; skipped: true; scores?: undefined }
  | { plugin: string; weight: number; skipped?: undefined; scores: Float64Array };

/** What one scheduling cycle decided, as schedulePod built it (the maps are its own, kept rather than copied). */
export interface CycleVerdict {
  numNodes: number;
  evaluated: number;
  /** A pre-filter that rejected the pod on every node. */
  preFilter?: { plugin: string; status: Status };
  /** Node name → the filter plugin that rejected it; `reasons` holds its Status. */
  rejected: ReadonlyMap<string, string>;
  reasons?: ReadonlyMap<string, Status>;
  feasible: readonly NodeInfo[];
  scores: readonly ExplainedScores[];
  node?: string;
}

interface Entry { uid?: string; at: number; verdict: CycleVerdict }

/** The JSON served at /debug/scheduling/<namespace>/<pod>. */
export interface SchedulingExplanation {
  kind: 'SchedulingExplanation';
  apiVersion: 'k8ts.io/v1alpha1';
  pod: { namespace: string; name: string; uid?: string };
  time: string;
  result: 'Scheduled' | 'Unschedulable';
  node?: string;
  numNodes: number;
  evaluated: number;
  feasible: number;
  preFilter?: { plugin: string; code: string; reasons: string[] };
  /** Feasible nodes by total score (highest first), then the rejected ones. */
  nodes: ExplainedNode[];
}

export interface ExplainedNode {
  name: string;
  /** Rejected: the filter plugin, its status code and reasons. */
  filter?: { plugin: string; code: string; reasons: string[] };
  /** Feasible: each score plugin's normalized score (0..100), its weight and the weighted score; their sum. */
  scores?: { plugin: string; score: number; weight: number; weighted: number }[];
  skipped?: string[];
  total?: number;
  chosen?: boolean;
}

/**
 * "Scheduling explained": the last cycle's verdict of each recently scheduled pod, bounded to `maxPods` (the least
 * recently scheduled pod is dropped first). Recording stores references only; the JSON is built when asked for.
 */
export class SchedulingExplained {
  private readonly entries = new Map<string, Entry>();
  private readonly maxPods: number;
  private readonly clock: Clock;

  constructor(opts: { maxPods: number; clock?: Clock }) {
    this.maxPods = Math.max(0, opts.maxPods);
    this.clock = opts.clock ?? realClock;
  }

  /** Keeps the cycle's verdict for the pod, replacing its previous one. */
  record(pod: Pod, verdict: CycleVerdict): void {
    if (this.maxPods === 0) return;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    this.entries.delete(key);
    this.entries.set(key, { uid: pod.metadata?.uid, at: this.clock.now(), verdict });
    if (this.entries.size > this.maxPods) this.entries.delete(this.entries.keys().next().value!);
  }

  /** How many pods it keeps at most. */
  get capacity(): number {
    return this.maxPods;
  }

  /** How many pods are held. */
  get size(): number {
    return this.entries.size;
  }

  /** The pod's last cycle as JSON, or undefined when none is held. */
  explain(namespace: string, name: string): SchedulingExplanation | undefined {
    const entry = this.entries.get(`${namespace}/${name}`);
    if (!entry) return undefined;
    const v = entry.verdict;
    const nodes: ExplainedNode[] = [];
    for (const [i, info] of v.feasible.entries()) {
      const nodeName = info.node.metadata!.name!;
      const scores: NonNullable<ExplainedNode['scores']> = [];
      const skipped: string[] = [];
      let total = 0;
      for (const s of v.scores) {
        if (s.skipped) { skipped.push(s.plugin); continue; }
        const score = s.scores[i] ?? 0;
        scores.push({ plugin: s.plugin, score, weight: s.weight, weighted: score * s.weight });
        total += score * s.weight;
      }
      nodes.push({ name: nodeName, scores, ...(skipped.length ? { skipped } : {}), total, ...(nodeName === v.node ? { chosen: true } : {}) });
    }
    nodes.sort((a, b) => b.total! - a.total! || (b.chosen ? 1 : 0) - (a.chosen ? 1 : 0));
    for (const [nodeName, plugin] of v.rejected) {
      const st = v.reasons?.get(nodeName);
      nodes.push({ name: nodeName, filter: { plugin, code: st?.code ?? 'Unschedulable', reasons: st?.reasons ?? [] } });
    }
    return {
      kind: 'SchedulingExplanation', apiVersion: 'k8ts.io/v1alpha1',
      pod: { namespace, name, ...(entry.uid ? { uid: entry.uid } : {}) },
      time: rfc3339(entry.at),
      result: v.node ? 'Scheduled' : 'Unschedulable',
      ...(v.node ? { node: v.node } : {}),
      numNodes: v.numNodes, evaluated: v.evaluated, feasible: v.feasible.length,
      ...(v.preFilter ? { preFilter: { plugin: v.preFilter.plugin, code: v.preFilter.status.code, reasons: v.preFilter.status.reasons } } : {}),
      nodes,
    };
  }
}
