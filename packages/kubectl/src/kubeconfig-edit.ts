import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { CliError } from './errors.js';
import { kubeconfigFiles, parseKubeconfigText } from './kubeconfig.js';
import { toGoYaml } from './printers/serialize.js';

/**
 * Writing kubeconfig files as client-go's clientcmd does (ModifyConfig, WriteToFile): each file is read into the
 * known fields only (unknown ones are dropped, as Go's decoder drops them), a change goes to the file that defines
 * the stanza (a new stanza to the first file that exists, else the last of the chain), and a file is written in
 * kubectl's layout: keys sorted, lists sorted by name, `kind: Config`, `apiVersion: v1`, mode 0600 when created.
 * Only `kubectl config` imports this.
 */

/** One stanza in its v1 (on-disk) form, with only the fields clientcmd knows, in their canonical order. */
export type Stanza = Record<string, unknown>;

/** One file's contents, or the merged chain's (where every stanza remembers the file it came from). */
export interface EditConfig {
  preferences: Stanza;
  clusters: Map<string, Stanza>;
  users: Map<string, Stanza>;
  contexts: Map<string, Stanza>;
  currentContext: string;
  /** The file each stanza came from (client-go's LocationOfOrigin), keyed `clusters/NAME` and so on. */
  origin: Map<string, string>;
  /**
   * Set when `unset` cleared preferences or their extensions: Go then holds a nil map where every file read holds an
   * empty one, so ModifyConfig writes the preferences to the first file whatever they were.
   */
  preferencesCleared?: boolean;
  /** Stanzas (`clusters/NAME`, …) to write even when they look unchanged, for the same reason. */
  forced?: Set<string>;
}

export type Section = 'clusters' | 'users' | 'contexts';
export const SECTIONS: Section[] = ['clusters', 'users', 'contexts'];

/** How kubectl's PathOptions finds the files: `--kubeconfig` alone, else `$KUBECONFIG`'s list, else ~/.kube/config. */
export interface ConfigAccess { files: string[]; explicit: boolean }

export function configAccess(explicit: string | undefined, env: NodeJS.ProcessEnv): ConfigAccess {
  // The paths as given (kubectl names them so in its messages: `deleted context a from ./config`), duplicates dropped.
  if (explicit) return { files: [explicit], explicit: true };
  if (env.KUBECONFIG) return { files: [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))], explicit: false };
  return kubeconfigFiles(undefined, env);
}

/** GetDefaultFilename: the explicit file, else the first file of the chain that exists, else the last one. */
export function defaultFilename(access: ConfigAccess): string {
  if (access.explicit) return access.files[0];
  return access.files.find((f) => existsSync(f)) ?? access.files[access.files.length - 1];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const bool = (v: unknown): boolean => v === true;
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(str) : undefined);

/** Builds an object in sorted key order, leaving out what Go's `omitempty` leaves out. */
function pick(fields: [string, unknown, boolean?][]): Stanza {
  const out: Stanza = {};
  for (const [k, v, always] of [...fields].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const empty = v === undefined || v === '' || v === false || (Array.isArray(v) && !v.length) || (v !== null && typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length);
    if (always || !empty) out[k] = v === undefined ? null : v;
  }
  return out;
}

function extensions(v: unknown): unknown {
  return Array.isArray(v) && v.length ? v : undefined;
}

/** A v1 Cluster as Go decodes and re-encodes it. */
export function normalCluster(c: Record<string, unknown>): Stanza {
  return pick([
    ['server', str(c.server), true], ['tls-server-name', str(c['tls-server-name'])], ['insecure-skip-tls-verify', bool(c['insecure-skip-tls-verify'])],
    ['certificate-authority', str(c['certificate-authority'])], ['certificate-authority-data', str(c['certificate-authority-data'])],
    ['proxy-url', str(c['proxy-url'])], ['disable-compression', bool(c['disable-compression'])], ['extensions', extensions(c.extensions)],
  ]);
}

