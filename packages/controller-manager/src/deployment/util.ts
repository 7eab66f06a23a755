import type { Deployment, PodTemplateSpec, ReplicaSet } from '@k8ts/api';

export type DeploymentCondition = NonNullable<NonNullable<Deployment['status']>['conditions']>[number];

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** The label that tells a Deployment's ReplicaSets (and their pods) apart (upstream's DefaultDeploymentUniqueLabelKey). */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const ROLLBACK_TO = 'deprecated.deployment.rollback.to';
/** Annotations never copied from a Deployment to its ReplicaSets (upstream's annotationsToSkip). */
const SKIP_ANNOTATIONS = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO]);
/** Longest revision-history annotation kept (upstream's maxRevHistoryLengthInChars). */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** Condition reasons, as upstream's deployment util names them. */
export const REASONS = {
  newRSAvailable: 'NewReplicaSetAvailable',
  rsUpdated: 'ReplicaSetUpdated',
  timedOut: 'ProgressDeadlineExceeded',
  foundNewRS: 'FoundNewReplicaSet',
  newRSCreated: 'NewReplicaSetCreated',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

export const replicasOf = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;
export const desiredOf = (d: Deployment): number => d.spec?.replicas ?? 1;

/**
 * An int-or-percent scaled against `total` (upstream's GetScaledValueFromIntOrPercent): `25%` of 10 is 3 rounding
 * up, 2 rounding down. Throws on a malformed string.
 */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or percentage (e.g '5%')`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** maxSurge (rounded up) and maxUnavailable (rounded down); both 0 makes maxUnavailable 1 (upstream's ResolveFenceposts). */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  const desired = desiredOf(d);
  const surge = scaledValue(ru?.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru?.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export const isRollingUpdate = (d: Deployment): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || desiredOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, desiredOf(d));
}

const created = (rs: ReplicaSet) => (rs.metadata?.creationTimestamp ? Date.parse(rs.metadata.creationTimestamp) : 0);

/** Oldest first; ties by name (upstream's ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  return d !== 0 ? d : (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
}

/** Larger first; equal sizes newer first (scaling up) or older first (scaling down): ReplicaSetsBySizeNewer/Older. */
export function bySize(newerFirst: boolean) {
  return (a: ReplicaSet, b: ReplicaSet): number => {
    if (replicasOf(a) !== replicasOf(b)) return replicasOf(b) - replicasOf(a);
    return newerFirst ? byCreation(b, a) : byCreation(a, b);
  };
}

/** The revision annotation as a number (0 when absent or malformed). */
export function revisionOf(rs: ReplicaSet): number {
  const v = Number(rs.metadata?.annotations?.[REVISION]);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/** Lowest revision first (upstream's ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a); const rb = revisionOf(b);
  return ra === rb ? byCreation(a, b) : ra - rb;
}

export const activeOnly = (list: (ReplicaSet | undefined)[]): ReplicaSet[] => list.filter((rs): rs is ReplicaSet => !!rs && replicasOf(rs) > 0);
export const sumSpec = (list: (ReplicaSet | undefined)[]): number => list.reduce((n, rs) => n + replicasOf(rs), 0);
export const sumStatus = (list: (ReplicaSet | undefined)[], f: 'replicas' | 'readyReplicas' | 'availableReplicas'): number =>
  list.reduce((n, rs) => n + (rs?.status?.[f] ?? 0), 0);

/** Deep equality where an absent field, null, {} and [] are all "empty" (apimachinery's Semantic.DeepEqual on defaulted objects). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v as object).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    return true;
  }
  return a === b;
}

/** Two pod templates are the same rollout when they differ only in the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH];
    return c;
  };
  return semanticEqual(strip(a), strip(b));
}

/** JSON with sorted keys: the same object always serialises the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/**
 * The pod-template-hash of a template (upstream's ComputeHash): FNV-1a 32 over the template (and the collision
 * count, little-endian), printed in decimal and mapped onto upstream's SafeEncodeString alphabet.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = 0x811c9dc5;
  const write = (bytes: Uint8Array) => { for (const b of bytes) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; } };
  write(new TextEncoder().encode(canonical(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setUint32(0, collisionCount >>> 0, true);
    write(buf);
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(h >>> 0)].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('');
}

/** Sets the desired- and max-replicas annotations; true when they changed (SetReplicasAnnotations). */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = (rs.metadata!.annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS] !== String(desired)) { a[DESIRED_REPLICAS] = String(desired); changed = true; }
  if (a[MAX_REPLICAS] !== String(max)) { a[MAX_REPLICAS] = String(max); changed = true; }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {};
  return a[DESIRED_REPLICAS] !== String(desired) || a[MAX_REPLICAS] !== String(max);
}

/**
 * Copies the Deployment's annotations to its new ReplicaSet and raises its revision to `newRevision`, keeping
 * the revisions it had in revision-history when it is rolled back to (SetNewReplicaSetAnnotations). True when
 * anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const a = (rs.metadata!.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIP_ANNOTATIONS.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const old = a[REVISION];
  const oldNum = old ? Number(old) : 0;
  if (old && !Number.isInteger(oldNum)) return changed;
  if (oldNum < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (old) {
      const history = a[REVISION_HISTORY] ? a[REVISION_HISTORY].split(',') : [];
      history.push(old);
      while (history.join(',').length > MAX_REVISION_HISTORY_CHARS && history.length > 1) history.shift();
      a[REVISION_HISTORY] = history.join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, desiredOf(d), desiredOf(d) + maxSurge(d))) changed = true;
  return changed;
}

const nowIso = (now: number) => new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');

export function condition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: number): DeploymentCondition {
  const t = nowIso(now);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

/**
 * Puts a condition in, unless one of that type with the same status and reason is there; the transition time
 * stays when only the reason changes (upstream's SetDeploymentCondition).
 */
export function setCondition(conditions: DeploymentCondition[], c: DeploymentCondition): DeploymentCondition[] {
  const current = conditions.find((x) => x.type === c.type);
  if (current && current.status === c.status && current.reason === c.reason) return conditions;
  const next = { ...c };
  if (current && current.status === c.status) next.lastTransitionTime = current.lastTransitionTime;
  return [...conditions.filter((x) => x.type !== c.type), next];
}

export const hasProgressDeadline = (d: Deployment): boolean =>
  d.spec?.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== 2147483647;

type Status = NonNullable<Deployment['status']>;

/** Every replica is updated and available, and the controller has seen the latest spec (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: Status): boolean {
  const want = desiredOf(d);
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want
    && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Something moved since the last status (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: Status): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** The Progressing condition was last updated longer than progressDeadlineSeconds ago (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: Status, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = s.conditions?.find((x) => x.type === 'Progressing');
  if (!c || c.reason === REASONS.newRSAvailable) return false;
  if (c.reason === REASONS.timedOut) return true;
  return Date.parse(c.lastUpdateTime ?? '') + (d.spec!.progressDeadlineSeconds! * 1000) < now;
}

/**
 * How many replicas this ReplicaSet gets of `toAdd` when a Deployment with several live ReplicaSets is scaled
 * (upstream's GetProportion / getReplicaSetFraction): its share by the max-replicas it was sized for.
 */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (desiredOf(d) === 0) fraction = -replicasOf(rs);
  else {
    const deploymentReplicas = desiredOf(d) + maxSurge(d);
    const annotated = Number(rs.metadata?.annotations?.[MAX_REPLICAS]);
    const base = Number.isInteger(annotated) && annotated > 0 ? annotated : d.status?.replicas ?? 0;
    const size = base > 0 ? (replicasOf(rs) * deploymentReplicas) / base : replicasOf(rs);
    fraction = Math.sign(size) * Math.round(Math.abs(size)) - replicasOf(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** The new ReplicaSet's target during a rolling update (upstream's NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, all: (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return desiredOf(d);
  const current = sumSpec(all);
  const maxTotal = desiredOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, desiredOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}
