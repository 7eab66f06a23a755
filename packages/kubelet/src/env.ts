import os from 'node:os';
import {
  compareQuantities, cpuMillis, quantityValue, type ConfigMap, type Container, type PersistentVolume, type PersistentVolumeClaim, type Pod,
  type Secret, type Service,
} from '@k8ts/api';

/** Reads ConfigMaps and Secrets for a pod (the kubelet passes an informer- or client-backed implementation). */
export interface ObjectSource {
  /** undefined = not found; other failures throw. */
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** The claim and its bound volume, for persistentVolumeClaim volumes (undefined = not found). */
  persistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume?(name: string): Promise<PersistentVolume | undefined>;
}

/** The container's environment cannot be built as written; the container waits with this reason. */
export class EnvError extends Error {
  readonly reason = 'CreateContainerConfigError' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvError';
  }
}

export interface EnvContext {
  podIP: string;
  hostIP: string;
  nodeName: string;
  source: ObjectSource;
  /** Told (upstream's Warning event reason and message) when envFrom keys are skipped as invalid names. */
  warn?: (reason: string, message: string) => void;
  /** The Services the container starts with (all namespaces; see serviceEnvFor): their env vars come first. */
  services?: readonly Service[];
}

/**
 * Services whose variables a pod gets (upstream's getServiceEnvVarMap): the `kubernetes` Service of `default`
 * always, and, unless `enableServiceLinks: false`, every Service of the pod's namespace with a ClusterIP (one of
 * the pod's namespace wins over `default`'s of the same name).
 */