/** A v1 Context as Go decodes and re-encodes it (`cluster` and `user` are never left out). */
export function normalContext(c: Record<string, unknown>): Stanza {
  return pick([['cluster', str(c.cluster), true], ['user', str(c.user), true], ['namespace', str(c.namespace)], ['extensions', extensions(c.extensions)]]);
}

function normalExec(e: Record<string, unknown>): Stanza {
  const env = Array.isArray(e.env) ? e.env.map((x: Record<string, unknown>) => ({ name: str(x?.name), value: str(x?.value) })) : null;
  return pick([
    ['command', str(e.command), true], ['args', strings(e.args) ?? null, true], ['env', env, true], ['apiVersion', str(e.apiVersion)],
    ['installHint', str(e.installHint)], ['provideClusterInfo', bool(e.provideClusterInfo), true], ['interactiveMode', str(e.interactiveMode)],
  ]);
}

/** A v1 AuthInfo as Go decodes and re-encodes it. */
export function normalUser(u: Record<string, unknown>): Stanza {
  const ap = u['auth-provider'] as Record<string, unknown> | undefined;
  const exec = u.exec as Record<string, unknown> | undefined;
  const extra = u['as-user-extra'];
  return pick([
    ['client-certificate', str(u['client-certificate'])], ['client-certificate-data', str(u['client-certificate-data'])],
    ['client-key', str(u['client-key'])], ['client-key-data', str(u['client-key-data'])], ['token', str(u.token)], ['tokenFile', str(u.tokenFile)],
    ['as', str(u.as)], ['as-uid', str(u['as-uid'])], ['as-groups', strings(u['as-groups'])],
    ['as-user-extra', extra && typeof extra === 'object' ? extra : undefined], ['username', str(u.username)], ['password', str(u.password)],
    ['auth-provider', ap && typeof ap === 'object' ? { config: ap.config && typeof ap.config === 'object' ? ap.config : null, name: str(ap.name) } : undefined],
    ['exec', exec && typeof exec === 'object' ? normalExec(exec) : undefined], ['extensions', extensions(u.extensions)],
  ]);
}

const NORMAL: Record<Section, (v: Record<string, unknown>) => Stanza> = { clusters: normalCluster, users: normalUser, contexts: normalContext };
const ITEM: Record<Section, string> = { clusters: 'cluster', users: 'user', contexts: 'context' };

function emptyConfig(): EditConfig {
  return { preferences: {}, clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: '', origin: new Map() };
}

/** client-go's getConfigFromFile: a file's contents, or an empty config when it does not exist. */
export function readConfigFile(file: string): EditConfig {
  const cfg = emptyConfig();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return cfg;
    throw new CliError(`error loading config file "${file}": ${(err as Error).message}`);
  }
  const doc = parseKubeconfigText(text, file);
  // []byte fields: Go decodes them (an invalid one fails the load) and writes them back in canonical base64.
  const bytes = (stanza: Record<string, unknown>, key: string) => {
    const v = stanza?.[key];
    if (typeof v === 'string' && v) stanza[key] = goBase64Decode(v, `error loading config file "${file}": `).toString('base64');
  };
  for (const [section, keys] of [['clusters', ['certificate-authority-data']], ['users', ['client-certificate-data', 'client-key-data']]] as const) {
    const list = doc[section];
    if (Array.isArray(list)) for (const item of list) for (const k of keys) bytes(item?.[ITEM[section]], k);
  }
  cfg.currentContext = str(doc['current-context']);
  const prefs = (doc.preferences ?? {}) as Record<string, unknown>;
  cfg.preferences = pick([['colors', bool(prefs.colors)], ['extensions', extensions(prefs.extensions)]]);
  for (const section of SECTIONS) {
    const list = doc[section];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (!item || typeof item !== 'object' || typeof item.name !== 'string') continue;
      // Go's map keeps the last entry of a name within one file.
      cfg[section].set(item.name, NORMAL[section]((item[ITEM[section]] ?? {}) as Record<string, unknown>));
      cfg.origin.set(`${section}/${item.name}`, file);
    }
  }
  return cfg;
}

