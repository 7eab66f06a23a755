import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { deepEqual, patchTarget, resolveTargets, type Target } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface Container { name: string; image?: string; env?: EnvVar[]; envFrom?: unknown[]; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }
interface EnvVar { name: string; value?: string; valueFrom?: unknown }
interface PodSpec { containers?: Container[]; initContainers?: Container[] }

interface SetOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  local?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  fieldManager: string;
  container?: string;
  containers?: string;
}

/** Where a kind keeps its pod spec (kubectl's polymorphichelpers.UpdatePodSpecForObject). */
function podSpecPath(kind: string): string[] | undefined {
  switch (kind) {
    case 'Pod': return ['spec'];
    case 'CronJob': return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
    case 'Deployment': case 'DaemonSet': case 'ReplicaSet': case 'StatefulSet': case 'Job': case 'ReplicationController':
      return ['spec', 'template', 'spec'];
  }
  return undefined;
}

function getPath(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), obj);
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((acc, k) => ({ [k]: acc }), value as Record<string, unknown>);
}

/** A strategic merge patch of a merge-keyed (`name`) list, as CreateTwoWayMergePatch writes it. */
function listPatch(key: string, from: { name: string }[], to: { name: string }[], itemDiff: (a: any, b: any) => Record<string, unknown> | undefined): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  for (const b of to) {
    const a = from.find((x) => x.name === b.name);
    if (!a) items.push(b as unknown as Record<string, unknown>);
    else {
      const d = itemDiff(a, b);
      if (d) items.push({ ...d, name: b.name });
    }
  }
  for (const a of from) if (!to.some((b) => b.name === a.name)) items.push({ $patch: 'delete', name: a.name });
  if (!items.length && from.map((x) => x.name).join() === to.map((x) => x.name).join()) return {};
  return { [`$setElementOrder/${key}`]: to.map((x) => ({ name: x.name })), [key]: items };
}

function mapDiff(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a ?? {})) if (!(k in (b ?? {}))) out[k] = null;
  for (const [k, v] of Object.entries(b ?? {})) if (!deepEqual(a?.[k], v)) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

function containerDiff(a: Container, b: Container): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (a.image !== b.image) out.image = b.image;
  if (!deepEqual(a.env ?? [], b.env ?? [])) {
    Object.assign(out, listPatch('env', a.env ?? [], b.env ?? [], (x: EnvVar, y: EnvVar) => (deepEqual(x, y) ? undefined : { ...mapDiff(x as never, y as never) })));
    if (!(b.env ?? []).length) { delete out['$setElementOrder/env']; }
  }
  if (!deepEqual(a.envFrom, b.envFrom)) out.envFrom = b.envFrom ?? null;
  if (!deepEqual(a.resources ?? {}, b.resources ?? {})) {
    const r: Record<string, unknown> = {};
    for (const k of ['limits', 'requests'] as const) {
      const d = mapDiff(a.resources?.[k], b.resources?.[k]);
      if (d) r[k] = d;
    }
    out.resources = r;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The patch turning one pod spec's containers into the other's. */
function podSpecPatch(from: PodSpec, to: PodSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['containers', 'initContainers'] as const) {
    if (deepEqual(from[key] ?? [], to[key] ?? [])) continue;
    Object.assign(out, listPatch(key, from[key] ?? [], to[key] ?? [], containerDiff));
  }
  return out;
}

