import type { ApiClient } from '@k8ts/api';
import {
  PrefixWriter, annotationsMultiline, controlledBy, formatLabelSelector, formatLabels, goCompare, goValue, humanDuration,
  intOrString, labelsMultiline, rfc1123z, selectorString, since, smartLabelFor, taintsMultiline, tolerationsMultiline,
} from './format.js';
import { goTabwrite } from './tabwriter.js';

/** What a describer may read besides the object. */
export interface DescribeContext {
  client: ApiClient;
  showEvents: boolean;
  chunkSize: number;
}

type Describer = (ctx: DescribeContext, obj: any, w: PrefixWriter) => Promise<void>;

/** kubectl describe of one object: the kind's describer, else the generic one (GenericDescriberFor). */
export async function describeObject(ctx: DescribeContext, group: string, obj: any): Promise<string> {
  const w = new PrefixWriter();
  const fn = DESCRIBERS[`${group}/${obj.kind}`] ?? genericDescriber;
  await fn(ctx, obj, w);
  return goTabwrite(w.text);
}

async function list(ctx: DescribeContext, path: string, query: Record<string, string> = {}): Promise<any[]> {
  const out: any[] = [];
  let cont = '';
  for (let page = 0; page < 1000; page++) {
    const q: Record<string, string> = { ...query, ...(ctx.chunkSize > 0 ? { limit: String(ctx.chunkSize) } : {}), ...(cont ? { continue: cont } : {}) };
    const r = await ctx.client.request<any>('GET', path, { query: q });
    out.push(...(r.items ?? []));
    cont = r.metadata?.continue ?? '';
    if (!cont) break;
  }
  return out;
}

/** The object's events (searchEvents: by involved object's name, namespace, kind and uid), oldest first. */
async function events(ctx: DescribeContext, obj: any): Promise<any[] | undefined> {
  if (!ctx.showEvents) return undefined;
  const ns = obj.metadata?.namespace;
  const fs = [`involvedObject.name=${obj.metadata?.name ?? ''}`, `involvedObject.namespace=${ns ?? ''}`];
  if (obj.kind) fs.push(`involvedObject.kind=${obj.kind}`);
  if (obj.metadata?.uid) fs.push(`involvedObject.uid=${obj.metadata.uid}`);
  const path = ns ? `/api/v1/namespaces/${ns}/events` : '/api/v1/events';
  const items = await list(ctx, path, { fieldSelector: fs.join(',') });
  return items.sort((a, b) => eventTime(a) - eventTime(b));
}

function eventTime(e: any): number {
  return Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? '') || 0;
}

