import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import type { KubeObject } from '@k8ts/api';
import type * as YamlModule from 'yaml';
import { CliError } from './errors.js';
import type { Factory } from './factory.js';
import type { ResourceMapping, RESTMapper } from './rest-mapper.js';

/** One object read from a manifest: where it came from (file name, or `STDIN`) and its place in that file. */
export interface Manifest {
  source: string;
  /** 1-based document number within the source. */
  document: number;
  object: KubeObject;
}

/** A manifest mapped onto the server's resource, with the namespace it goes to. */
export interface Info extends Manifest {
  mapping: ResourceMapping;
  /** The object's namespace, or the command's for namespaced objects without one; undefined for cluster-scoped. */
  namespace: string | undefined;
  name: string;
}

/** kubectl's FileVisitor extensions for files found in directories. */
const MANIFEST_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

/** Options of `-f`: `-R` and where `-` reads from. */
export interface ReadOptions { recursive?: boolean; stdin?: NodeJS.ReadableStream }

/**
 * Reads every object of `-f` arguments: files (any extension), directories (`.json`/`.yaml`/`.yml`, lexical
 * order, subdirectories with `-R`), `-` for stdin; multi-document YAML, JSON, and `List`s expanded into their items.
 * URLs are refused. Parse errors name the file, the document and the line within it.
 */
export async function readManifests(filenames: string[], opts: ReadOptions = {}): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const name of filenames) {
    if (/^https?:\/\//i.test(name)) {
      throw new CliError(`reading manifests from a URL is not supported by k8ts-kubectl (${name}): download the file and pass its path with -f`);
    }
    if (name === '-') {
      out.push(...parseManifests(await readAll(opts.stdin ?? process.stdin), 'STDIN'));
      continue;
    }
    let st;
    try {
      st = statSync(name);
    } catch {
      throw new CliError(`the path "${name}" does not exist`);
    }
    if (st.isDirectory()) {
      for (const file of walk(name, !!opts.recursive)) out.push(...parseManifests(readFileSync(file, 'utf8'), file));
    } else {
      out.push(...parseManifests(readFileSync(name, 'utf8'), name));
    }
  }
  return out;
}

function walk(dir: string, recursive: boolean): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...walk(p, true));
    } else if (MANIFEST_EXTENSIONS.has(extname(entry.name))) {
      files.push(p);
    }
  }
  return files;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits one source's text into objects (YAML documents or a JSON value), `List`s expanded. */
