import type { EndpointSlice, Node, Pod, Service } from '@k8ts/api';
import {
  findPort, HEADLESS_LABEL, podHostname, podIPv4, shouldPodBeInEndpoints,
} from '../endpoint-util.js';
import { isPodReady } from '../pods.js';

/** discovery.LabelServiceName: the Service a slice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** discovery.LabelManagedBy: who writes a slice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** This controller's LABEL_MANAGED_BY value. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** `--max-endpoints-per-slice`'s default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;
/** The node label a slice endpoint's zone comes from. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export type SliceEndpoint = NonNullable<EndpointSlice['endpoints']>[number];
export type SlicePort = NonNullable<EndpointSlice['ports']>[number];

/** The writes that bring a Service's slices to what its pods say: creates first, then updates, then deletes. */
export interface SliceChanges { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] }

const portsKey = (ports: readonly SlicePort[] | undefined) => JSON.stringify(
  [...(ports ?? [])].map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort(),
);
/** An endpoint's identity within a slice: its addresses and the pod behind them (upstream's hashEndpoint). */
const endpointKey = (e: SliceEndpoint) => JSON.stringify([[...e.addresses].sort(), e.targetRef?.namespace ?? '', e.targetRef?.name ?? '', e.hostname ?? '']);
const endpointsEqual = (a: SliceEndpoint, b: SliceEndpoint) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(e: SliceEndpoint): unknown {
  return [e.conditions?.ready, e.conditions?.serving, e.conditions?.terminating, e.hostname, e.nodeName, e.zone, e.targetRef?.uid, e.targetRef?.name];
}

/** Whether the slice's controllerRef is this Service (uid included, so a re-created Service's slices are not its own). */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Service' && r.uid === svc.metadata?.uid && r.controller);
}

/** A slice's labels: the Service's, then the reserved ones this controller owns (setEndpointSliceLabels). */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== HEADLESS_LABEL) labels[k] = v;
  }
  labels[LABEL_SERVICE_NAME] = svc.metadata!.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