function sharedFlags(cmd: Command, what: string): Command {
  return cmd.argument('[args...]')
    .option('-f, --filename <file>', `Filename, directory, or URL to files identifying the resource to get from a server.`, collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .option('--all', 'Select all resources, in the namespace of the specified resource types')
    .option('--local', `If true, set ${what} will NOT contact api-server but run locally.`)
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-set');
}

/**
 * Changes each object's pod spec with `mutate` and sends the difference as a strategic merge patch (kubectl-set),
 * printing `<obj> <verb>` as kubectl's set commands do.
 */
async function updatePodSpecs(f: Factory, resources: string[], o: SetOptions, command: string, verb: string,
  mutate: (spec: PodSpec, t: Target) => void): Promise<void> {
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, resources, { filename: o.filename, recursive: o.recursive, selector: o.selector, all: o.all, local: o.local }, command);
  for (const t of targets) {
    const path = podSpecPath(t.mapping.kind);
    if (!path) {
      errors.push(new CliError(`${t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource}/${t.name} the object is not a pod or does not have a pod template: *${t.mapping.version}.${t.mapping.kind}`));
      continue;
    }
    const after = structuredClone(t.object);
    const spec = getPath(after, path) as PodSpec | undefined ?? {};
    try {
      mutate(spec, t);
    } catch (err) {
      errors.push(err);
      continue;
    }
    const patch = podSpecPatch(getPath(t.object, path) as PodSpec ?? {}, spec);
    // kubectl's set commands skip objects whose patch is empty.
    if (!Object.keys(patch).length && !o.local && dryRun === 'none') continue;
    let result: KubeObject = after;
    if (!o.local && dryRun !== 'client' && Object.keys(patch).length) {
      try {
        result = await patchTarget(f, t, nest(path, patch), 'strategic', { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined });
      } catch (err) {
        errors.push(new CliError(`failed to patch ${verb.split(' ')[0]} update to pod template: ${(err as Error).message}`, { cause: err }));
        continue;
      }
    }
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, targets.length === 1));
    else f.io.out.write(`${objectName(t.object)} ${verb}${dryRunSuffix(o.local ? 'client' : dryRun)}\n`);
  }
  reportErrors(f, errors);
}

function selectContainers(spec: PodSpec, pattern: string): Container[] {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])].filter((c) => re.test(c.name));
}

