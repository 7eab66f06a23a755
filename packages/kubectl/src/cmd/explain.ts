import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';

interface ExplainOptions { recursive?: boolean; apiVersion?: string; output: string }

/** `kubectl explain`: a resource's or field's schema from the server's /openapi/v3, in kubectl's plaintext layout. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('explain')
    .summary('Get documentation for a resource')
    .description(`Describe fields and structure of various resources.

 This command describes the fields associated with each supported API resource. Fields are identified via a simple JSONPath identifier:

        <type>.<fieldName>[.<fieldName>]

 Information about each field is retrieved from the server in OpenAPI format.

Use "kubectl api-resources" for a complete list of supported resources.

k8ts: only the plaintext output (OpenAPI v3) is implemented; --output=plaintext-openapiv2 is not.`)
    .usage('TYPE [--recursive=FALSE|TRUE] [--api-version=api-version-group] [-o|--output=plaintext|plaintext-openapiv2]')
    .argument('[args...]')
    .option('--api-version <version>', 'Use given api-version (group/version) of the resource.')
    .option('-o, --output <format>', 'Format in which to render the schema. Valid values are: (plaintext, plaintext-openapiv2).', 'plaintext')
    .option('--recursive', 'When true, print the name of all the fields recursively. Otherwise, print the available fields with their description.')
    .action(async (args: string[], o: ExplainOptions) => explain(f, args, o));
  setExamples(cmd, `  # Get the documentation of the resource and its fields
  kubectl explain pods

  # Get all the fields in the resource
  kubectl explain pods --recursive

  # Get the explanation for deployment in supported api versions
  kubectl explain deployments --api-version=apps/v1

  # Get the documentation of a specific field of a resource
  kubectl explain pods.spec.containers

  # Get the documentation of resources in different format
  kubectl explain deployment --output=plaintext-openapiv2`);
  return cmd;
}

type Schema = Record<string, any>;

async function explain(f: Factory, args: string[], o: ExplainOptions): Promise<void> {
  if (args.length === 0) throw new CliError('You must specify the type of resource to explain. Use "kubectl api-resources" for a complete list of supported resources.');
  if (args.length > 1) throw new CliError(`We accept only this format: explain RESOURCE`);
  if (o.output !== 'plaintext') {
    if (o.output === 'plaintext-openapiv2') throw new CliError('--output=plaintext-openapiv2 is not supported by k8ts-kubectl (it reads /openapi/v3 only)');
    throw new CliError(`unsupported output format: ${o.output}. Valid values are: (plaintext, plaintext-openapiv2)`);
  }
  const [typed, ...fieldPath] = args[0].split('.');
  const mapper = await f.mapper();
  let mapping;
  try {
    // `deployments.apps.spec` cannot be told from a field path; kubectl splits at the first dot as well.
    mapping = mapper.resourceFor(typed);
  } catch (err) {
    throw new CliError((err as Error).message, { raw: true, cause: err });
  }
  let group = mapping.group;
  let version = mapping.version;
  if (o.apiVersion) {
    const i = o.apiVersion.indexOf('/');
    group = i < 0 ? '' : o.apiVersion.slice(0, i);
    version = i < 0 ? o.apiVersion : o.apiVersion.slice(i + 1);
  }
  const client = await f.client();
  const index = await client.request<any>('GET', '/openapi/v3');
  const key = group ? `apis/${group}/${version}` : `api/${version}`;
  const entry = index.paths?.[key];
  if (!entry) throw new CliError(`couldn't find resource for "${group}/${version}, Resource=${mapping.resource}"`);
  const doc = await client.request<any>('GET', entry.serverRelativeURL);
  const gvk = findGvk(doc, group, version, mapping.resource);
  if (!gvk) throw new CliError(`GVR (${group}/${version}, Resource=${mapping.resource}) not found in OpenAPI schema`);
  let out = '';
  if (gvk.group) out += `GROUP:      ${gvk.group}\n`;
  out += `KIND:       ${gvk.kind}\nVERSION:    ${gvk.version}\n\n`;
  const schema = Object.values<Schema>(doc.components?.schemas ?? {}).find((s) => (s['x-kubernetes-group-version-kind'] ?? [])
    .some((g: any) => (g.group ?? '') === (gvk.group ?? '') && g.version === gvk.version && g.kind === gvk.kind));
  if (!schema) {
    f.io.out.write(out);
    throw new CliError(`GVK ${gvk.group ?? ''}/${gvk.version}, Kind=${gvk.kind} not found in OpenAPI schema`);
  }
  const body = new Explainer(doc, !!o.recursive).output(schema, fieldPath, new Set());
  if (!body) {
    f.io.out.write(out);
    throw new CliError(`field "${fieldPath[fieldPath.length - 1]}" does not exist`);
  }
  f.io.out.write(`${out}${body}\n`);
}

/** The GVK of the resource's list/get operations (the template searches four paths and five verbs). */
function findGvk(doc: any, group: string, version: string, resource: string): { group?: string; version: string; kind: string } | undefined {
  const prefix = group ? `/apis/${group}` : '/api';
  for (const p of [`${prefix}/${version}/${resource}`, `${prefix}/${version}/${resource}/{name}`, `${prefix}/${version}/namespaces/{namespace}/${resource}`, `${prefix}/${version}/namespaces/{namespace}/${resource}/{name}`]) {
    const el = doc.paths?.[p];
    if (!el) continue;
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
      const gvk = el[m]?.['x-kubernetes-group-version-kind'];
      if (gvk) return gvk;
    }
  }
  return undefined;
}

