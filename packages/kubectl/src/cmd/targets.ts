import type { KubeObject } from '@k8ts/api';
import { CliError, ExitCode } from '../errors.js';
import type { Factory } from '../factory.js';
import { groupVersionOf, resourceUrl, type ResourceMapping } from '../rest-mapper.js';

/** One object a mutating command works on (kubectl's resource.Info): where it lives and what it was when read. */
export interface Target {
  mapping: ResourceMapping;
  namespace?: string;
  name: string;
  object: KubeObject;
}

/** How the objects were named: `TYPE NAME…`, `TYPE/NAME…`, `-f`, `-l`, `--all`, `-A`. */
export interface TargetOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  /** `--local`: use the files' objects as they are, without the server. */
  local?: boolean;
}

/** `deployment.apps/web`: how kubectl names an object in its success lines (info.ObjectName()). */
export function targetName(t: { mapping: ResourceMapping; name: string }): string {
  return `${t.mapping.group ? `${t.mapping.kind.toLowerCase()}.${t.mapping.group}` : t.mapping.kind.toLowerCase()}/${t.name}`;
}

/** Fills kind/apiVersion (lists leave them out of items). */
function typed(obj: KubeObject, m: ResourceMapping): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? groupVersionOf(m), kind: obj.kind ?? m.kind };
}

/**
 * Resolves a command's objects as kubectl's resource builder does (ContinueOnError): each object is read from the
 * server; objects that could not be read become errors reported after the others were handled.
 */
export async function resolveTargets(f: Factory, args: string[], o: TargetOptions, command: string): Promise<{ targets: Target[]; errors: unknown[] }> {
  const targets: Target[] = [];
  const errors: unknown[] = [];
  const files = o.filename ?? [];
  if (files.length) {
    const { readManifests, toInfos } = await import('../resource-builder.js');
    const manifests = await readManifests(files, { recursive: o.recursive, stdin: f.io.in });
    if (!manifests.length) throw new CliError('no objects passed to ' + command.split(' ')[0]);
    const mapper = await f.mapper();
    for (const info of toInfos(manifests, mapper, f)) {
      if (o.local) {
        targets.push({ mapping: info.mapping, namespace: info.namespace, name: info.name, object: info.object });
        continue;
      }
      try {
        const client = await f.client();
        const obj = await client.request<KubeObject>('GET', resourceUrl(info.mapping, info.namespace, info.name), { accept: 'application/json, */*' });
        targets.push({ mapping: info.mapping, namespace: info.namespace, name: info.name, object: typed(obj, info.mapping) });
      } catch (err) {
        errors.push(err);
      }
    }
    return { targets, errors };
  }
  if (o.local) throw new CliError('--local requires a file (-f)');
  if (!args.length) {
    throw new CliError(`You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'`);
  }
  const { parseResourceArgs } = await import('../resource-builder.js');
  const mapper = await f.mapper();
  const requests = parseResourceArgs(args, mapper, command);
  const client = await f.client();
  const ns = (m: ResourceMapping): string | undefined => (m.namespaced ? f.namespace() : undefined);
  for (const r of requests) {
    if (r.names.length) {
      if (o.selector || o.all) throw new CliError('name cannot be provided when a selector is specified');
      for (const name of r.names) {
        try {
          const obj = await client.request<KubeObject>('GET', resourceUrl(r.mapping, ns(r.mapping), name), { accept: 'application/json, */*' });
          targets.push({ mapping: r.mapping, namespace: ns(r.mapping), name, object: typed(obj, r.mapping) });
        } catch (err) {
          errors.push(err);
        }
      }
      continue;
    }
    if (!o.selector && !o.all && !o.fieldSelector) throw new CliError('resource(s) were provided, but no name was specified');
    const listNs = o.allNamespaces ? undefined : ns(r.mapping);
    const list = await client.request<{ items?: KubeObject[] }>('GET', resourceUrl(r.mapping, listNs), {
      accept: 'application/json', query: { labelSelector: o.selector || undefined, fieldSelector: o.fieldSelector || undefined },
    });
    for (const item of list.items ?? []) {
      targets.push({ mapping: r.mapping, namespace: r.mapping.namespaced ? item.metadata?.namespace : undefined, name: item.metadata?.name ?? '', object: typed(item, r.mapping) });
    }
  }
  return { targets, errors };
}

/** cobra's required-flag failure: kubectl logs it through klog only and exits 1. */
export function requiredFlagMissing(f: Factory, flag: string): never {
  const now = new Date();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const stamp = `${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())} ${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}.${pad(now.getUTCMilliseconds(), 3)}000`;
  f.io.err.write(`E${stamp} ${String(process.pid).padStart(7)} run.go:72] "command failed" err="required flag(s) \\"${flag}\\" not set"\n`);
  throw new ExitCode(1);
}

/** A JSON merge patch (RFC 7386) turning `from` into `to`, as jsonpatch.CreateMergePatch builds it. */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return to;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
  for (const [k, v] of Object.entries(to)) {
    if (!(k in from)) out[k] = v;
    else if (!deepEqual(from[k], v)) out[k] = isObject(from[k]) && isObject(v) ? mergePatch(from[k], v) : v;
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** PATCHes one target and returns the server's object. */
export async function patchTarget(f: Factory, t: Target, patch: unknown, type: 'merge' | 'strategic' | 'json', query: Record<string, string | undefined> = {}, sub?: string): Promise<KubeObject> {
  const client = await f.client();
  const contentType = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[type];
  return client.request<KubeObject>('PATCH', resourceUrl(t.mapping, t.namespace, t.name, sub), { body: patch, contentType, accept: 'application/json', query });
}