/** GetStartingConfig: the chain merged, the first file to define a stanza (or current-context) winning. */
export function startingConfig(access: ConfigAccess): EditConfig {
  const out = emptyConfig();
  for (const file of access.files) {
    const cfg = readConfigFile(file);
    if (!out.currentContext) out.currentContext = cfg.currentContext;
    out.preferences = { ...cfg.preferences, ...out.preferences };
    for (const section of SECTIONS) {
      for (const [name, stanza] of cfg[section]) {
        if (out[section].has(name)) continue;
        out[section].set(name, stanza);
        out.origin.set(`${section}/${name}`, file);
      }
    }
  }
  return out;
}

/** A deep copy, for editing without touching the starting config. */
export function cloneConfig(cfg: EditConfig): EditConfig {
  return {
    preferences: structuredClone(cfg.preferences),
    clusters: new Map([...cfg.clusters].map(([k, v]) => [k, structuredClone(v)])),
    users: new Map([...cfg.users].map(([k, v]) => [k, structuredClone(v)])),
    contexts: new Map([...cfg.contexts].map(([k, v]) => [k, structuredClone(v)])),
    currentContext: cfg.currentContext,
    origin: new Map(cfg.origin),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** WriteToFile: the v1 document, keys sorted as sigs.k8s.io/yaml sorts them, mode 0600 when the file is new. */
export function writeConfigFile(cfg: EditConfig, file: string): void {
  const byName = (m: Map<string, Stanza>, item: string) => {
    if (!m.size) return null;
    return [...m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((name) => ({ [item]: m.get(name), name }));
  };
  const doc = {
    apiVersion: 'v1',
    clusters: byName(cfg.clusters, 'cluster'),
    contexts: byName(cfg.contexts, 'context'),
    'current-context': cfg.currentContext,
    kind: 'Config',
    preferences: cfg.preferences,
    users: byName(cfg.users, 'user'),
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  try {
    writeFileSync(file, toGoYaml(doc), { mode: 0o600 });
  } catch (err) {
    throw new CliError(`open ${file}: ${(err as Error).message}`);
  }
}

/**
 * client-go's ResolvePaths then RelativizePathWithNoBacksteps: each path, made absolute against the file's directory,
 * becomes relative to it — or stays absolute when that would take a `../`.
 */
function relativize(stanza: Stanza, keys: string[], file: string): void {
  const base = resolve(dirname(file));
  for (const k of keys) {
    const v = stanza[k];
    if (typeof v !== 'string' || !v) continue;
    const abs = isAbsolute(v) ? v : join(base, v);
    const rel = relative(base, abs) || '.';
    stanza[k] = rel === '..' || rel.startsWith('../') ? abs : rel;
  }
}

function relativizeStanza(section: Section, stanza: Stanza, file: string): void {
  if (section === 'clusters') relativize(stanza, ['certificate-authority'], file);
  if (section === 'users') {
    relativize(stanza, ['client-certificate', 'client-key', 'tokenFile'], file);
    const exec = stanza.exec as Stanza | undefined;
    if (exec && typeof exec.command === 'string' && exec.command.includes('/')) relativize(exec, ['command'], file);
  }
}

/**
 * ModifyConfig: writes the differences between `start` and `next` into the files they belong in — current-context
 * as writeCurrentContext says, a changed or new stanza into its file of origin (else the default file), a removed
 * stanza out of its file of origin. With `relativizePaths`, the paths of a changed
 * stanza are made relative to its file, as set-cluster and set-credentials do.
 */
export function modifyConfig(access: ConfigAccess, start: EditConfig, next: EditConfig, relativizePaths: boolean): void {
  // client-go locks every file of the chain (`<file>.lock`, created exclusively, in sorted order) while it writes.
  const locked: string[] = [];
  try {
    for (const file of [...access.files].sort()) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
      try {
        closeSync(openSync(`${file}.lock`, 'wx', 0));
      } catch (err) {
        throw new CliError(`open ${file}.lock: ${(err as { code?: string }).code === 'EEXIST' ? 'file exists' : (err as Error).message}`);
      }
      locked.push(`${file}.lock`);
    }
    writeChanges(access, start, next, relativizePaths);
  } finally {
    for (const lock of locked) rmSync(lock, { force: true });
  }
}

function writeChanges(access: ConfigAccess, start: EditConfig, next: EditConfig, relativizePaths: boolean): void {
  if (next.currentContext !== start.currentContext) writeCurrentContext(access, next.currentContext);
  if (!same(next.preferences, start.preferences) || next.preferencesCleared) {
    const candidates = access.explicit || next.preferencesCleared ? access.files : access.files.filter((f) => !same(readConfigFile(f).preferences, next.preferences));
    if (!candidates.length) throw new CliError('no config found to write preferences');
    const cfg = readConfigFile(candidates[0]);
    cfg.preferences = structuredClone(next.preferences);
    writeConfigFile(cfg, candidates[0]);
  }
  for (const section of SECTIONS) {
    for (const [name, stanza] of next[section]) {
      const before = start[section].get(name);
      const id = `${section}/${name}`;
      if (before && same(before, stanza) && start.origin.get(id) === next.origin.get(id) && !next.forced?.has(id)) continue;
      const file = next.origin.get(`${section}/${name}`) || defaultFilename(access);
      const cfg = readConfigFile(file);
      const copy = structuredClone(stanza);
      if (relativizePaths) relativizeStanza(section, copy, file);
      cfg[section].set(name, copy);
      writeConfigFile(cfg, file);
    }
  }
  // A removed stanza goes from the file it came from; a shadowed one of the same name in a later file stays.
  for (const section of SECTIONS) {
    for (const name of start[section].keys()) {
      if (next[section].has(name)) continue;
      const file = start.origin.get(`${section}/${name}`) || defaultFilename(access);
      const cfg = readConfigFile(file);
      if (cfg[section].delete(name)) writeConfigFile(cfg, file);
    }
  }
}

/**
 * client-go's writeCurrentContext: a new current-context goes into the default file (the explicit one, else the first
 * that exists); clearing it clears the first file of the chain that sets one.
 */
function writeCurrentContext(access: ConfigAccess, name: string): void {
  let file: string | undefined;
  if (access.explicit || name) file = defaultFilename(access);
  else file = access.files.find((f) => existsSync(f) && readConfigFile(f).currentContext);
  if (!file) throw new CliError('no config found to write context');
  const cfg = readConfigFile(file);
  cfg.currentContext = name;
  writeConfigFile(cfg, file);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Go's base64.StdEncoding.DecodeString, with its errors (`<prefix>illegal base64 data at input byte N`). */
export function goBase64Decode(src: string, prefix: string): Buffer {
  const bad = (n: number) => new CliError(`${prefix}illegal base64 data at input byte ${n}`);
  const out: number[] = [];
  let si = 0;
  for (;;) {
    const q: number[] = [];
    let j = 0;
    let end = false;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        throw bad(si - j);
      }
      const ch = src[si++];
      const v = B64.indexOf(ch);
      if (v >= 0) { q.push(v); continue; }
      if (ch === '\n' || ch === '\r') { j--; continue; }
      if (ch !== '=') throw bad(si - 1);
      if (j === 0 || j === 1) throw bad(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === '\n' || src[si] === '\r')) si++;
        if (si === src.length) throw bad(src.length);
        if (src[si] !== '=') throw bad(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === '\n' || src[si] === '\r')) si++;
      if (si < src.length) throw bad(si);
      end = true;
      break;
    }
    const n = q.length;
    const bits = (q[0] << 18) | ((q[1] ?? 0) << 12) | ((q[2] ?? 0) << 6) | (q[3] ?? 0);
    if (n >= 2) out.push((bits >> 16) & 0xff);
    if (n >= 3) out.push((bits >> 8) & 0xff);
    if (n >= 4) out.push(bits & 0xff);
    if (end) return Buffer.from(out);
  }
}