/** An empty slice of the Service for `ports`, named by the apiserver from `<service>-` (newEndpointSlice). */
export function newSlice(svc: Service, ports: SlicePort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata!.name}-`, namespace: svc.metadata!.namespace, labels: sliceLabels(svc),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name!, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    ports,
    endpoints: [],
  };
}

/** The service ports as this pod serves them; ports whose named target the pod lacks are left out (getEndpointPorts). */
export function endpointPorts(svc: Service, pod: Pod): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** The slice endpoint of one pod (podToEndpoint): ready is serving and not terminating, or publishNotReadyAddresses. */
export function podToEndpoint(pod: Pod, svc: Service, node: Node | undefined): SliceEndpoint | undefined {
  const ip = podIPv4(pod);
  if (!ip) return undefined;
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const hostname = podHostname(pod, svc);
  const zone = node?.metadata?.labels?.[ZONE_LABEL];
  return {
    addresses: [ip],
    conditions: { ready, serving, terminating },
    ...(hostname ? { hostname } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(zone ? { zone } : {}),
  };
}

const isPlaceholder = (s: EndpointSlice) => (s.ports ?? []).length === 0 && (s.endpoints ?? []).length === 0;

/**
 * What to create, update and delete so that the Service's slices hold exactly its pods' endpoints, touching as
 * few slices as it can (upstream's reconciler): existing slices keep the endpoints still wanted, slices being
 * updated anyway are filled first, then new slices of at most `maxPerSlice`; a Service with no endpoints keeps one
 * empty placeholder slice.
 */
export function reconcileSlices(
  svc: Service, pods: readonly Pod[], existing: readonly EndpointSlice[], nodeOf: (name: string) => Node | undefined,
  maxPerSlice = DEFAULT_MAX_ENDPOINTS_PER_SLICE,
): SliceChanges {
  const changes: SliceChanges = { create: [], update: [], delete: [] };
  const labels = sliceLabels(svc);
  const labelsJSON = JSON.stringify(labels);

  // The desired endpoints, grouped by the ports they serve (pods may resolve named ports differently).
  const desired = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ep = podToEndpoint(pod, svc, pod.spec?.nodeName ? nodeOf(pod.spec.nodeName) : undefined);
    if (!ep) continue;
    const ports = endpointPorts(svc, pod);
    const k = portsKey(ports);
    let group = desired.get(k);
    if (!group) desired.set(k, group = { ports, endpoints: new Map() });
    group.endpoints.set(endpointKey(ep), ep);
  }

  const mine: EndpointSlice[] = [];
  for (const s of existing) {
    // Another Service's slices under this name (a deleted and re-created Service), or another address type: delete.
    if (!ownedBy(s, svc) || s.addressType !== 'IPv4') changes.delete.push(s); else mine.push(s);
  }
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of mine) {
    const k = portsKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) changes.delete.push(...slices);
  for (const [k, group] of desired) reconcilePorts(svc, group.ports, group.endpoints, existingByPorts.get(k) ?? [], labels, labelsJSON, maxPerSlice, changes);

  // A Service with no endpoints still has one (empty) slice, so consumers can tell it is known and empty.
  if (existing.length === changes.delete.length && changes.create.length === 0) {
    const placeholder = newSlice(svc, []);
    const reuse = changes.delete.length === 1 && isPlaceholder(changes.delete[0]) && ownedBy(changes.delete[0], svc)
      && JSON.stringify(changes.delete[0].metadata?.labels ?? {}) === labelsJSON;
    if (reuse) changes.delete = [];
    else changes.create.push(placeholder);
  }

  // Rather than create one slice and delete another, update the one that would go.
  for (let i = 0; i < changes.delete.length && changes.create.length > 0;) {
    const old = changes.delete[i];
    if (old.addressType === 'IPv4' && ownedBy(old, svc)) {
      const made = changes.create.pop()!;
      changes.update.push({ ...structuredClone(old), ports: made.ports, endpoints: made.endpoints, metadata: { ...structuredClone(old.metadata!), labels: made.metadata!.labels } });
      changes.delete.splice(i, 1);
    } else i++;
  }
  return changes;
}

function reconcilePorts(
  svc: Service, ports: SlicePort[], wanted: Map<string, SliceEndpoint>, slices: readonly EndpointSlice[],
  labels: Record<string, string>, labelsJSON: string, max: number, changes: SliceChanges,
): void {
  const updating: EndpointSlice[] = [];
  const unchanged: EndpointSlice[] = [];
  // 1. Each existing slice keeps the endpoints still wanted (refreshed); one that lost them all goes.
  for (const s of slices) {
    const kept: SliceEndpoint[] = [];
    let changed = false;
    for (const e of s.endpoints ?? []) {
      const k = endpointKey(e);
      const want = wanted.get(k);
      if (!want) continue;
      if (!endpointsEqual(want, e)) changed = true;
      kept.push(want);
      wanted.delete(k);
    }
    const labelsChanged = JSON.stringify(s.metadata?.labels ?? {}) !== labelsJSON;
    if (changed || kept.length !== (s.endpoints ?? []).length) {
      if (kept.length === 0) { changes.delete.push(s); continue; }
      updating.push({ ...structuredClone(s), endpoints: kept, metadata: { ...structuredClone(s.metadata!), labels } });
    } else if (labelsChanged) {
      updating.push({ ...structuredClone(s), metadata: { ...structuredClone(s.metadata!), labels } });
    } else unchanged.push(s);
  }
  const rest = [...wanted.values()];
  // 2. New endpoints go first into slices written anyway, fullest first.
  updating.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
  for (const s of updating) while (rest.length && s.endpoints!.length < max) s.endpoints!.push(rest.shift()!);
  changes.update.push(...updating);
  // 3. Then into the fullest unchanged slice they all fit in, else into new slices.
  while (rest.length) {
    let fill: EndpointSlice | undefined;
    if (rest.length < max) {
      const fits = unchanged.filter((s) => (s.endpoints?.length ?? 0) + rest.length <= max);
      fits.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
      if (fits[0]) {
        unchanged.splice(unchanged.indexOf(fits[0]), 1);
        fill = structuredClone(fits[0]);
        fill.endpoints ??= [];
      }
    }
    fill ??= newSlice(svc, ports);
    while (rest.length && fill.endpoints!.length < max) fill.endpoints!.push(rest.shift()!);
    if (fill.metadata?.name) changes.update.push(fill); else changes.create.push(fill);
  }
}