/** `kubectl set image|env|resources`. */
export function register(program: Command, f: Factory): Command {
  const set = program.command('set').summary('Set specific features on objects').description(`Configure application resources.

 These commands help you make changes to existing application resources.`).usage('SUBCOMMAND');

  const image = sharedFlags(set.command('image').summary('Update the image of a pod template').description(`Update existing container image(s) of resources.

 Possible resources include (case insensitive):

        pod (po), replicationcontroller (rc), deployment (deploy), daemonset (ds), statefulset (sts), cronjob (cj), replicaset (rs)`)
    .usage('(-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ... CONTAINER_NAME_N=CONTAINER_IMAGE_N'), 'image')
    .action(async (args: string[], o: SetOptions) => {
      const resources = args.filter((a) => !a.includes('='));
      const pairs = args.filter((a) => a.includes('='));
      if (!pairs.length) throw new CliError('at least one image update is required');
      if (!resources.length && !o.filename.length) throw new CliError('one or more resources must be specified as <resource> <name> or <resource>/<name>', { usage: 'set image' });
      const images = pairs.map((p) => { const i = p.indexOf('='); return [p.slice(0, i), p.slice(i + 1)] as const; });
      await updatePodSpecs(f, resources, o, 'set image', 'image updated', (spec) => {
        for (const [name, img] of images) {
          const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
          const hit = name === '*' ? all : all.filter((c) => c.name === name);
          if (!hit.length) throw new CliError(`unable to find container named "${name}"`);
          for (const c of hit) c.image = img;
        }
      });
    });
  setExamples(image, `  # Set a deployment's nginx container image to 'nginx:1.9.1', and its busybox container image to 'busybox'
  kubectl set image deployment/nginx busybox=busybox nginx=nginx:1.9.1

  # Update all deployments' and rc's nginx container's image to 'nginx:1.9.1'
  kubectl set image deployments,rc nginx=nginx:1.9.1 --all

  # Update image of all containers of daemonset abc to 'nginx:1.9.1'
  kubectl set image daemonset abc *=nginx:1.9.1`);

  const env = sharedFlags(set.command('env').summary('Update environment variables on a pod template').description(`Update environment variables on a pod template.

 List environment variable definitions in one or more pods, pod templates. Add, update, or remove container environment variable definitions in one or more pod templates (within replication controllers or deployment configurations). View or modify the environment variable definitions on all containers in the specified pods or pod templates, or just those that match a wildcard.

 If "--env -" is passed, environment variables can be read from STDIN using the standard env syntax.

 (k8ts-kubectl: --from=secret/x, --resolve, --keys and "--env -" are not supported yet.)`)
    .usage('RESOURCE/NAME KEY_1=VAL_1 ... KEY_N=VAL_N'), 'env')
    .option('-c, --containers <pattern>', 'The names of containers in the selected pod templates to change - may use wildcards', '*')
    .option('-e, --env <kv>', 'Specify a key-value pair for an environment variable to set into each container.', collect, [])
    .option('--list', 'If true, display the environment and any changes in the standard format. this flag will removed when we have kubectl view env.')
    .option('--from <resource>', 'The name of a resource from which to inject environment variables')
    .option('--prefix <prefix>', 'Prefix to append to variable names')
    .option('--overwrite', 'If true, allow environment to be overwritten, otherwise reject updates that overwrite existing environment.', true)
    .action(async (args: string[], o: SetOptions & { env: string[]; list?: boolean; from?: string; prefix?: string; overwrite: boolean }) => setEnv(f, args, o));
  setExamples(env, `  # Update deployment 'registry' with a new environment variable
  kubectl set env deployment/registry STORAGE_DIR=/local

  # List the environment variables defined on a deployments 'sample-build'
  kubectl set env deployment/sample-build --list

  # Import environment from a config map with a prefix
  kubectl set env --from=configmap/myconfigmap --prefix=MYSQL_ deployment/myapp

  # Remove the environment variable ENV from container 'c1' in all deployment configs
  kubectl set env deployments --all --containers="c1" ENV-`);

  const resources = sharedFlags(set.command('resources').summary('Update resource requests/limits on objects with pod templates').description(`Specify compute resource requirements (CPU, memory) for any resource that defines a pod template.  If a pod is successfully scheduled, it is guaranteed the amount of resource requested, but may burst up to its specified limits.

 For each compute resource, if a limit is specified and a request is omitted, the request will default to the limit.

 Possible resources include (case insensitive): Use "kubectl api-resources" for a complete list of supported resources..`)
    .usage('(-f FILENAME | TYPE NAME)  ([--limits=LIMITS & --requests=REQUESTS]'), 'resources')
    .option('-c, --containers <pattern>', 'The names of containers in the selected pod templates to change, all containers are selected by default - may use wildcards', '*')
    .option('--limits <list>', 'The resource requirement requests for this container.  For example, \'cpu=100m,memory=256Mi\'.  Note that server side components may assign requests depending on the server configuration, such as limit ranges.')
    .option('--requests <list>', 'The resource requirement requests for this container.  For example, \'cpu=100m,memory=256Mi\'.  Note that server side components may assign requests depending on the server configuration, such as limit ranges.')
    .action(async (args: string[], o: SetOptions & { limits?: string; requests?: string }) => {
      if (!o.limits && !o.requests) throw new CliError('you must specify an update to requests or limits (in the form of --requests/--limits)');
      const parse = (s: string | undefined): Record<string, string> => Object.fromEntries((s ?? '').split(',').filter(Boolean).map((kv) => {
        const [k, v] = kv.split('=');
        if (v === undefined || !k) throw new CliError(`Invalid argument syntax ${kv}, expected <resource>=<value>`);
        return [k, v];
      }));
      const limits = parse(o.limits);
      const requests = parse(o.requests);
      await updatePodSpecs(f, args, o, 'set resources', 'resource requirements updated', (spec) => {
        const cs = selectContainers(spec, String(o.containers ?? '*'));
        if (!cs.length) throw new CliError(`unable to find container named ${o.containers}`);
        for (const c of cs) {
          c.resources = { ...(c.resources ?? {}) };
          if (Object.keys(limits).length) c.resources.limits = { ...(c.resources.limits ?? {}), ...limits };
          if (Object.keys(requests).length) c.resources.requests = { ...(c.resources.requests ?? {}), ...requests };
        }
      });
    });
  setExamples(resources, `  # Set a deployments nginx container cpu limits to "200m" and memory to "512Mi"
  kubectl set resources deployment nginx -c=nginx --limits=cpu=200m,memory=512Mi`);
  return set;
}

