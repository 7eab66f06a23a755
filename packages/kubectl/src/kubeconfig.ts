import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
// js-yaml loads in a fifth of the time the yaml package takes, and every command reads the kubeconfig.
import { load as parseYaml } from 'js-yaml';
import { CliError } from './errors.js';

/** One named entry of a kubeconfig list, with the file it came from (relative paths resolve against it). */
export interface Named<T> { name: string; value: T; file: string }

export interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  [key: string]: unknown;
}

export interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  /** Act-as fields: the user, uid, groups and extra to impersonate on every request. */
  as?: string;
  'as-uid'?: string;
  'as-groups'?: string[];
  'as-user-extra'?: Record<string, string[]>;
  [key: string]: unknown;
}

export interface ContextEntry { cluster?: string; user?: string; namespace?: string; [key: string]: unknown }

/** A kubeconfig after kubectl's merge of every file in the chain. */
export interface KubeConfig {
  files: string[];
  /** The file kubectl writes `current-context` to (the first one that sets it, else the first one). */
  currentContextFile: string | undefined;
  currentContext: string;
  preferences: Record<string, unknown>;
  clusters: Named<ClusterEntry>[];
  users: Named<UserEntry>[];
  contexts: Named<ContextEntry>[];
}

/**
 * The files of the kubeconfig chain as kubectl finds them: `--kubeconfig` (which must exist), else every file of
 * `$KUBECONFIG` (missing ones skipped), else `~/.kube/config`.
 */
export function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { files: string[]; explicit: boolean } {
  if (explicit) return { files: [resolve(explicit)], explicit: true };
  const fromEnv = env.KUBECONFIG;
  if (fromEnv) {
    const seen = new Set<string>();
    const files = fromEnv.split(delimiter).filter(Boolean).map((f) => resolve(f)).filter((f) => !seen.has(f) && seen.add(f));
    return { files, explicit: false };
  }
  return { files: [join(env.HOME || homedir(), '.kube', 'config')], explicit: false };
}

function asList<T>(v: unknown, key: 'cluster' | 'user' | 'context', file: string): Named<T>[] {
  if (!Array.isArray(v)) return [];
  const out: Named<T>[] = [];
  for (const item of v) {
    if (!item || typeof item !== 'object' || typeof (item as { name?: unknown }).name !== 'string') continue;
    out.push({ name: (item as { name: string }).name, value: ((item as Record<string, unknown>)[key] ?? {}) as T, file });
  }
  return out;
}