/** kubectl's explain/v2 plaintext.tmpl, template by template. */
class Explainer {
  constructor(private readonly doc: any, private readonly recursive: boolean) {}

  private resolve(ref: string | undefined): Schema | undefined {
    if (!ref || !ref.startsWith('#/components/schemas/')) return undefined;
    return this.doc.components?.schemas?.[ref.slice('#/components/schemas/'.length)];
  }

  output(schema: Schema, path: string[], history: Set<string>): string {
    const ref: string = schema.$ref ?? '';
    const next = new Set(history).add(ref);
    const resolved = this.resolve(ref) ?? schema;
    if (!path.length) {
      let s = 'DESCRIPTION:\n';
      s += `${indent(wrap(this.description(resolved) || '<empty>', 76), 4)}\n`;
      const docs = externalDocs(resolved, 0, 4, 76);
      if (docs) s += `\n${docs}`;
      const fields = this.fieldList(resolved, 1, new Set());
      if (fields) s += `FIELDS:\n${fields}`;
      return s;
    }
    if (ref && history.has(ref)) return '';
    const sub = resolved.properties?.[path[0]];
    if (sub) {
      let s = '';
      if (path.length === 1) s += `FIELD: ${path[0]} <${this.typeGuess(sub)}>\n${this.enumOf(sub, true, -1, 0)}\n\n`;
      return s + this.output(sub, path.slice(1), new Set());
    }
    if (resolved.items) return this.output(resolved.items, path, next);
    if (isObject(resolved.additionalProperties)) return this.output(resolved.additionalProperties, path, next);
    for (const alt of resolved.allOf ?? []) {
      const s = this.output(alt, path, next);
      if (s) return s;
    }
    return '';
  }

  private fieldList(schema: Schema, level: number, history: Set<string>): string {
    const ref: string = schema.$ref ?? '';
    if (ref && history.has(ref)) return '';
    const next = new Set(history).add(ref);
    const resolved = this.resolve(ref) ?? schema;
    let s = '';
    for (const name of Object.keys(resolved.properties ?? {}).sort(goLess)) {
      s += this.fieldDetail(name, resolved, level);
      if (this.recursive) s += this.fieldList(resolved.properties[name], level + 1, next);
    }
    for (const alt of resolved.allOf ?? []) s += this.fieldList(alt, level, next);
    if (resolved.items) s += this.fieldList(resolved.items, level, next);
    if (isObject(resolved.additionalProperties)) s += this.fieldList(resolved.additionalProperties, level, next);
    return s;
  }

