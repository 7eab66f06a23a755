import type { AdmissionAttributes, AdmissionPlugin } from './chain.js';

/**
 * Upstream's DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds): every pod
 * that does not already tolerate `node.kubernetes.io/not-ready:NoExecute` or `node.kubernetes.io/unreachable:NoExecute`
 * gets a toleration for it with tolerationSeconds (300 by default, the apiserver's
 * `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`), so that the taint
 * eviction controller moves its pods off a lost node after five minutes rather than at once.
 */

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** Upstream's default for both flags. */
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface DefaultTolerationSecondsOptions {
  /** `--default-not-ready-toleration-seconds` (300). */
  notReadySeconds?: number;
  /** `--default-unreachable-toleration-seconds` (300). */
  unreachableSeconds?: number;
}

interface TolerationLike { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }
interface PodLike { spec?: { tolerations?: TolerationLike[] | null }; [field: string]: unknown }

/** Whether a toleration already covers `key:NoExecute` as upstream decides it (empty key or effect match any). */
function covers(t: TolerationLike, key: string): boolean {
  return (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect);
}

/**
 * Appends the not-ready and unreachable NoExecute tolerations a pod lacks, in that order (mutates `pod`; pure
 * otherwise). Runs on pod create and update, never on subresources, as upstream.
 */
export function admit(pod: PodLike, opts: DefaultTolerationSecondsOptions = {}): void {
  const spec = (pod.spec ??= {});
  // A malformed list is validation's to refuse, not ours to replace.
  if (spec.tolerations !== undefined && spec.tolerations !== null && !Array.isArray(spec.tolerations)) return;
  const tolerations = spec.tolerations ?? [];
  const add: TolerationLike[] = [];
  if (!tolerations.some((t) => t && covers(t, TAINT_NODE_NOT_READY))) {
    add.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: opts.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS });
  }
  if (!tolerations.some((t) => t && covers(t, TAINT_NODE_UNREACHABLE))) {
    add.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: opts.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS });
  }
  if (add.length) spec.tolerations = [...tolerations, ...add];
}

/** The plugin in the admission chain: pods' create and update, never their subresources. */
export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';
  constructor(private readonly opts: DefaultTolerationSecondsOptions = {}) {}

  mutate(a: AdmissionAttributes): void {
    if (a.def.group !== '' || a.def.resource !== 'pods' || a.subresource || !a.object) return;
    if (a.operation === 'CREATE' || a.operation === 'UPDATE') admit(a.object, this.opts);
  }
}