/** A kubeconfig file's YAML as a mapping, or kubectl's "error loading config file" for what is not one. */
export function parseKubeconfigText(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new CliError(`error loading config file "${file}": ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError(`error loading config file "${file}": not a kubeconfig`);
  return doc as Record<string, unknown>;
}

/**
 * Reads and merges the kubeconfig chain: for every map entry and for current-context, the first file to set it wins.
 * A missing `--kubeconfig` file is an error, except with `missingOk` (kubectl config reads it as empty).
 */
export function loadKubeconfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, missingOk = false): KubeConfig {
  const { files, explicit: isExplicit } = kubeconfigFiles(explicit, env);
  const cfg: KubeConfig = { files, currentContextFile: undefined, currentContext: '', preferences: {}, clusters: [], users: [], contexts: [] };
  const names = { clusters: new Set<string>(), users: new Set<string>(), contexts: new Set<string>() };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') {
        if (isExplicit && !missingOk) throw new CliError(`stat ${explicit}: no such file or directory`);
        continue;
      }
      throw new CliError(`error loading config file "${file}": ${(err as Error).message}`);
    }
    const doc = parseKubeconfigText(text, file);
    const current = doc['current-context'];
    if (!cfg.currentContext && typeof current === 'string' && current) {
      cfg.currentContext = current;
      cfg.currentContextFile = file;
    }
    if (doc.preferences && typeof doc.preferences === 'object') cfg.preferences = { ...doc.preferences as object, ...cfg.preferences };
    for (const c of asList<ClusterEntry>(doc.clusters, 'cluster', file)) if (!names.clusters.has(c.name)) { names.clusters.add(c.name); cfg.clusters.push(c); }
    for (const u of asList<UserEntry>(doc.users, 'user', file)) if (!names.users.has(u.name)) { names.users.add(u.name); cfg.users.push(u); }
    for (const c of asList<ContextEntry>(doc.contexts, 'context', file)) if (!names.contexts.has(c.name)) { names.contexts.add(c.name); cfg.contexts.push(c); }
  }
  cfg.currentContextFile ??= files.find((f) => existsSync(f)) ?? files[0];
  return cfg;
}

/** The connection flags that override the kubeconfig, as kubectl's genericclioptions.ConfigFlags. */
export interface ConnectionOverrides {
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  token?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** `--as`, `--as-group` (repeated), `--as-uid`: override the user's act-as fields when non-empty. */
  as?: string;
  asGroup?: string[];
  asUid?: string;
}

/** Who every request acts as (client-go's rest.ImpersonationConfig): sent as the Impersonate-* headers. */
export interface Impersonation {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** Everything needed to reach the server, resolved from the merged kubeconfig plus the flags. */
export interface ClientConfig {
  server: string;
  contextName: string;
  /** The namespace of the context, or `default`. */
  namespace: string;
  token?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipVerify: boolean;
  /** Set when a user to act as is given (flags or the kubeconfig user's `as`). */
  impersonate?: Impersonation;
}

function material(entry: Record<string, unknown> | undefined, file: string | undefined, key: string, flag: string | undefined): Buffer | undefined {
  if (flag) return readMaterial(resolve(flag));
  const data = entry?.[`${key}-data`];
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  const path = entry?.[key];
  if (typeof path === 'string' && path) return readMaterial(isAbsolute(path) || !file ? path : join(dirname(file), path));
  return undefined;
}

function readMaterial(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`open ${path}: ${(err as { code?: string }).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/**
 * Resolves server, credentials and namespace as kubectl does: the context (`--context` or current-context), its
 * cluster and user (or `--cluster`/`--user`), then the connection flags on top. With nothing at all, kubectl's
 * default `http://localhost:8080`.
 */
export function resolveClientConfig(cfg: KubeConfig, o: ConnectionOverrides): ClientConfig {
  const contextName = o.context || cfg.currentContext;
  const ctx = cfg.contexts.find((c) => c.name === contextName);
  const clusterName = o.cluster || ctx?.value.cluster || '';
  const userName = o.user || ctx?.value.user || '';
  const cluster = cfg.clusters.find((c) => c.name === clusterName);
  const user = cfg.users.find((u) => u.name === userName);
  // client-go's validation of the merged config, reported all at once as kubectl does.
  const problems: string[] = [];
  if (contextName && !ctx) problems.push(`context was not found for specified context: ${contextName}`);
  if (clusterName && !o.server && !cluster?.value.server) problems.push(`no server found for cluster "${clusterName}"`);
  if (problems.length === 1) throw new CliError(`Error in configuration: ${problems[0]}`, { raw: true });
  if (problems.length > 1) throw new CliError(`Error in configuration: \n${problems.map((p) => `* ${p}`).join('\n')}`, { raw: true });
  let server = o.server || cluster?.value.server || 'http://localhost:8080';
  const insecure = o.insecureSkipTlsVerify ?? cluster?.value['insecure-skip-tls-verify'] === true;
  // A bare host:port means https when there is TLS to speak, else http (client-go's DefaultServerURL).
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(server)) {
    const tls = insecure || o.certificateAuthority || cluster?.value['certificate-authority'] || cluster?.value['certificate-authority-data'];
    server = `${tls ? 'https' : 'http'}://${server}`;
  }
  const userEntry = user?.value;
  let token = o.token || (typeof userEntry?.token === 'string' ? userEntry.token : undefined);
  const tokenFile = userEntry?.tokenFile;
  if (!token && typeof tokenFile === 'string' && tokenFile) token = readMaterial(isAbsolute(tokenFile) ? tokenFile : join(dirname(user!.file), tokenFile)).toString('utf8').trim();
  const impersonate = impersonation(userName, userEntry, o);
  return {
    server: server.replace(/\/+$/, ''),
    contextName,
    namespace: ctx?.value.namespace || 'default',
    token,
    ca: insecure ? undefined : material(cluster?.value, cluster?.file, 'certificate-authority', o.certificateAuthority),
    cert: material(userEntry, user?.file, 'client-certificate', o.clientCertificate),
    key: material(userEntry, user?.file, 'client-key', o.clientKey),
    insecureSkipVerify: insecure,
    ...(impersonate ? { impersonate } : {}),
  };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The act-as of the user entry with the flags over it (non-empty flags win, as client-go's override merge), or
 * undefined without a user. Groups, uid or extra without a user are client-go's validation error.
 */
function impersonation(userName: string, entry: UserEntry | undefined, o: ConnectionOverrides): Impersonation | undefined {
  const user = o.as || (typeof entry?.as === 'string' ? entry.as : '');
  const uid = o.asUid || (typeof entry?.['as-uid'] === 'string' ? entry['as-uid'] : '');
  const groups = o.asGroup?.length ? o.asGroup : strings(entry?.['as-groups']);
  const extra: Record<string, string[]> = {};
  const rawExtra = entry?.['as-user-extra'];
  if (rawExtra && typeof rawExtra === 'object') for (const [k, v] of Object.entries(rawExtra)) extra[k] = strings(v);
  if (!user) {
    if (uid || groups.length || Object.keys(extra).length) throw new CliError(`requesting uid, groups or user-extra for ${userName} without impersonating a user`);
    return undefined;
  }
  return { user, ...(uid ? { uid } : {}), groups, extra };
}