  private fieldDetail(name: string, schema: Schema, level: number): string {
    const n = level * 2;
    const field = schema.properties[name];
    let s = `${indent(name, n)}\t<${this.typeGuess(field)}>`;
    if ((schema.required ?? []).includes(name)) s += ' -required-';
    s += this.enumOf(field, false, 4, n);
    s += '\n';
    if (!this.recursive) {
      s += `${indent(wrap(field.description || '<no description>', 78 - n), n + 2)}\n`;
      if (field.externalDocs) s += `\n${externalDocs(field, n + 2, n + 4, 76 - n)}`;
      s += '\n';
    }
    return s;
  }

  private description(schema: Schema): string {
    const s = this.resolve(schema.$ref) ?? schema;
    let out = s.description ? `${s.description}\n` : '';
    for (const alt of s.allOf ?? []) out += this.description(alt);
    if (s.items) out += this.description(s.items);
    if (isObject(s.additionalProperties)) out += this.description(s.additionalProperties);
    return out;
  }

  typeGuess(schema: Schema): string {
    if (schema.items) return `[]${this.typeGuess(schema.items)}`;
    if (isObject(schema.additionalProperties)) return `map[string]${this.typeGuess(schema.additionalProperties)}`;
    if (schema.allOf && !schema.properties && schema.allOf.length === 1) return this.typeGuess(schema.allOf[0]);
    if (schema.$ref) {
      const ref = this.resolve(schema.$ref);
      if (!ref || !ref.type || ref.type === 'object') return String(schema.$ref).split('/').pop()!.split('.').pop() || 'Object';
      return ref.type || 'Object';
    }
    return schema.type === 'object' ? 'Object' : schema.type || 'Object';
  }

  private enumOf(schema: Schema, long: boolean, limit: number, n: number): string {
    if (!schema.enum?.length) return '';
    let s = long ? 'ENUM:' : `\n${' '.repeat(n)}enum: `;
    for (let i = 0; i < schema.enum.length; i++) {
      if (limit > -1 && i >= limit) {
        s += ', ....';
        break;
      }
      if (i > 0 && !long) s += ', ';
      else if (long) s += '\n    ';
      const e = schema.enum[i];
      s += e === '' ? '""' : String(e);
    }
    return s;
  }
}

/** The externalDocs template: the header at `head`, the description (wrapped at `width`) and URL at `body`. */
function externalDocs(schema: Schema, head: number, body: number, width: number): string {
  const d = schema.externalDocs;
  if (!d) return '';
  let s = `${indent('EXTERNAL DOCS:', head)}\n`;
  if (d.description) s += `${indent(wrap(d.description, width), body)}\n`;
  if (d.url) s += `${indent(`URL: ${d.url}`, body)}\n`;
  return s;
}

function isObject(v: unknown): v is Schema {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function goLess(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sprig's indent: every line, including an empty last one, starts with n spaces. */
function indent(s: string, n: number): string {
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, `\n${pad}`);
}

/** mitchellh/go-wordwrap's WrapString: breaks at whitespace so lines stay within `lim`; longer words stay whole. */
export function wrap(s: string, lim: number): string {
  let buf = '';
  let current = 0;
  let word = '';
  let space = '';
  const len = (x: string): number => [...x].length;
  for (const ch of s) {
    if (ch === '\n') {
      if (!word) {
        if (current + len(space) <= lim) buf += space;
      } else {
        buf += space + word;
      }
      space = '';
      word = '';
      buf += ch;
      current = 0;
    } else if (/\s/u.test(ch) && ch !== '\u00a0') {
      if (!space || word) {
        current += len(space) + len(word);
        buf += space + word;
        space = '';
        word = '';
      }
      space += ch;
    } else {
      word += ch;
      if (current + len(space) + len(word) > lim && len(word) < lim) {
        buf += '\n';
        current = 0;
        space = '';
      }
    }
  }
  if (!word) {
    if (current + len(space) <= lim) buf += space;
  } else {
    buf += space + word;
  }
  return buf;
}