export function parseManifests(text: string, source: string): Manifest[] {
  const values: { doc: number; value: unknown }[] = [];
  if (/^\s*[{[]/.test(text) && !/^\s*[{[][^]*\n---/.test(text)) {
    try {
      values.push({ doc: 1, value: JSON.parse(text) });
    } catch (err) {
      // Not one JSON value: it may still be YAML flow style or several JSON objects; YAML reads both.
      values.push(...parseYamlDocuments(text, source, (err as Error).message));
    }
  } else {
    values.push(...parseYamlDocuments(text, source));
  }
  const out: Manifest[] = [];
  for (const { doc, value } of values) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CliError(`error parsing ${source}: document ${doc}: error unmarshaling JSON: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]interface {}`);
    }
    const obj = value as KubeObject;
    if (typeof obj.kind !== 'string' || !obj.kind) {
      throw new CliError(`unable to decode "${source}": Object 'Kind' is missing in '${JSON.stringify(obj)}'`);
    }
    if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) {
      throw new CliError(`unable to decode "${source}": Object 'apiVersion' is missing in '${JSON.stringify(obj)}'`);
    }
    if (obj.kind.endsWith('List') && Array.isArray((obj as { items?: unknown }).items)) {
      for (const item of (obj as unknown as { items: unknown[] }).items) {
        const nested = parseManifests(JSON.stringify(item), source);
        for (const n of nested) out.push({ ...n, document: doc });
      }
      continue;
    }
    out.push({ source, document: doc, object: obj });
  }
  return out;
}

function parseYamlDocuments(text: string, source: string, jsonError?: string): { doc: number; value: unknown }[] {
  const out: { doc: number; value: unknown }[] = [];
  const docs = yaml().parseAllDocuments(text);
  if (!Array.isArray(docs)) return out;
  docs.forEach((d, i) => {
    const err = d.errors[0];
    if (err) {
      const startLine = lineOf(text, d.range?.[0] ?? 0);
      const line = (err.linePos?.[0]?.line ?? startLine) - startLine + 1;
      const what = jsonError && docs.length === 1 ? `json: ${jsonError}` : `error converting YAML to JSON: yaml: line ${line}: ${firstLine(err.message)}`;
      throw new CliError(`error parsing ${source}: document ${i + 1}: ${what}`);
    }
    out.push({ doc: i + 1, value: d.toJS({ maxAliasCount: 1000 }) });
  });
  return out;
}

let yamlModule: typeof YamlModule | undefined;

/** The yaml package, loaded on first use (only commands that read manifests pay for it). */
export function yaml(): typeof YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof YamlModule;
  return yamlModule;
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Maps manifests onto the server's resources and picks their namespaces as kubectl does: the object's own, else
 * the command's; with an explicit `-n` that disagrees with the object's, kubectl's refusal.
 */
export function toInfos(manifests: Manifest[], mapper: RESTMapper, f: Factory): Info[] {
  return manifests.map((m) => {
    let mapping: ResourceMapping;
    try {
      mapping = mapper.kindFor(m.object.apiVersion ?? "", m.object.kind ?? "");
    } catch (err) {
      const meta = m.object.metadata ?? {};
      throw new CliError(`resource mapping not found for name: "${meta.name ?? ''}" namespace: "${meta.namespace ?? ''}" from "${m.source}": ${(err as Error).message}\nensure CRDs are installed first`, { cause: err });
    }
    const name = m.object.metadata?.name ?? '';
    let namespace: string | undefined;
    if (mapping.namespaced) {
      const own = m.object.metadata?.namespace;
      if (own && f.namespaceExplicit() && own !== f.namespace()) {
        throw new CliError(`the namespace from the provided object "${own}" does not match the namespace "${f.namespace()}". You must pass '--namespace=${own}' to perform this operation.`);
      }
      namespace = own || f.namespace();
    }
    return { ...m, mapping, namespace, name };
  });
}

/** A TYPE[,TYPE] NAME… or TYPE/NAME… argument list, resolved: each resource with the names asked for (none: all). */
export interface ResourceRequest {
  mapping: ResourceMapping;
  names: string[];
  /** What the user typed for the type (`po`, `all`). */
  typed: string;
  /** Set for objects named by manifests (`-f`): their own namespace. */
  namespace?: string;
}

/**
 * Parses kubectl's resource arguments: `pods`, `pods web db`, `pods,svc`, `pod/web svc/x`, `all`, categories.
 * Throws kubectl's messages for mixed forms.
 */
export function parseResourceArgs(args: string[], mapper: RESTMapper, command = 'get'): ResourceRequest[] {
  if (args.length === 0) return [];
  const slashed = args.filter((a) => a.includes('/'));
  if (slashed.length) {
    if (slashed.length !== args.length) {
      throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl ${command} resource/<resource_name>' instead of 'kubectl ${command} resource resource/<resource_name>'`);
    }
    const out: ResourceRequest[] = [];
    for (const a of args) {
      const i = a.indexOf('/');
      const type = a.slice(0, i);
      const name = a.slice(i + 1);
      if (!type || !name) throw new CliError(`arguments in resource/name form must have a single resource and name`);
      const mapping = mapper.resourceFor(type);
      const existing = out.find((r) => r.mapping === mapping);
      if (existing) existing.names.push(name);
      else out.push({ mapping, names: [name], typed: type });
    }
    return out;
  }
  const [types, ...names] = args;
  const out: ResourceRequest[] = [];
  for (const t of types.split(',').filter(Boolean)) {
    const byCategory = mapper.find(t) ? [] : mapper.category(t);
    if (byCategory.length) {
      for (const mapping of byCategory) if (!out.some((r) => r.mapping === mapping)) out.push({ mapping, names: [...names], typed: t });
      continue;
    }
    const mapping = mapper.resourceFor(t);
    if (!out.some((r) => r.mapping === mapping)) out.push({ mapping, names: [...names], typed: t });
  }
  return out;
}