async function setEnv(f: Factory, args: string[], o: SetOptions & { env: string[]; list?: boolean; from?: string; prefix?: string; overwrite: boolean }): Promise<void> {
  if (o.list && o.output) throw new CliError('--list and --output may not be specified together');
  const resources: string[] = [];
  const pairs = [...o.env];
  for (const a of args) (a.includes('=') || (a.endsWith('-') && resources.length > 0) ? pairs : resources).push(a);
  const set: EnvVar[] = [];
  const remove: string[] = [];
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq > 0) set.push({ name: p.slice(0, eq), value: p.slice(eq + 1) });
    else if (p.endsWith('-') && eq < 0) remove.push(p.slice(0, -1));
    else throw new CliError(`invalid key value pair: ${p}`);
  }
  if (o.from) {
    const [type, name] = o.from.split('/');
    const kind = type.toLowerCase();
    if (!['configmap', 'configmaps', 'cm'].includes(kind)) throw new CliError(`k8ts-kubectl set env --from supports configmaps only (got ${o.from})`);
    const client = await f.client();
    const cm = await client.request<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${encodeURIComponent(f.namespace())}/configmaps/${encodeURIComponent(name)}`, { accept: 'application/json' });
    for (const key of Object.keys(cm.data ?? {}).sort()) {
      const converted = key.toUpperCase().replace(/[-.]/g, '_');
      if (converted !== key) f.warn(`key ${key} transferred to ${converted}`);
      const envName = `${o.prefix ?? ''}${converted}`;
      set.push({ name: envName, valueFrom: { configMapKeyRef: { key, name } } });
    }
  }
  if (o.list) {
    const { targets, errors } = await resolveTargets(f, resources, { filename: o.filename, selector: o.selector, all: o.all }, 'set env');
    for (const t of targets) {
      const path = podSpecPath(t.mapping.kind);
      const spec = (path ? getPath(t.object, path) : undefined) as PodSpec | undefined ?? {};
      for (const c of selectContainers(spec, String(o.containers ?? '*'))) {
        f.io.out.write(`# ${t.mapping.kind.toLowerCase() === 'pod' ? 'Pod' : t.mapping.kind} ${t.name}, container ${c.name}\n`);
        for (const e of c.env ?? []) {
          if (e.valueFrom) f.io.out.write(`# ${e.name} from ${describeValueFrom(e.valueFrom)}\n`);
          else f.io.out.write(`${e.name}=${e.value ?? ''}\n`);
        }
      }
    }
    reportErrors(f, errors);
    return;
  }
  await updatePodSpecs(f, resources, o, 'set env', 'env updated', (spec, t) => {
    const cs = selectContainers(spec, String(o.containers ?? '*'));
    if (!cs.length) f.warn(`${t.mapping.kind}/${t.name} does not have any containers matching "${o.containers}"`);
    for (const c of cs) {
      let env = [...(c.env ?? [])];
      for (const e of set) {
        const i = env.findIndex((x) => x.name === e.name);
        if (i >= 0) {
          if (!o.overwrite) throw new CliError(`'${e.name}' already has a value (${env[i].value ?? ''}), and --overwrite is false`);
          env[i] = e;
        } else env.push(e);
      }
      env = env.filter((x) => !remove.includes(x.name));
      if (env.length) c.env = env;
      else delete c.env;
    }
  });
}

function describeValueFrom(v: unknown): string {
  const x = v as { configMapKeyRef?: { name?: string; key?: string }; secretKeyRef?: { name?: string; key?: string }; fieldRef?: { fieldPath?: string } };
  if (x.configMapKeyRef) return `configmap ${x.configMapKeyRef.name}, key ${x.configMapKeyRef.key}`;
  if (x.secretKeyRef) return `secret ${x.secretKeyRef.name}, key ${x.secretKeyRef.key}`;
  if (x.fieldRef) return `field path ${x.fieldRef.fieldPath}`;
  return 'a source';
}
