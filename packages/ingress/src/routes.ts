import type { Ingress, IngressBackend } from 'kubernetes-types/networking/v1.js';

/** A Service backend of an Ingress: the Service and its port, by number or by name. */
export interface Backend {
  namespace: string;
  service: string;
  port: { number?: number; name?: string };
}

/** One path of an Ingress rule, ready to match. */
export interface PathRoute {
  /** The path as written (`/` when unset). */
  path: string;
  /** ImplementationSpecific is matched as Prefix. */
  type: 'Exact' | 'Prefix';
  /** Prefix: the path's non-empty elements. */
  elements: string[];
  backend: Backend;
  /** `namespace/name` of the Ingress it came from. */
  ingress: string;
}

/** A TLS section: the hosts it covers and its Secret. */
export interface TlsRoute {
  hosts: string[];
  namespace: string;
  secretName: string;
  ingress: string;
}

/** Every rule of the Ingresses this controller serves, merged as ingress-nginx merges them. */
export interface RouteTable {
  /** Exact host → its paths, best match first. */
  hosts: Map<string, PathRoute[]>;
  /** `*.example.com` → paths for hosts one DNS label below `example.com`. */
  wildcards: Map<string, PathRoute[]>;
  /** Rules without a host: every other host. */
  anyHost: PathRoute[];
  /** The oldest Ingress's `defaultBackend`: whatever no rule matches. */
  defaultBackend?: { backend: Backend; ingress: string };
  tls: TlsRoute[];
  /** The Ingresses in the table, `namespace/name`. */
  ingresses: string[];
}

/** Which Ingresses are ours: `spec.ingressClassName` (or the legacy annotation) naming our class, or neither when it is the default. */
export interface ClassSelection {
  className: string;
  isDefault: boolean;
}

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** Whether this controller serves the Ingress (upstream's IngressClass rules, as ingress-nginx applies them). */
export function servesIngress(ing: Ingress, sel: ClassSelection): boolean {
  const named = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  return named ? named === sel.className : sel.isDefault;
}

/** `ns/name` of an object. */
const keyOf = (o: Ingress) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** Oldest first (by creationTimestamp, then namespace/name): the oldest Ingress wins a host and path both define. */
function byAge(a: Ingress, b: Ingress): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function backendOf(namespace: string, b: IngressBackend | undefined): Backend | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined; // resource backends are not served
  const port = svc.port ?? {};
  return { namespace, service: String(svc.name), port: port.name ? { name: String(port.name) } : { number: Number(port.number) } };
}

/** A path's elements: `/foo//bar/` → ['foo', 'bar']. */
export const pathElements = (p: string): string[] => p.split('/').filter(Boolean);

/**
 * Longest first; at equal length Exact before Prefix (the Ingress spec's precedence). Length is of the path as
 * written without a trailing slash, so `/foo/` and `/foo` tie and the older one, sorted first, wins.
 */
function precedence(a: PathRoute, b: PathRoute): number {
  const la = a.path.replace(/\/+$/, '').length;
  const lb = b.path.replace(/\/+$/, '').length;
  if (la !== lb) return lb - la;
  if (a.type !== b.type) return a.type === 'Exact' ? -1 : 1;
  return 0;
}

/** Builds the route table from the Ingresses this controller serves (pure). */
export function buildRouteTable(ingresses: readonly Ingress[], sel: ClassSelection): RouteTable {
  const table: RouteTable = { hosts: new Map(), wildcards: new Map(), anyHost: [], tls: [], ingresses: [] };
  const ours = ingresses.filter((i) => !i.metadata?.deletionTimestamp && servesIngress(i, sel)).sort(byAge);
  for (const ing of ours) {
    const namespace = ing.metadata?.namespace ?? 'default';
    const name = keyOf(ing);
    table.ingresses.push(name);
    const spec = ing.spec ?? {};
    const def = backendOf(namespace, spec.defaultBackend);
    if (def && !table.defaultBackend) table.defaultBackend = { backend: def, ingress: name };
    for (const rule of spec.rules ?? []) {
      const host = String(rule.host ?? '').toLowerCase();
      let list: PathRoute[];
      if (!host) list = table.anyHost;
      else {
        const map = host.startsWith('*.') ? table.wildcards : table.hosts;
        const key = host.startsWith('*.') ? host.slice(2) : host;
        list = map.get(key) ?? [];
        map.set(key, list);
      }
      for (const p of rule.http?.paths ?? []) {
        const backend = backendOf(namespace, p.backend);
        if (!backend) continue;
        const path = String(p.path || '/');
        const type = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        // The same host, path and type from a younger Ingress loses to the older one (already in the list).
        const same = (r: PathRoute) => r.type === type && (type === 'Exact' ? r.path === path : r.path.replace(/\/+$/, '') === path.replace(/\/+$/, ''));
        if (list.some(same)) continue;
        list.push({ path, type, elements: pathElements(path), backend, ingress: name });
      }
    }
    for (const t of spec.tls ?? []) {
      if (t.secretName) table.tls.push({ hosts: (t.hosts ?? []).map((h) => h.toLowerCase()), namespace, secretName: String(t.secretName), ingress: name });
    }
  }
  // Stable sort: at equal precedence the older Ingress's path stays first.
  for (const list of [...table.hosts.values(), ...table.wildcards.values(), table.anyHost]) list.sort(precedence);
  return table;
}

/** Whether a request path matches a route (Prefix matches element by element: `/foo` matches `/foo/bar`, not `/foobar`). */
export function pathMatches(route: PathRoute, path: string): boolean {
  if (route.type === 'Exact') return path === route.path;
  const req = pathElements(path);
  if (route.elements.length > req.length) return false;
  for (let i = 0; i < route.elements.length; i++) if (route.elements[i] !== req[i]) return false;
  return true;
}

/** The host without its port, lower case (`Example.com:8080` → `example.com`; IPv6 brackets kept). */
export function normalizeHost(hostHeader: string | undefined): string {
  const h = (hostHeader ?? '').toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** The wildcard key a host falls under: `foo.example.com` → `example.com` (one label only). */
export function wildcardKey(host: string): string | undefined {
  const dot = host.indexOf('.');
  return dot > 0 ? host.slice(dot + 1) : undefined;
}

/** The rules for a host: exact host first, then a wildcard one label up, then the rules without a host. */
export function rulesFor(table: RouteTable, host: string): PathRoute[] {
  const exact = table.hosts.get(host);
  if (exact) return exact;
  const wk = wildcardKey(host);
  const wild = wk === undefined ? undefined : table.wildcards.get(wk);
  return wild ?? table.anyHost;
}

export interface RouteMatch {
  backend: Backend;
  ingress: string;
  /** The matched path rule; undefined for the default backend. */
  route?: PathRoute;
}

/**
 * The backend for a request: the host's rules (see rulesFor), the best path among them, else the default backend.
 * Undefined: nothing matches (404).
 */
export function matchRoute(table: RouteTable, hostHeader: string | undefined, path: string): RouteMatch | undefined {
  const host = normalizeHost(hostHeader);
  const rules = rulesFor(table, host);
  for (const route of rules) if (pathMatches(route, path)) return { backend: route.backend, ingress: route.ingress, route };
  return table.defaultBackend;
}

/** Whether a TLS host entry (exact or `*.` wildcard) covers a server name. */
export function tlsHostMatches(pattern: string, serverName: string): boolean {
  if (pattern === serverName) return true;
  return pattern.startsWith('*.') && wildcardKey(serverName) === pattern.slice(2);
}