export function serviceEnvFor(pod: Pod, services: readonly Service[]): Service[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata?.name ?? '';
    if (svc.metadata?.namespace === ns && links) byName.set(name, svc);
    else if (svc.metadata?.namespace === 'default' && name === 'kubernetes' && !byName.has(name)) byName.set(name, svc);
  }
  return [...byName.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * The variables of Services (upstream's envvars.FromServices): `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (the
 * first port), `<NAME>_SERVICE_PORT_<PORTNAME>` per named port, and Docker-links style `<NAME>_PORT` and
 * `<NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}`; names upper-cased with `-` as `_`.
 */
export function serviceEnvVars(services: readonly Service[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const envName = (s: string) => s.toUpperCase().replace(/-/g, '_');
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || !ports.length) continue;
    const name = envName(svc.metadata?.name ?? '');
    out.push({ name: `${name}_SERVICE_HOST`, value: ip }, { name: `${name}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${name}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    const proto0 = (ports[0].protocol ?? 'TCP').toLowerCase();
    const host = ip.includes(':') ? `[${ip}]` : ip;
    out.push({ name: `${name}_PORT`, value: `${proto0}://${host}:${ports[0].port}` });
    for (const p of ports) {
      const proto = p.protocol ?? 'TCP';
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push(
        { name: prefix, value: `${proto.toLowerCase()}://${host}:${p.port}` },
        { name: `${prefix}_PROTO`, value: proto.toLowerCase() },
        { name: `${prefix}_PORT`, value: String(p.port) },
        { name: `${prefix}_ADDR`, value: ip },
      );
    }
  }
  return out;
}

type ResourceFieldSelector = NonNullable<NonNullable<NonNullable<Container['env']>[number]['valueFrom']>['resourceFieldRef']>;
type Kind = 'ConfigMap' | 'Secret';

/**
 * Upstream's `$(VAR)` expansion: a defined name is replaced by its value, an undefined one stays as written,
 * `$$` yields a literal `$`, and any other `$` (including an unclosed `$(`) is kept.
 */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    if (input[i] !== '$' || i + 1 === input.length) {
      out += input[i++];
      continue;
    }
    const next = input[i + 1];
    const close = next === '(' ? input.indexOf(')', i + 2) : -1;
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (close >= 0) {
      const name = input.slice(i + 2, close);
      out += vars.get(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/**
 * The container's environment as upstream builds it: envFrom (configMapRef/secretRef with prefix, optional;
 * invalid keys skipped), then env (value with $(VAR) expansion against earlier vars; valueFrom configMapKeyRef/
 * secretKeyRef, fieldRef, resourceFieldRef). Later entries win. Throws EnvError when a required ref is missing or a
 * field is unsupported; errors of the source itself propagate unchanged (transient).
 */
export async function containerEnv(pod: Pod, container: Container, ctx: EnvContext): Promise<{ name: string; value: string }[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const fetched = new Map<string, Promise<Map<string, string> | undefined>>();
  // Every referenced object is read once per call, however many entries name it (as upstream).
  const read = async (kind: Kind, name: string, optional: boolean | undefined) => {
    const key = `${kind}/${name}`;
    if (!fetched.has(key)) fetched.set(key, readData(ctx.source, kind, ns, name));
    const data = await fetched.get(key)!;
    if (!data && !optional) throw new EnvError(`${kind.toLowerCase()} "${name}" not found`);
    return data;
  };

  const vars = new Map<string, string>();
  // Service variables first: the container's own envFrom and env override them, and $(VAR) can name them.
  const serviceVars = serviceEnvVars(serviceEnvFor(pod, ctx.services ?? []));
  for (const v of serviceVars) vars.set(v.name, v.value);
  const own = new Map<string, string>();
  const set = (name: string, value: string) => { vars.set(name, value); own.set(name, value); };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind: Kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const data = await read(kind, ref.name ?? '', ref.optional);
    const invalid: string[] = [];
    for (const [key, value] of data ?? []) {
      const name = (from.prefix ?? '') + key;
      if (isEnvVarName(name)) set(name, value);
      else invalid.push(name);
    }
    if (invalid.length > 0) {
      ctx.warn?.('InvalidEnvironmentVariableNames', `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind === 'ConfigMap' ? 'configMap' : 'secret'} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names.`);
    }
  }

  for (const env of container.env ?? []) {
    const from = env.valueFrom;
    const keyRef = from?.configMapKeyRef ?? from?.secretKeyRef;
    let value: string | undefined;
    if (!from) {
      value = expandVars(env.value ?? '', vars);
    } else if (keyRef) {
      const kind: Kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
      value = (await read(kind, keyRef.name ?? '', keyRef.optional))?.get(keyRef.key);
      if (value === undefined && !keyRef.optional) throw new EnvError(`couldn't find key ${keyRef.key} in ${kind} ${ns}/${keyRef.name}`);
    } else if (from.fieldRef) {
      value = envFieldValue(pod, from.fieldRef.fieldPath, ctx);
    } else if (from.resourceFieldRef) {
      value = resourceFieldValue(pod, from.resourceFieldRef, container);
    }
    // An optional ref to something missing defines nothing, so an earlier value of the same name survives.
    if (value !== undefined) set(env.name, value);
  }
  // As upstream: the container's variables in their order, then the service variables it did not set.
  return [...own, ...serviceVars.filter((v) => !own.has(v.name)).map((v) => [v.name, v.value] as const)].map(([name, value]) => ({ name, value }));
}

/** The string data of a ConfigMap or (base64-decoded) Secret; undefined when the object does not exist. */
async function readData(source: ObjectSource, kind: Kind, ns: string, name: string): Promise<Map<string, string> | undefined> {
  if (kind === 'ConfigMap') {
    const cm = await source.configMap(ns, name);
    return cm && new Map(Object.entries(cm.data ?? {}));
  }
  const secret = await source.secret(ns, name);
  return secret && new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** Upstream's IsEnvVarName (the strict C-identifier-like rule, not the relaxed one of newer releases). */
function isEnvVarName(name: string): boolean {
  return /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name) && name !== '.' && !name.startsWith('..');
}

function envFieldValue(pod: Pod, fieldPath: string, ctx: EnvContext): string {
  switch (fieldPath) {
    case 'spec.nodeName': return pod.spec?.nodeName || ctx.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    // Single-stack: the plural forms are the one address.
    case 'status.hostIP': case 'status.hostIPs': return ctx.hostIP;
    case 'status.podIP': case 'status.podIPs': return ctx.podIP;
    default: return metadataFieldValue(pod, fieldPath);
  }
}

/**
 * A pod metadata field as upstream's ExtractFieldPathAsString renders it (env and downwardAPI volumes): name,
 * namespace, uid, one label or annotation (`metadata.labels['k']`, '' when absent), or all of them as sorted
 * `key="value"` lines. Throws EnvError for any other path.
 */
export function metadataFieldValue(pod: Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const subscripted = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (subscripted) return meta[subscripted[1] as 'labels' | 'annotations']?.[subscripted[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'metadata.labels': return formatMap(meta.labels);
    case 'metadata.annotations': return formatMap(meta.annotations);
    default: throw new EnvError(`unsupported fieldPath: ${fieldPath}`);
  }
}

function formatMap(map: Record<string, string> = {}): string {
  return Object.keys(map).sort().map((k) => `${k}=${goQuote(map[k])}`).join('\n');
}

const GO_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's %q: what upstream's downward API files hold, so readers parsing them keep working. */
function goQuote(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (ch === ' ' || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `"${out}"`;
}

/**
 * A container's resource request or limit (cpu, memory, ephemeral-storage) divided by the divisor and rounded up,
 * as upstream. An unset limit reads as the node's capacity (the host's cpus and memory), an unset request as 0.
 * `containerName` picks another container of the pod; without it, `container` is used.
 */
export function resourceFieldValue(pod: Pod, ref: ResourceFieldSelector, container?: Container): string {
  const target = ref.containerName
    ? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === ref.containerName)
    : container;
  if (!target) throw new EnvError(`container "${ref.containerName ?? ''}" not found in pod`);
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(ref.resource);
  if (!m) throw new EnvError(`unsupported container resource : ${ref.resource}`);
  const [, kind, name] = m;
  const hostCapacity: Record<string, string> = { cpu: String(os.cpus().length), memory: String(os.totalmem()) };
  const quantity = target.resources?.[kind as 'limits' | 'requests']?.[name] ?? (kind === 'limits' ? hostCapacity[name] : '0');
  if (quantity === undefined) throw new EnvError(`container "${target.name}" has no ${ref.resource} and the node's is unknown`);
  const divisor = ref.divisor && compareQuantities(ref.divisor, 0) !== 0 ? ref.divisor : '1';
  const value = name === 'cpu' ? cpuMillis(quantity) / cpuMillis(divisor) : quantityValue(quantity) / quantityValue(divisor);
  return String(Math.ceil(value));
}