/** DescribeEvents. */
export function describeEvents(evs: any[] | undefined, w: PrefixWriter): void {
  if (evs === undefined) return;
  if (!evs.length) {
    w.write(0, 'Events:\t<none>\n');
    return;
  }
  w.write(0, 'Events:\n');
  w.write(1, 'Type\tReason\tAge\tFrom\tMessage\n');
  w.write(1, '----\t------\t----\t----\t-------\n');
  for (const e of evs) w.write(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${eventInterval(e)}\t${e.source?.component || e.reportingComponent || ''}\t${String(e.message ?? '').trim()}\n`);
}

/** An event's Age column: `5s`, or `2m (x3 over 10m)` for repeated ones. */
export function eventInterval(e: any, now = Date.now()): string {
  if (e.series) return `${since(e.series.lastObservedTime, now)} (x${e.series.count} over ${since(e.eventTime, now)})`;
  if ((e.count ?? 0) > 1) return `${since(e.lastTimestamp, now)} (x${e.count} over ${since(e.firstTimestamp, now)})`;
  return e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
}

function header(w: PrefixWriter, obj: any, namespaced = true): void {
  w.write(0, `Name:\t${obj.metadata?.name ?? ''}\n`);
  if (namespaced) w.write(0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
}

function meta(w: PrefixWriter, obj: any): void {
  labelsMultiline(w, 'Labels', obj.metadata?.labels);
  annotationsMultiline(w, 'Annotations', obj.metadata?.annotations);
}

// ---- containers, volumes, pod templates ----

function probe(p: any): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const h = p.httpGet;
    const host = h.host ?? '';
    const url = `${String(h.scheme ?? 'HTTP').toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${intOrString(h.port)}${h.path ?? ''}`;
    return `http-get ${url} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${intOrString(p.tcpSocket.port)} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

function describeStatus(w: PrefixWriter, name: string, state: any): void {
  if (state?.running) {
    w.write(2, `${name}:\tRunning\n`);
    w.write(3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(3, `Message:\t${t.message}\n`);
    w.write(3, `Exit Code:\t${t.exitCode ?? 0}\n`);
    if (t.signal > 0) w.write(3, `Signal:\t${t.signal}\n`);
    w.write(3, `Started:\t${rfc1123z(t.startedAt)}\n`);
    w.write(3, `Finished:\t${rfc1123z(t.finishedAt)}\n`);
  } else {
    w.write(2, `${name}:\tWaiting\n`);
  }
}

function resourceNames(m: Record<string, unknown>): string[] {
  return Object.keys(m).sort(goCompare);
}

function describeContainers(w: PrefixWriter, label: string, containers: any[], statuses: any[] | undefined, space: string, pod?: any): void {
  const byName = new Map<string, any>((statuses ?? []).map((s) => [s.name, s]));
  if (!containers.length) w.write(0, `${space}${label}: <none>\n`);
  else w.write(0, `${space}${label}:\n`);
  for (const c of containers) {
    const st = byName.get(c.name);
    w.write(1, `${space ? ' ' : ''}${c.name}:\n`);
    if (st) w.write(2, `Container ID:\t${st.containerID ?? ''}\n`);
    w.write(2, `Image:\t${c.image ?? ''}\n`);
    if (st) w.write(2, `Image ID:\t${st.imageID ?? ''}\n`);
    const ports = (c.ports ?? []).map((p: any) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    const hostPorts = (c.ports ?? []).map((p: any) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ');
    if (ports.includes(',')) w.write(2, `Ports:\t${ports}\n`);
    else w.write(2, `Port:\t${ports || '<none>'}\n`);
    if (hostPorts.includes(',')) w.write(2, `Host Ports:\t${hostPorts}\n`);
    else w.write(2, `Host Port:\t${hostPorts || '<none>'}\n`);
    if (c.restartPolicy) w.write(2, `Restart Policy:\t${c.restartPolicy}\n`);
    for (const [key, title] of [['command', 'Command'], ['args', 'Args']] as const) {
      if (!c[key]?.length) continue;
      w.write(2, `${title}:\n`);
      for (const s of c[key] as string[]) for (const part of s.split('\n')) w.write(3, `${part}\n`);
    }
    if (st) {
      describeStatus(w, 'State', st.state);
      if (st.lastState?.terminated) describeStatus(w, 'Last State', st.lastState);
      w.write(2, `Ready:\t${st.ready ? 'True' : 'False'}\n`);
      w.write(2, `Restart Count:\t${st.restartCount ?? 0}\n`);
    }
    for (const [key, title] of [['limits', 'Limits'], ['requests', 'Requests']] as const) {
      const m = c.resources?.[key];
      if (!m || !Object.keys(m).length) continue;
      w.write(2, `${title}:\n`);
      for (const n of resourceNames(m)) w.write(3, `${n}:\t${String(m[n])}\n`);
    }
    if (c.livenessProbe) w.write(2, `Liveness:\t${probe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(2, `Readiness:\t${probe(c.readinessProbe)}\n`);
    if (c.startupProbe) w.write(2, `Startup:\t${probe(c.startupProbe)}\n`);
    if (c.envFrom?.length) {
      w.write(2, 'Environment Variables from:\n');
      for (const e of c.envFrom) {
        const kind = e.configMapRef ? 'ConfigMap' : 'Secret';
        const ref = e.configMapRef ?? e.secretRef ?? {};
        w.write(3, `${ref.name ?? ''}\t${kind}\t${e.prefix ? `with prefix '${e.prefix}'` : ''}\tOptional: ${ref.optional ? 'true' : 'false'}\n`);
      }
    }
    w.write(2, `Environment:${c.env?.length ? '' : '\t<none>'}\n`);
    for (const e of c.env ?? []) {
      if (!e.valueFrom) {
        String(e.value ?? '').split('\n').forEach((s, i) => w.write(3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
        continue;
      }
      const vf = e.valueFrom;
      if (vf.fieldRef) w.write(3, `${e.name}:\t${pod ? fieldValue(pod, vf.fieldRef.fieldPath) : ''} (${vf.fieldRef.apiVersion ?? 'v1'}:${vf.fieldRef.fieldPath})\n`);
      else if (vf.resourceFieldRef) w.write(3, `${e.name}:\t${pod ? resourceValue(c, vf.resourceFieldRef) : ''} (${vf.resourceFieldRef.resource})\n`);
      else if (vf.secretKeyRef) w.write(3, `${e.name}:\t<set to the key '${vf.secretKeyRef.key}' in secret '${vf.secretKeyRef.name}'>\tOptional: ${vf.secretKeyRef.optional ? 'true' : 'false'}\n`);
      else if (vf.configMapKeyRef) w.write(3, `${e.name}:\t<set to the key '${vf.configMapKeyRef.key}' of config map '${vf.configMapKeyRef.name}'>\tOptional: ${vf.configMapKeyRef.optional ? 'true' : 'false'}\n`);
    }
    const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => goCompare(a.mountPath, b.mountPath));
    w.write(2, `Mounts:${mounts.length ? '' : '\t<none>'}\n`);
    for (const m of mounts) {
      const flags = [m.readOnly ? 'ro' : 'rw'];
      if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
      w.write(3, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
    }
    if (c.volumeDevices?.length) {
      w.write(2, 'Devices:\n');
      for (const d of [...c.volumeDevices].sort((a, b) => goCompare(a.devicePath, b.devicePath))) w.write(3, `${d.devicePath} from ${d.name}\n`);
    }
  }
}

function fieldValue(pod: any, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return pod.metadata?.[m[1]]?.[m[2]] ?? '';
  const parts = path.split('.');
  let v: any = pod;
  for (const p of parts) v = v?.[p];
  return v === undefined ? '' : String(v);
}

function resourceValue(c: any, ref: any): string {
  const [kind, res] = String(ref.resource).split('.');
  const v = c.resources?.[kind === 'limits' ? 'limits' : 'requests']?.[res];
  return v === undefined ? '' : String(v);
}

function describeVolumes(w: PrefixWriter, volumes: any[] | undefined, space: string): void {
  if (!volumes?.length) {
    w.write(0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(0, `${space}Volumes:\n`);
  for (const v of volumes) {
    w.write(1, `${space ? ' ' : ''}${v.name}:\n`);
    if (v.hostPath) w.write(2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type ?? ''}\n`);
    else if (v.emptyDir) w.write(2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${v.emptyDir.sizeLimit ?? '<unset>'}\n`);
    else if (v.secret) w.write(2, `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${v.secret.optional ? 'true' : 'false'}\n`);
    else if (v.configMap) w.write(2, `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${v.configMap.optional ? 'true' : 'false'}\n`);
    else if (v.persistentVolumeClaim) w.write(2, `Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t${v.persistentVolumeClaim.claimName}\n    ReadOnly:\t${v.persistentVolumeClaim.readOnly ? 'true' : 'false'}\n`);
    else if (v.downwardAPI) {
      w.write(2, 'Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n');
      for (const it of v.downwardAPI.items ?? []) {
        if (it.fieldRef) w.write(3, `${it.fieldRef.fieldPath} -> ${it.path}\n`);
        if (it.resourceFieldRef) w.write(3, `${it.resourceFieldRef.resource} -> ${it.path}\n`);
      }
    } else if (v.projected) {
      w.write(2, 'Type:\tProjected (a volume that contains injected data from multiple sources)\n');
      for (const s of v.projected.sources ?? []) {
        if (s.secret) w.write(2, `SecretName:\t${s.secret.name}\n    SecretOptionalName:\t${goValue(s.secret.optional ?? null)}\n`);
        else if (s.downwardAPI) w.write(2, 'DownwardAPI:\ttrue\n');
        else if (s.configMap) w.write(2, `ConfigMapName:\t${s.configMap.name}\n    ConfigMapOptional:\t${goValue(s.configMap.optional ?? null)}\n`);
        else if (s.serviceAccountToken) w.write(2, `TokenExpirationSeconds:\t${s.serviceAccountToken.expirationSeconds ?? 3600}\n`);
      }
    } else w.write(1, '<unknown>\n');
  }
}

function describePodTemplate(w: PrefixWriter, t: any): void {
  w.write(0, 'Pod Template:\n');
  if (!t) {
    w.write(1, '<unset>');
    return;
  }
  labelsMultiline(w, 'Labels', t.metadata?.labels, '  ');
  if (Object.keys(t.metadata?.annotations ?? {}).length) annotationsMultiline(w, 'Annotations', t.metadata.annotations, '  ');
  const spec = t.spec ?? {};
  if (spec.serviceAccountName) w.write(1, `Service Account:\t${spec.serviceAccountName}\n`);
  if (spec.initContainers?.length) describeContainers(w, 'Init Containers', spec.initContainers, undefined, '  ');
  describeContainers(w, 'Containers', spec.containers ?? [], undefined, '  ');
  describeVolumes(w, spec.volumes, '  ');
  if (spec.priorityClassName) w.write(1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  labelsMultiline(w, 'Node-Selectors', spec.nodeSelector, '  ');
  tolerationsMultiline(w, 'Tolerations', spec.tolerations, '  ');
}

function conditions3(w: PrefixWriter, conds: any[] | undefined): void {
  if (!conds?.length) return;
  w.write(0, 'Conditions:\n  Type\tStatus\tReason\n');
  w.write(1, '----\t------\t------\n');
  for (const c of conds) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
}

/** Pods a controller owns: counts by phase (getPodStatusForController). */
async function podPhases(ctx: DescribeContext, obj: any): Promise<Record<string, number>> {
  const pods = await list(ctx, `/api/v1/namespaces/${obj.metadata.namespace}/pods`, { labelSelector: selectorString(obj.spec?.selector) });
  const counts: Record<string, number> = { Running: 0, Pending: 0, Succeeded: 0, Failed: 0 };
  for (const p of pods) {
    const owner = (p.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
    if (!owner || owner.uid !== obj.metadata.uid) continue;
    const phase = p.status?.phase ?? 'Pending';
    if (phase in counts) counts[phase]++;
  }
  return counts;
}

// ---- describers ----

function qosClass(pod: any): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const cs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}

const describePod: Describer = async (ctx, pod, w) => {
  const evs = await events(ctx, pod);
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  header(w, pod);
  if (spec.priority !== undefined) w.write(0, `Priority:\t${spec.priority}\n`);
  if (spec.priorityClassName) w.write(0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec.runtimeClassName) w.write(0, `Runtime Class Name:\t${spec.runtimeClassName}\n`);
  if (spec.serviceAccountName) w.write(0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(0, spec.nodeName ? `Node:\t${spec.nodeName}/${status.hostIP ?? ''}\n` : 'Node:\t<none>\n');
  if (status.startTime) w.write(0, `Start Time:\t${rfc1123z(status.startTime)}\n`);
  meta(w, pod);
  if (pod.metadata?.deletionTimestamp) {
    w.write(0, `Status:\tTerminating (lasts ${since(pod.metadata.deletionTimestamp)})\n`);
    w.write(0, `Termination Grace Period:\t${pod.metadata.deletionGracePeriodSeconds ?? 0}s\n`);
  } else {
    w.write(0, `Status:\t${status.phase ?? ''}\n`);
  }
  if (status.reason) w.write(0, `Reason:\t${status.reason}\n`);
  if (status.message) w.write(0, `Message:\t${status.message}\n`);
  w.write(0, `IP:\t${status.podIP ?? ''}\n`);
  if (status.podIPs?.length) {
    w.write(0, 'IPs:\n');
    for (const ip of status.podIPs) w.write(1, `IP:\t${ip.ip}\n`);
  } else w.write(0, 'IPs:\t<none>\n');
  const ctl = controlledBy(pod);
  if (ctl) w.write(0, `Controlled By:\t${ctl}\n`);
  if (status.nominatedNodeName) w.write(0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
  if (spec.initContainers?.length) describeContainers(w, 'Init Containers', spec.initContainers, status.initContainerStatuses, '', pod);
  describeContainers(w, 'Containers', spec.containers ?? [], status.containerStatuses, '', pod);
  if (spec.readinessGates?.length) {
    w.write(0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const g of spec.readinessGates) {
      const c = (status.conditions ?? []).find((x: any) => x.type === g.conditionType);
      w.write(1, `${g.conditionType} \t${c?.status ?? '<none>'} \n`);
    }
  }
  if (status.conditions?.length) {
    w.write(0, 'Conditions:\n  Type\tStatus\n');
    for (const c of status.conditions) w.write(1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, spec.volumes, '');
  w.write(0, `QoS Class:\t${qosClass(pod)}\n`);
  labelsMultiline(w, 'Node-Selectors', spec.nodeSelector);
  tolerationsMultiline(w, 'Tolerations', spec.tolerations);
  describeEvents(evs, w);
};

const describeConfigMap: Describer = async (ctx, cm, w) => {
  const evs = await events(ctx, cm);
  header(w, cm);
  meta(w, cm);
  w.write(0, '\nData\n====\n');
  for (const k of Object.keys(cm.data ?? {}).sort(goCompare)) {
    w.write(0, `${k}:\n----\n`);
    w.write(0, `${cm.data[k]}\n`);
    w.write(0, '\n');
  }
  w.write(0, '\nBinaryData\n====\n');
  for (const k of Object.keys(cm.binaryData ?? {}).sort(goCompare)) w.write(0, `${k}: ${Buffer.from(cm.binaryData[k], 'base64').length} bytes\n`);
  w.write(0, '\n');
  describeEvents(evs, w);
};

const describeSecret: Describer = async (_ctx, s, w) => {
  header(w, s);
  meta(w, s);
  w.write(0, `\nType:\t${s.type ?? ''}\n`);
  w.write(0, '\nData\n====\n');
  for (const k of Object.keys(s.data ?? {}).sort(goCompare)) {
    const v = Buffer.from(s.data[k], 'base64');
    if (k === 'token' && s.type === 'kubernetes.io/service-account-token') w.write(0, `${k}:\t${v.toString('utf8')}\n`);
    else w.write(0, `${k}:\t${v.length} bytes\n`);
  }
};

const describeNamespace: Describer = async (ctx, ns, w) => {
  const name = ns.metadata.name;
  const [quotas, limits] = await Promise.all([
    list(ctx, `/api/v1/namespaces/${name}/resourcequotas`), list(ctx, `/api/v1/namespaces/${name}/limitranges`),
  ]);
  header(w, ns, false);
  meta(w, ns);
  w.write(0, `Status:\t${ns.status?.phase ?? ''}\n`);
  if (ns.status?.conditions?.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t------------------\t------\t-------\n');
    for (const c of ns.status.conditions) w.write(1, `${c.type}\t${c.status}\t${rfc1123z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  w.write(0, '\n');
  if (!quotas.length) w.write(0, 'No resource quota.\n');
  else {
    w.write(0, 'Resource Quotas\n');
    for (const q of quotas) {
      w.write(1, `Name:\t${q.metadata.name}\n`);
      if (q.spec?.scopes?.length) w.write(1, `Scopes:\t${[...q.spec.scopes].sort(goCompare).join(', ')}\n`);
      w.write(1, 'Resource\tUsed\tHard\n');
      w.write(1, '--------\t---\t---\n');
      const hard = q.status?.hard ?? {};
      for (const r of Object.keys(hard).sort(goCompare)) w.write(1, `${r}\t${q.status?.used?.[r] ?? '0'}\t${hard[r]}\n`);
    }
  }
  w.write(0, '\n');
  if (!limits.length) w.write(0, 'No LimitRange resource.\n');
  else {
    w.write(0, 'Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n');
    w.write(0, ' ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
    for (const lr of limits) {
      for (const item of lr.spec?.limits ?? []) {
        const names = new Set<string>();
        for (const k of ['min', 'max', 'default', 'defaultRequest', 'maxLimitRequestRatio']) for (const r of Object.keys(item[k] ?? {})) names.add(r);
        for (const r of [...names].sort(goCompare)) {
          const v = (k: string): string => (item[k]?.[r] !== undefined ? String(item[k][r]) : '-');
          w.write(0, ` ${item.type}\t${r}\t${v('min')}\t${v('max')}\t${v('defaultRequest')}\t${v('default')}\t${v('maxLimitRequestRatio')}\n`);
        }
      }
    }
  }
};

/** The Deployment's ReplicaSets: the one with its template (new) and the others with replicas (old). */
async function deploymentReplicaSets(ctx: DescribeContext, d: any): Promise<{ old: any[]; current: any | undefined } | undefined> {
  const rss = (await list(ctx, `/apis/apps/v1/namespaces/${d.metadata.namespace}/replicasets`, { labelSelector: selectorString(d.spec?.selector) }))
    .filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r: any) => r.controller && r.uid === d.metadata.uid))
    .sort((a, b) => goCompare(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') || goCompare(a.metadata.name, b.metadata.name));
  const want = canonical(withoutHash(d.spec?.template));
  const current = rss.find((rs) => canonical(withoutHash(rs.spec?.template)) === want);
  const old = rss.filter((rs) => rs !== current && (rs.spec?.replicas ?? 1) !== 0);
  if (!current && !old.length) return undefined;
  return { old, current };
}

function withoutHash(t: any): any {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
  if (c.metadata?.labels && !Object.keys(c.metadata.labels).length) delete c.metadata.labels;
  return c;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function replicaSetsByLabels(rss: any[]): string {
  return rss.length ? rss.map((rs) => `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 1} replicas created)`).join(', ') : '<none>';
}

const describeDeployment: Describer = async (ctx, d, w) => {
  const [evs, sets] = await Promise.all([events(ctx, d), deploymentReplicaSets(ctx, d)]);
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  header(w, d);
  w.write(0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
  meta(w, d);
  w.write(0, `Selector:\t${formatLabelSelector(spec.selector)}\n`);
  w.write(0, `Replicas:\t${spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`);
  w.write(0, `StrategyType:\t${spec.strategy?.type ?? ''}\n`);
  w.write(0, `MinReadySeconds:\t${spec.minReadySeconds ?? 0}\n`);
  const ru = spec.strategy?.rollingUpdate;
  if (ru) w.write(0, `RollingUpdateStrategy:\t${intOrString(ru.maxUnavailable)} max unavailable, ${intOrString(ru.maxSurge)} max surge\n`);
  describePodTemplate(w, spec.template);
  conditions3(w, st.conditions);
  if (sets) {
    w.write(0, `OldReplicaSets:\t${replicaSetsByLabels(sets.old)}\n`);
    w.write(0, `NewReplicaSet:\t${replicaSetsByLabels(sets.current ? [sets.current] : [])}\n`);
  }
  describeEvents(evs, w);
};

const describeReplicaSet: Describer = async (ctx, rs, w) => {
  const [evs, phases] = await Promise.all([events(ctx, rs), podPhases(ctx, rs)]);
  header(w, rs);
  w.write(0, `Selector:\t${formatLabelSelector(rs.spec?.selector)}\n`);
  meta(w, rs);
  const ctl = controlledBy(rs);
  if (ctl) w.write(0, `Controlled By:\t${ctl}\n`);
  w.write(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  w.write(0, `Pods Status:\t${phases.Running} Running / ${phases.Pending} Waiting / ${phases.Succeeded} Succeeded / ${phases.Failed} Failed\n`);
  describePodTemplate(w, rs.spec?.template);
  conditions3(w, rs.status?.conditions);
  describeEvents(evs, w);
};

const describeDaemonSet: Describer = async (ctx, ds, w) => {
  const [evs, phases] = await Promise.all([events(ctx, ds), podPhases(ctx, ds)]);
  const st = ds.status ?? {};
  header(w, ds, false);
  w.write(0, `Selector:\t${formatLabelSelector(ds.spec?.selector)}\n`);
  w.write(0, `Node-Selector:\t${formatLabels(ds.spec?.template?.spec?.nodeSelector)}\n`);
  meta(w, ds);
  w.write(0, `Desired Number of Nodes Scheduled: ${st.desiredNumberScheduled ?? 0}\n`);
  w.write(0, `Current Number of Nodes Scheduled: ${st.currentNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Up-to-date Pods: ${st.updatedNumberScheduled ?? 0}\n`);
  w.write(0, `Number of Nodes Scheduled with Available Pods: ${st.numberAvailable ?? 0}\n`);
  w.write(0, `Number of Nodes Misscheduled: ${st.numberMisscheduled ?? 0}\n`);
  w.write(0, `Pods Status:\t${phases.Running} Running / ${phases.Pending} Waiting / ${phases.Succeeded} Succeeded / ${phases.Failed} Failed\n`);
  describePodTemplate(w, ds.spec?.template);
  describeEvents(evs, w);
};

const describeStatefulSet: Describer = async (ctx, ss, w) => {
  const [evs, phases] = await Promise.all([events(ctx, ss), podPhases(ctx, ss)]);
  const spec = ss.spec ?? {};
  header(w, ss);
  w.write(0, `CreationTimestamp:\t${rfc1123z(ss.metadata.creationTimestamp)}\n`);
  w.write(0, `Selector:\t${formatLabelSelector(spec.selector)}\n`);
  meta(w, ss);
  w.write(0, `Replicas:\t${spec.replicas ?? 1} desired | ${ss.status?.replicas ?? 0} total\n`);
  w.write(0, `Update Strategy:\t${spec.updateStrategy?.type ?? ''}\n`);
  if (spec.updateStrategy?.rollingUpdate) {
    const ru = spec.updateStrategy.rollingUpdate;
    if (ru.partition !== undefined) w.write(1, `Partition:\t${ru.partition}\n`);
    if (ru.maxUnavailable !== undefined) w.write(1, `MaxUnavailable:\t${intOrString(ru.maxUnavailable)}\n`);
  }
  w.write(0, `Pods Status:\t${phases.Running} Running / ${phases.Pending} Waiting / ${phases.Succeeded} Succeeded / ${phases.Failed} Failed\n`);
  describePodTemplate(w, spec.template);
  w.write(0, 'Volume Claims:');
  if (!spec.volumeClaimTemplates?.length) w.write(0, '\t<none>\n');
  else {
    w.write(0, '\n');
    for (const pvc of spec.volumeClaimTemplates) {
      w.write(1, `Name:\t${pvc.metadata?.name ?? ''}\n`);
      w.write(1, `StorageClass:\t${pvc.spec?.storageClassName ?? ''}\n`);
      labelsMultiline(w, 'Labels', pvc.metadata?.labels, '  ');
      annotationsMultiline(w, 'Annotations', pvc.metadata?.annotations, '  ');
      w.write(1, `Capacity:\t${pvc.spec?.resources?.requests?.storage ?? '<default>'}\n`);
      w.write(1, `Access Modes:\t[${(pvc.spec?.accessModes ?? []).join(' ')}]\n`);
    }
  }
  describeEvents(evs, w);
};

const describeJob: Describer = async (ctx, job, w) => {
  const evs = await events(ctx, job);
  const spec = job.spec ?? {};
  const st = job.status ?? {};
  header(w, job);
  w.write(0, `Selector:\t${selectorString(spec.selector)}\n`);
  meta(w, job);
  const ctl = controlledBy(job);
  if (ctl) w.write(0, `Controlled By:\t${ctl}\n`);
  if (spec.parallelism !== undefined) w.write(0, `Parallelism:\t${spec.parallelism}\n`);
  w.write(0, `Completions:\t${spec.completions ?? '<unset>'}\n`);
  if (spec.completionMode) w.write(0, `Completion Mode:\t${spec.completionMode}\n`);
  if (spec.suspend !== undefined) w.write(0, `Suspend:\t${spec.suspend}\n`);
  if (spec.backoffLimit !== undefined) w.write(0, `Backoff Limit:\t${spec.backoffLimit}\n`);
  if (spec.ttlSecondsAfterFinished !== undefined) w.write(0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}\n`);
  if (st.startTime) w.write(0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
  if (st.completionTime) {
    w.write(0, `Completed At:\t${rfc1123z(st.completionTime)}\n`);
    w.write(0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
  }
  if (st.ready === undefined) w.write(0, `Pods Statuses:\t${st.active ?? 0} Active / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed\n`);
  else w.write(0, `Pods Statuses:\t${st.active ?? 0} Active (${st.ready} Ready) / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed\n`);
  if (spec.completionMode === 'Indexed') w.write(0, `Completed Indexes:\t${st.completedIndexes || '<none>'}\n`);
  if (spec.activeDeadlineSeconds !== undefined) w.write(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  describePodTemplate(w, spec.template);
  describeEvents(evs, w);
};

const describeService: Describer = async (ctx, svc, w) => {
  const [evs, slices] = await Promise.all([
    events(ctx, svc),
    list(ctx, `/apis/discovery.k8s.io/v1/namespaces/${svc.metadata.namespace}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${svc.metadata.name}` }),
  ]);
  const spec = svc.spec ?? {};
  header(w, svc);
  meta(w, svc);
  w.write(0, `Selector:\t${formatLabels(spec.selector)}\n`);
  w.write(0, `Type:\t${spec.type ?? ''}\n`);
  if (spec.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  if (spec.ipFamilies?.length) w.write(0, `IP Families:\t${spec.ipFamilies.join(',')}\n`);
  w.write(0, `IP:\t${spec.clusterIP ?? ''}\n`);
  if (spec.clusterIPs?.length) w.write(0, `IPs:\t${spec.clusterIPs.join(',')}\n`);
  if (spec.externalIPs?.length) w.write(0, `External IPs:\t${spec.externalIPs.join(',')}\n`);
  if (spec.loadBalancerIP) w.write(0, `IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) w.write(0, `External Name:\t${spec.externalName}\n`);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length) w.write(0, `LoadBalancer Ingress:\t${ingress.map((i: any) => (i.ip || i.hostname) + (i.ipMode ? ` (${i.ipMode})` : '')).join(', ')}\n`);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    w.write(0, `Port:\t${name}\t${p.port}/${p.protocol ?? 'TCP'}\n`);
    w.write(0, `TargetPort:\t${intOrString(p.targetPort ?? p.port)}/${p.protocol ?? 'TCP'}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${p.protocol ?? 'TCP'}\n`);
    w.write(0, `Endpoints:\t${formatEndpointSlices(slices, p.name ?? '')}\n`);
  }
  w.write(0, `Session Affinity:\t${spec.sessionAffinity ?? ''}\n`);
  if (spec.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.internalTrafficPolicy) w.write(0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  if (spec.healthCheckNodePort) w.write(0, `HealthCheck NodePort:\t${spec.healthCheckNodePort}\n`);
  if (spec.loadBalancerSourceRanges?.length) w.write(0, `LoadBalancer Source Ranges:\t${spec.loadBalancerSourceRanges.join(',')}\n`);
  describeEvents(evs, w);
};

/** formatEndpointSlices: the ready `ip:port`s of the port named `port`, at most three and `+ N more...`. */
export function formatEndpointSlices(slices: any[], port: string): string {
  if (!slices.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const s of slices) {
    const ports = s.ports ?? [];
    const add = (addr: string): void => {
      if (!more && list.length === max) more = true;
      if (!more) list.push(addr);
      count++;
    };
    if (!ports.length) {
      for (const e of s.endpoints ?? []) if (e.conditions?.ready !== false && e.addresses?.length) add(e.addresses[0]);
      continue;
    }
    for (const p of ports) {
      if ((p.name ?? '') !== port) continue;
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false || !e.addresses?.length) continue;
        const a = e.addresses[0];
        add(`${a.includes(':') ? `[${a}]` : a}:${p.port}`);
      }
    }
  }
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret;
}

const describeNode: Describer = async (ctx, node, w) => {
  const name = node.metadata.name;
  const [evs, pods] = await Promise.all([
    events(ctx, { ...node, metadata: { ...node.metadata, namespace: undefined } }),
    list(ctx, '/api/v1/pods', { fieldSelector: `spec.nodeName=${name},status.phase!=Succeeded,status.phase!=Failed` }),
  ]);
  const spec = node.spec ?? {};
  const st = node.status ?? {};
  w.write(0, `Name:\t${name}\n`);
  const roles = Object.keys(node.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length)).filter(Boolean)
    .concat(node.metadata.labels?.['kubernetes.io/role'] ? [node.metadata.labels['kubernetes.io/role']] : []);
  w.write(0, `Roles:\t${roles.sort(goCompare).join(',') || '<none>'}\n`);
  meta(w, node);
  w.write(0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`);
  taintsMultiline(w, 'Taints', spec.taints);
  w.write(0, `Unschedulable:\t${spec.unschedulable ? 'true' : 'false'}\n`);
  const lease = await ctx.client.request<any>('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`).catch(() => undefined);
  if (!lease) w.write(0, `Lease:\tFailed to get lease: leases.coordination.k8s.io "${name}" not found\n`);
  else {
    w.write(0, 'Lease:\n');
    w.write(1, `HolderIdentity:\t${lease.spec?.holderIdentity ?? '<unset>'}\n`);
    w.write(1, `AcquireTime:\t${lease.spec?.acquireTime ? rfc1123z(lease.spec.acquireTime) : '<unset>'}\n`);
    w.write(1, `RenewTime:\t${lease.spec?.renewTime ? rfc1123z(lease.spec.renewTime) : '<unset>'}\n`);
  }
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of st.conditions) w.write(1, `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`);
  }
  w.write(0, 'Addresses:\n');
  for (const a of st.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  for (const [key, title] of [['capacity', 'Capacity'], ['allocatable', 'Allocatable']] as const) {
    const m = st[key];
    if (!m || !Object.keys(m).length) continue;
    w.write(0, `${title}:\n`);
    for (const r of resourceNames(m)) w.write(1, `${r}:\t${m[r]}\n`);
  }
  const ni = st.nodeInfo ?? {};
  w.write(0, 'System Info:\n');
  w.write(1, `Machine ID:\t${ni.machineID ?? ''}\n`);
  w.write(1, `System UUID:\t${ni.systemUUID ?? ''}\n`);
  w.write(1, `Boot ID:\t${ni.bootID ?? ''}\n`);
  w.write(1, `Kernel Version:\t${ni.kernelVersion ?? ''}\n`);
  w.write(1, `OS Image:\t${ni.osImage ?? ''}\n`);
  w.write(1, `Operating System:\t${ni.operatingSystem ?? ''}\n`);
  w.write(1, `Architecture:\t${ni.architecture ?? ''}\n`);
  w.write(1, `Container Runtime Version:\t${ni.containerRuntimeVersion ?? ''}\n`);
  w.write(1, `Kubelet Version:\t${ni.kubeletVersion ?? ''}\n`);
  w.write(1, `Kube-Proxy Version:\t${ni.kubeProxyVersion ?? ''}\n`);
  if (spec.podCIDR) w.write(0, `PodCIDR:\t${spec.podCIDR}\n`);
  if (spec.podCIDRs?.length) w.write(0, `PodCIDRs:\t${spec.podCIDRs.join(',')}\n`);
  if (spec.providerID) w.write(0, `ProviderID:\t${spec.providerID}\n`);
  const { cpuMillis, quantityValue, formatQuantity } = await import('@k8ts/api');
  const alloc = st.allocatable ?? {};
  const allocOf = (r: string): number => (alloc[r] === undefined ? 0 : r === 'cpu' ? cpuMillis(alloc[r]) : quantityValue(alloc[r]));
  const amount = (r: string, q: string | number): number => (r === 'cpu' ? cpuMillis(q) : quantityValue(q));
  const show = (r: string, n: number): string => (n === 0 ? '0' : r === 'cpu' ? formatQuantity(n / 1000, 'cpu') : formatQuantity(n, 'bytes'));
  const pct = (r: string, n: number): number => (allocOf(r) ? Math.trunc((n / allocOf(r)) * 100) : 0);
  const totals: Record<'requests' | 'limits', Record<string, number>> = { requests: {}, limits: {} };
  w.write(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  for (const p of pods) {
    const rl = podRequestsAndLimits(p, amount);
    for (const k of ['requests', 'limits'] as const) for (const [r, n] of Object.entries(rl[k])) totals[k][r] = (totals[k][r] ?? 0) + n;
    const cell = (k: 'requests' | 'limits', r: string): string => `${show(r, rl[k][r] ?? 0)} (${pct(r, rl[k][r] ?? 0)}%)`;
    w.write(1, `${p.metadata.namespace}\t${p.metadata.name}\t\t${cell('requests', 'cpu')}\t${cell('limits', 'cpu')}\t${cell('requests', 'memory')}\t${cell('limits', 'memory')}\t${since(p.metadata.creationTimestamp)}\n`);
  }
  w.write(0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(1, 'Resource\tRequests\tLimits\n');
  w.write(1, '--------\t--------\t------\n');
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = totals.requests[r] ?? 0;
    const lim = totals.limits[r] ?? 0;
    w.write(1, `${r}\t${show(r, req)} (${pct(r, req)}%)\t${show(r, lim)} (${pct(r, lim)}%)\n`);
  }
  const standard = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage', 'pods']);
  const names = Object.keys(alloc);
  for (const r of names.filter((n) => n.startsWith('hugepages-')).sort(goCompare)) {
    const req = totals.requests[r] ?? 0;
    const lim = totals.limits[r] ?? 0;
    w.write(1, `${r}\t${show(r, req)} (${pct(r, req)}%)\t${show(r, lim)} (${pct(r, lim)}%)\n`);
  }
  for (const r of names.filter((n) => !n.startsWith('hugepages-') && !standard.has(n) && !n.startsWith('requests.')).sort(goCompare)) {
    w.write(1, `${r}\t${show(r, totals.requests[r] ?? 0)}\t${show(r, totals.limits[r] ?? 0)}\n`);
  }
  describeEvents(evs, w);
};

/** resourcehelper.PodRequestsAndLimits: containers summed, at least each init container, plus the overhead. */
function podRequestsAndLimits(pod: any, amount: (r: string, q: string | number) => number): Record<'requests' | 'limits', Record<string, number>> {
  const out: Record<'requests' | 'limits', Record<string, number>> = { requests: {}, limits: {} };
  for (const k of ['requests', 'limits'] as const) {
    for (const c of pod.spec?.containers ?? []) for (const [r, q] of Object.entries(c.resources?.[k] ?? {})) out[k][r] = (out[k][r] ?? 0) + amount(r, q as string);
    for (const c of pod.spec?.initContainers ?? []) for (const [r, q] of Object.entries(c.resources?.[k] ?? {})) out[k][r] = Math.max(out[k][r] ?? 0, amount(r, q as string));
    for (const [r, q] of Object.entries(pod.spec?.overhead ?? {})) if (out[k][r] !== undefined || k === 'requests') out[k][r] = (out[k][r] ?? 0) + amount(r, q as string);
  }
  return out;
}

const describePvc: Describer = async (ctx, pvc, w) => {
  const [evs, pods] = await Promise.all([events(ctx, pvc), list(ctx, `/api/v1/namespaces/${pvc.metadata.namespace}/pods`)]);
  const spec = pvc.spec ?? {};
  const st = pvc.status ?? {};
  header(w, pvc);
  w.write(0, `StorageClass:\t${spec.storageClassName ?? ''}\n`);
  if (spec.volumeAttributesClassName) w.write(0, `VolumeAttributesClass:\t${spec.volumeAttributesClassName}\n`);
  if (pvc.metadata.deletionTimestamp) w.write(0, `Status:\tTerminating (lasts ${since(pvc.metadata.deletionTimestamp)})\n`);
  else w.write(0, `Status:\t${st.phase ?? ''}\n`);
  w.write(0, `Volume:\t${spec.volumeName ?? ''}\n`);
  meta(w, pvc);
  w.write(0, `Finalizers:\t[${(pvc.metadata.finalizers ?? []).join(' ')}]\n`);
  w.write(0, `Capacity:\t${st.capacity?.storage ?? ''}\n`);
  w.write(0, `Access Modes:\t${(st.accessModes ?? []).join(',')}\n`);
  w.write(0, `VolumeMode:\t${spec.volumeMode ?? ''}\n`);
  if (spec.dataSource) w.write(0, `DataSource:\n    APIGroup:\t${spec.dataSource.apiGroup ?? ''}\n    Kind:\t${spec.dataSource.kind}\n    Name:\t${spec.dataSource.name}\n`);
  const users = pods.filter((p) => (p.spec?.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === pvc.metadata.name)).map((p) => p.metadata.name);
  w.write(0, `Used By:\t${users.length ? users.join('\n\t') : '<none>'}\n`);
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of st.conditions) w.write(1, `${c.type} \t${c.status} \t${rfc1123z(c.lastProbeTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`);
  }
  describeEvents(evs, w);
};

const describeHpa: Describer = async (ctx, hpa, w) => {
  const evs = await events(ctx, hpa);
  const spec = hpa.spec ?? {};
  const st = hpa.status ?? {};
  header(w, hpa);
  meta(w, hpa);
  w.write(0, `CreationTimestamp:\t${rfc1123z(hpa.metadata.creationTimestamp)}\n`);
  w.write(0, `Reference:\t${spec.scaleTargetRef?.kind}/${spec.scaleTargetRef?.name}\n`);
  w.write(0, 'Metrics:\t( current / target )\n');
  (spec.metrics ?? []).forEach((m: any, i: number) => {
    if (m.type !== 'Resource' || !m.resource) return;
    const cur = (st.currentMetrics ?? [])[i]?.resource?.current;
    const t = m.resource.target ?? {};
    if (t.averageUtilization !== undefined) {
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}% (${cur.averageValue})` : '<unknown>';
      w.write(1, `resource ${m.resource.name} on pods  (as a percentage of request):\t${current} / ${t.averageUtilization}%\n`);
    } else {
      w.write(1, `resource ${m.resource.name} on pods:\t${cur?.averageValue ?? '<unknown>'} / ${t.averageValue}\n`);
    }
  });
  w.write(0, `Min replicas:\t${spec.minReplicas ?? 1}\n`);
  w.write(0, `Max replicas:\t${spec.maxReplicas}\n`);
  w.write(0, `${spec.scaleTargetRef?.kind} pods:\t${st.currentReplicas ?? 0} current / ${st.desiredReplicas ?? 0} desired\n`);
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\tMessage\n');
    w.write(1, '----\t------\t------\t-------\n');
    for (const c of st.conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
  describeEvents(evs, w);
};

/** GenericDescriberFor: name, labels, annotations, then every other field with smart labels. */
const genericDescriber: Describer = async (ctx, obj, w) => {
  const evs = await events(ctx, obj);
  w.write(0, `Name:\t${obj.metadata?.name ?? ''}\n`);
  w.write(0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
  meta(w, obj);
  unstructured(w, 0, obj, '', new Set(['.metadata.managedFields', '.metadata.name', '.metadata.namespace', '.metadata.labels', '.metadata.annotations']));
  describeEvents(evs, w);
};

function unstructured(w: PrefixWriter, level: number, content: Record<string, unknown>, prefix: string, skip: Set<string>): void {
  for (const field of Object.keys(content).sort(goCompare)) {
    const value = content[field];
    const expr = `${prefix}.${field}`;
    if (skip.has(expr)) continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      w.write(level, `${smartLabelFor(field)}:\n`);
      unstructured(w, level + 1, value as Record<string, unknown>, expr, skip);
    } else if (Array.isArray(value)) {
      w.write(level, `${smartLabelFor(field)}:\n`);
      for (const child of value) {
        if (child && typeof child === 'object' && !Array.isArray(child)) unstructured(w, level + 1, child as Record<string, unknown>, expr, skip);
        else w.write(level + 1, `${goValue(child)}\n`);
      }
    } else {
      w.write(level, `${smartLabelFor(field)}:\t${goValue(value)}\n`);
    }
  }
}

const describeServiceAccount: Describer = async (ctx, sa, w) => {
  const [evs, secrets] = await Promise.all([events(ctx, sa), list(ctx, `/api/v1/namespaces/${sa.metadata.namespace}/secrets`)]);
  header(w, sa);
  meta(w, sa);
  const existing = new Set(secrets.map((s) => s.metadata.name));
  const tokens = secrets.filter((s) => s.type === 'kubernetes.io/service-account-token' && s.metadata.annotations?.['kubernetes.io/service-account.name'] === sa.metadata.name)
    .map((s) => s.metadata.name);
  const groups: [string, string[]][] = [
    ['Image pull secrets:', (sa.imagePullSecrets ?? []).map((r: any) => (existing.has(r.name) ? r.name : `${r.name} (not found)`))],
    ['Mountable secrets: ', (sa.secrets ?? []).map((r: any) => (existing.has(r.name) ? r.name : `${r.name} (not found)`))],
    ['Tokens:            ', tokens],
  ];
  for (const [title, names] of groups) {
    if (!names.length) w.write(0, `${title}\t<none>\n`);
    names.forEach((n, i) => w.write(0, `${i ? '                   ' : title}\t${n}\n`));
  }
  describeEvents(evs, w);
};

const describePriorityClass: Describer = async (ctx, pc, w) => {
  const evs = await events(ctx, pc);
  w.write(0, `Name:\t${pc.metadata.name}\n`);
  w.write(0, `Value:\t${pc.value ?? 0}\n`);
  w.write(0, `GlobalDefault:\t${pc.globalDefault ? 'true' : 'false'}\n`);
  w.write(0, `PreemptionPolicy:\t${pc.preemptionPolicy ?? ''}\n`);
  w.write(0, `Description:\t${pc.description ?? ''}\n`);
  w.write(0, `Annotations:\t${formatLabels(pc.metadata.annotations)}\n`);
  describeEvents(evs, w);
};

const describeResourceQuota: Describer = async (_ctx, q, w) => {
  header(w, q);
  if (q.spec?.scopes?.length) w.write(0, `Scopes:\t${[...q.spec.scopes].sort(goCompare).join(', ')}\n`);
  w.write(0, 'Resource\tUsed\tHard\n');
  w.write(0, '--------\t----\t----\n');
  const hard = q.status?.hard ?? {};
  for (const r of Object.keys(hard).sort(goCompare)) w.write(0, `${r}\t${q.status?.used?.[r] ?? '0'}\t${hard[r]}\n`);
};

const DESCRIBERS: Record<string, Describer> = {
  '/Pod': describePod, '/ConfigMap': describeConfigMap, '/Secret': describeSecret, '/Namespace': describeNamespace,
  '/Service': describeService, '/ResourceQuota': describeResourceQuota, 'scheduling.k8s.io/PriorityClass': describePriorityClass, '/ServiceAccount': describeServiceAccount, '/Node': describeNode, '/PersistentVolumeClaim': describePvc,
  'apps/Deployment': describeDeployment, 'apps/ReplicaSet': describeReplicaSet, 'apps/DaemonSet': describeDaemonSet,
  'apps/StatefulSet': describeStatefulSet, 'batch/Job': describeJob, 'autoscaling/HorizontalPodAutoscaler': describeHpa,
};
