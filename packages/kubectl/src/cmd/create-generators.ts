import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { resourceUrl } from '../rest-mapper.js';
import { requiredFlagMissing } from './targets.js';
import { typedGoJson } from './typed-json.js';
import { collect, dryRunFlag, outputFlag, templateFlag } from './util.js';
import { dryRunSuffix, fieldValidation, parseDryRun } from './write-util.js';

/** The flags every generator takes (kubectl's create options). */
interface CommonOptions {
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  validate?: string | boolean;
  fieldManager: string;
  saveConfig?: boolean;
}

type Opts = CommonOptions & Record<string, unknown>;

/** What a generator's build step sees: the NAME, the command after `--`, its flags, the factory. */
interface BuildInput { name: string; command: string[]; o: Opts; f: Factory; namespace?: string }

interface GeneratorSpec {
  name: string;
  aliases?: string[];
  summary: string;
  description: string;
  usage: string;
  examples: string;
  /** Adds the generator's own flags. */
  flags(cmd: Command): Command;
  /** Whether NAME may be followed by `-- COMMAND [args...]`. */
  takesCommand?: boolean;
  /** Builds the object (async for generators that read files or the server). */
  build(input: BuildInput): Promise<KubeObject> | KubeObject;
  /** A different write than POST to the kind's collection (create token). */
  send?(input: BuildInput, obj: KubeObject): Promise<void>;
  /** The command path for usage errors: `create secret generic`. */
  path?: string;
  /** False where kubectl's command has none of the write flags (--dry-run, --validate, …): they stay out of its help. */
  writeFlags?: false;
}

const meta = (name: string, namespace: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ name, ...(namespace ? { namespace } : {}), creationTimestamp: null, ...extra }); // ObjectMeta's field order (for -o json)

function commonFlags(cmd: Command): Command {
  return cmd
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--validate [mode]', 'Must be one of: strict (or true), warn, ignore (or false).', 'strict')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-create')
    .option('--save-config', 'If true, the configuration of current object will be saved in its annotation. Otherwise, the annotation will be unchanged. This flag is useful when you want to perform kubectl apply on this object in the future.');
}

/** How many of the parsed arguments came after `--` (the command of job, cronjob, deployment). */
function afterDashDash(cmd: Command): number {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const i = raw.indexOf('--');
  return i < 0 ? 0 : raw.length - i - 1;
}

/** Every value given to `flag` on the command line (`--flag v`, `--flag=v`), before any `--`. */
function rawFlagValues(cmd: Command, flag: string): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const out: string[] = [];
  for (let i = 0; i < raw.length && raw[i] !== '--'; i++) {
    if (raw[i] === flag && i + 1 < raw.length) out.push(raw[++i]);
    else if (raw[i].startsWith(`${flag}=`)) out.push(raw[i].slice(flag.length + 1));
  }
  return out;
}

function addGenerator(parent: Command, f: Factory, spec: GeneratorSpec): Command {
  const path = spec.path ?? `create ${spec.name}`;
  const cmd = parent.command(spec.name).summary(spec.summary).description(spec.description).usage(spec.usage).argument('[args...]');
  for (const a of spec.aliases ?? []) cmd.alias(a);
  commonFlags(spec.flags(cmd));
  if (spec.writeFlags === false) for (const o of cmd.options) if (['--dry-run', '--validate', '--field-manager', '--save-config'].includes(o.long ?? '')) o.hideHelp();
  cmd.action(async (args: string[], own: Opts, self: Command) => {
    // Flags `create` itself also has (-o, --dry-run, …) are parsed onto it: take those given on the command line.
    const o: Opts = { ...own };
    for (let p = self.parent; p?.parent; p = p.parent) {
      for (const [key, value] of Object.entries(p.opts())) if (p.getOptionValueSource(key) === 'cli' && self.getOptionValueSource(key) !== 'cli') o[key] = value;
    }
    if (self.options.some((x) => x.long === '--user')) {
      // kubectl's local --user (a subject) shadows the global one (the kubeconfig user), which commander gives the root.
      o.user = rawFlagValues(self, '--user');
      delete f.flags.user;
    }
    const n = spec.takesCommand ? afterDashDash(self) : 0;
    const names = n ? args.slice(0, args.length - n) : args;
    const command = n ? args.slice(args.length - n) : [];
    if (names.length !== 1) throw new CliError(`exactly one NAME is required, got ${names.length}`, { usage: path });
    const dryRun = parseDryRun(o.dryRun);
    const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
    const namespace = f.namespaceExplicit() ? f.namespace() : undefined;
    const input: BuildInput = { name: names[0], command, o, f, namespace };
    let obj = await spec.build(input);
    if (spec.send) return spec.send(input, obj);
    if (o.saveConfig) {
      const { withLastApplied } = await import('./apply-util.js');
      obj = withLastApplied(obj, namespace);
    }
    let result = obj;
    if (dryRun !== 'client') {
      const mapper = await f.mapper();
      const mapping = mapper.kindFor(obj.apiVersion ?? '', obj.kind ?? '');
      const client = await f.client();
      result = await client.request<KubeObject>('POST', resourceUrl(mapping, mapping.namespaced ? f.namespace() : undefined), {
        body: obj, accept: 'application/json',
        query: { dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: o.fieldManager, fieldValidation: fieldValidation(o.validate) },
      });
    }
    // A dry-run object is kubectl's typed struct: JSON in Go's field order (which the objects are built in).
    if (fmt?.kind === 'json' && dryRun === 'client') f.io.out.write(`${typedGoJson(result, '')}\n`);
    else if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, true));
    else f.io.out.write(`${objectName({ ...result, apiVersion: obj.apiVersion, kind: obj.kind })} created${dryRunSuffix(dryRun)}\n`);
  });
  setExamples(cmd, spec.examples);
  return cmd;
}

// ---- data sources (configmap, secret generic) ----

/** `--from-literal`, `--from-file` and `--from-env-file` into a key → bytes map, with kubectl's messages. */
async function readSources(o: Opts): Promise<Map<string, Buffer>> {
  const fs = await import('node:fs');
  const nodePath = await import('node:path');
  const out = new Map<string, Buffer>();
  const put = (key: string, value: Buffer, what: string): void => {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new CliError(`"${key}" is not a valid key name for a ${what}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`);
    if (out.has(key)) throw new CliError(`cannot add key ${key}, another key by that name already exists in ${what === 'ConfigMap' ? 'Data' : 'data'}: ${JSON.stringify(Object.fromEntries([...out].map(([k, v]) => [k, v.toString()])))}`);
    out.set(key, value);
  };
  const what = String(o.kindName);
  for (const f of (o.fromFile as string[] | undefined) ?? []) {
    const eq = f.indexOf('=');
    const key = eq >= 0 ? f.slice(0, eq) : undefined;
    const file = eq >= 0 ? f.slice(eq + 1) : f;
    if (key === '') throw new CliError(`key names or file paths cannot contain '='`);
    let st;
    try {
      st = fs.statSync(file);
    } catch {
      throw new CliError(`error reading ${file}: no such file or directory`);
    }
    if (st.isDirectory()) {
      if (key) throw new CliError('cannot give a key name for a directory path');
      for (const entry of fs.readdirSync(file).sort()) {
        const p = nodePath.join(file, entry);
        if (fs.statSync(p).isFile()) put(entry, fs.readFileSync(p), what);
      }
    } else {
      put(key ?? nodePath.basename(file), fs.readFileSync(file), what);
    }
  }
  for (const l of (o.fromLiteral as string[] | undefined) ?? []) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid literal source ${l}, expected key=value`);
    let value = l.slice(eq + 1);
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    put(l.slice(0, eq), Buffer.from(value), what);
  }
  for (const envFile of (o.fromEnvFile as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = fs.readFileSync(envFile, 'utf8');
    } catch {
      throw new CliError(`error reading ${envFile}: no such file or directory`);
    }
    text.split(/\r?\n/).forEach((line) => {
      const trimmed = line.replace(/^\uFEFF/, '').trimStart();
      if (!trimmed || trimmed.startsWith('#')) return;
      const eq = trimmed.indexOf('=');
      const key = eq < 0 ? trimmed : trimmed.slice(0, eq);
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) throw new CliError(`"${key}" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`);
      if (eq < 0) {
        const v = process.env[key];
        if (v !== undefined) put(key, Buffer.from(v), what);
        return;
      }
      put(key, Buffer.from(trimmed.slice(eq + 1)), what);
    });
  }
  return out;
}

const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);

// ---- the generators ----

function parsePorts(specs: string[]): { port: number; target: number | string; name: string }[] {
  const out: { port: number; target: number | string; name: string }[] = [];
  for (const s of specs.flatMap((x) => x.split(','))) {
    const [p, t] = s.split(':');
    const port = Number(p);
    if (!/^\d+$/.test(p ?? '')) throw new CliError(`strconv.Atoi: parsing "${p}": invalid syntax`);
    let target: number | string = port;
    if (t !== undefined) target = /^\d+$/.test(t) ? Number(t) : t;
    out.push({ port, target, name: t !== undefined ? `${p}-${t}` : p });
  }
  return out;
}

function serviceGenerator(type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'): GeneratorSpec {
  const sub = type.toLowerCase();
  return {
    name: sub,
    path: `create service ${sub}`,
    summary: `Create a ${type === 'ClusterIP' ? 'ClusterIP' : type === 'NodePort' ? 'NodePort' : type === 'LoadBalancer' ? 'LoadBalancer' : 'ExternalName'} service`,
    description: `Create a ${type} service with the specified name.`,
    usage: type === 'ExternalName' ? 'NAME --external-name external.name [--dry-run=server|client|none]' : type === 'ClusterIP' ? 'NAME [--tcp=<port>:<targetPort>] [--dry-run=server|client|none]' : `NAME [--tcp=port:targetPort] [--dry-run=server|client|none]`,
    examples: `  # Create a new ${type} service named my-cs\n  kubectl create service ${sub} my-cs ${type === 'ExternalName' ? '--external-name bar.com' : '--tcp=5678:8080'}`,
    flags: (c) => {
      c.option('--tcp <port:targetPort>', 'Port pairs can be specified as \'<port>:<targetPort>\'.', collect, []);
      if (type === 'ClusterIP') c.option('--clusterip <ip>', 'Assign your own ClusterIP or set to \'None\' for a \'headless\' service (no loadbalancing).');
      if (type === 'NodePort') c.option('--node-port <port>', 'Port used to expose the service on each node in a cluster.', '0');
      if (type === 'ExternalName') c.option('--external-name <name>', 'External name of service');
      return c;
    },
    build: ({ name, o, namespace }) => {
      const tcp = o.tcp as string[];
      if (type === 'ExternalName' && !o.externalName) requiredFlagMissingCreate('external-name');
      if (type !== 'ExternalName' && type !== 'ClusterIP' && !tcp.length) throw new CliError('at least one tcp port specifier must be provided');
      if (type === 'ClusterIP' && !tcp.length && o.clusterip !== 'None') throw new CliError('at least one tcp port specifier must be provided');
      const nodePort = Number(o.nodePort ?? 0);
      const ports = parsePorts(tcp).map((p) => ({ name: p.name, protocol: 'TCP', port: p.port, targetPort: p.target, ...(nodePort ? { nodePort } : {}) }));
      const spec: Record<string, unknown> = { ...(ports.length ? { ports } : {}), selector: { app: name }, type };
      if (o.clusterip) spec.clusterIP = o.clusterip;
      if (type === 'ExternalName') spec.externalName = o.externalName;
      return { kind: 'Service', apiVersion: 'v1', metadata: meta(name, namespace, { labels: { app: name } }), spec, status: { loadBalancer: {} } } as KubeObject;
    },
  };
}

let currentFactory: Factory | undefined;
function requiredFlagMissingCreate(flag: string): never {
  return requiredFlagMissing(currentFactory!, flag);
}

function containerName(image: string): string {
  let name = image.split('/').pop() ?? image;
  name = name.split(':')[0].split('@')[0];
  if (!/[_.]/.test(name)) return name;
  // kubectl's sanitizeAndUniquify: a sanitized name gets a random suffix (utilrand's alphabet).
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `${name.replace(/[_.]/g, '-')}-${suffix}`;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

const VALID_VERBS = ['*', 'get', 'delete', 'list', 'create', 'update', 'patch', 'watch', 'proxy', 'deletecollection', 'use', 'bind', 'escalate', 'impersonate'];

function roleGenerator(cluster: boolean): GeneratorSpec {
  const kind = cluster ? 'ClusterRole' : 'Role';
  return {
    name: kind.toLowerCase(),
    summary: `Create a ${cluster ? 'cluster role' : 'role with single rule'}`,
    description: `Create a ${cluster ? 'cluster role' : 'role with single rule'}.`,
    usage: `NAME --verb=verb --resource=resource.group${cluster ? '' : '/subresource'} [--resource-name=resourcename] [--dry-run=server|client|none]`,
    examples: `  # Create a ${kind} named "pod-reader" that allows user to perform "get", "watch" and "list" on pods\n  kubectl create ${kind.toLowerCase()} pod-reader --verb=get --verb=list --verb=watch --resource=pods`,
    flags: (c) => {
      c.option('--verb <verb>', 'Verb that applies to the resources contained in the rule', collect, [])
        .option('--resource <resource>', 'Resource that the rule applies to', collect, [])
        .option('--resource-name <name>', 'Resource in the white list that the rule applies to, repeat this flag for multiple items', collect, []);
      if (cluster) c.option('--non-resource-url <url>', 'A partial url that user should have access to.', collect, []);
      return c;
    },
    build: async ({ name, o, f, namespace }) => {
      const verbs = splitList(o.verb as string[]);
      const resources = splitList(o.resource as string[]);
      const urls = splitList(o.nonResourceUrl as string[] | undefined);
      const names = (o.resourceName as string[]) ?? [];
      if (!verbs.length) throw new CliError('at least one verb must be specified');
      if (!resources.length && !urls.length) throw new CliError(cluster ? 'one of resource or nonResourceURL must be specified' : 'at least one resource must be specified');
      for (const v of verbs) if (!VALID_VERBS.includes(v)) f.warn(`'${v}' is not a standard resource verb`);
      const groups = new Map<string, string[]>();
      const mapper = resources.length ? await f.mapper() : undefined;
      for (const r of resources) {
        const [res, subresource] = r.split('/');
        const dot = res.indexOf('.');
        let plural = dot < 0 ? res : res.slice(0, dot);
        let group = dot < 0 ? '' : res.slice(dot + 1);
        if (plural !== '*') {
          const m = mapper!.find(res);
          if (!m) throw new CliError(`resource "${res}" has no mapping, ${res} may not be a valid resource name`);
          plural = m.resource;
          group = m.group;
        }
        const full = subresource ? `${plural}/${subresource}` : plural;
        const list = groups.get(group) ?? [];
        if (!list.includes(full)) list.push(full);
        groups.set(group, list);
      }
      const rules: Record<string, unknown>[] = [...groups.keys()].sort().map((g) => ({
        verbs, apiGroups: [g], resources: groups.get(g), ...(names.length ? { resourceNames: names } : {}),
      }));
      if (urls.length) rules.push({ verbs, nonResourceURLs: urls });
      return { kind, apiVersion: 'rbac.authorization.k8s.io/v1', metadata: meta(name, cluster ? undefined : namespace), rules } as KubeObject;
    },
  };
}

function bindingGenerator(cluster: boolean): GeneratorSpec {
  const kind = cluster ? 'ClusterRoleBinding' : 'RoleBinding';
  return {
    name: kind.toLowerCase(),
    summary: `Create a ${cluster ? 'cluster role binding for a particular cluster role' : 'role binding for a particular role or cluster role'}`,
    description: `Create a ${cluster ? 'cluster role binding for a particular cluster role' : 'role binding for a particular role or cluster role'}.`,
    usage: `NAME --clusterrole=NAME${cluster ? '' : '|--role=NAME'} [--user=username] [--group=groupname] [--serviceaccount=namespace:serviceaccountname] [--dry-run=server|client|none]`,
    examples: `  # Create a ${kind} for user1, user2, and group1 using the admin ClusterRole\n  kubectl create ${kind.toLowerCase()} admin --clusterrole=admin --user=user1 --user=user2 --group=group1`,
    flags: (c) => {
      c.option('--clusterrole <name>', `ClusterRole this ${kind} should reference`);
      if (!cluster) c.option('--role <name>', 'Role this RoleBinding should reference');
      return c.option('--user <name>', 'Usernames to bind to the role. The flag can be repeated to add multiple users.', collect, [])
        .option('--group <name>', 'Groups to bind to the role. The flag can be repeated to add multiple groups.', collect, [])
        .option('--serviceaccount <ns:name>', 'Service accounts to bind to the role, in the format <namespace>:<name>. The flag can be repeated to add multiple service accounts.', collect, []);
    },
    build: ({ name, o, namespace }) => {
      const role = o.role as string | undefined;
      const clusterrole = o.clusterrole as string | undefined;
      if (cluster && !clusterrole) requiredFlagMissingCreate('clusterrole');
      if (!cluster && !!role === !!clusterrole) throw new CliError('exactly one of clusterrole or role must be specified');
      const subjects: Record<string, unknown>[] = [];
      for (const u of o.user as string[]) subjects.push({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: u });
      for (const g of o.group as string[]) subjects.push({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: g });
      for (const sa of o.serviceaccount as string[]) {
        const parts = sa.split(':');
        if (parts.length !== 2 || !parts[1]) throw new CliError(`serviceaccount must be <namespace>:<name>`);
        subjects.push({ kind: 'ServiceAccount', namespace: parts[0], name: parts[1] });
      }
      return {
        kind, apiVersion: 'rbac.authorization.k8s.io/v1', metadata: meta(name, cluster ? undefined : namespace),
        ...(subjects.length ? { subjects } : {}),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role ? 'Role' : 'ClusterRole', name: role ?? clusterrole },
      } as KubeObject;
    },
  };
}

function intOrString(v: string): number | string {
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** A JobSpec as Go's typed structs serialize it: pod template metadata with `creationTimestamp: null`, containers with `resources: {}`. */
function typedJobSpec(spec: unknown): unknown {
  const out = structuredClone(spec ?? {}) as { template?: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } };
  out.template ??= {};
  out.template.metadata = { ...(out.template.metadata ?? {}), creationTimestamp: out.template.metadata?.creationTimestamp ?? null };
  for (const key of ['initContainers', 'containers']) {
    const list = out.template.spec?.[key] as Record<string, unknown>[] | undefined;
    for (const c of list ?? []) c.resources ??= {};
  }
  return out;
}

/** Job from a CronJob's jobTemplate, as `kubectl create job --from=cronjob/x` builds it. */
async function jobFromCronJob(f: Factory, name: string, from: string, namespace: string | undefined): Promise<KubeObject> {
  const [type, cronName] = from.split('/');
  if (!cronName || !['cronjob', 'cronjobs', 'cj'].includes(type.toLowerCase().split('.')[0])) throw new CliError(`from must be an existing cronjob: unknown object type ${type}`);
  const client = await f.client();
  const cj = await client.request<KubeObject & { spec: { jobTemplate: { metadata?: Record<string, unknown>; spec: unknown } } }>('GET',
    `/apis/batch/v1/namespaces/${encodeURIComponent(f.namespace())}/cronjobs/${encodeURIComponent(cronName)}`, { accept: 'application/json' });
  const tm = (cj.spec.jobTemplate.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  return {
    kind: 'Job', apiVersion: 'batch/v1',
    metadata: meta(name, namespace, {
      ...(tm.labels ? { labels: tm.labels } : {}),
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', ...(tm.annotations ?? {}) },
      ownerReferences: [{ kind: 'CronJob', apiVersion: 'batch/v1', name: cj.metadata?.name, uid: cj.metadata?.uid, controller: true }],
    }),
    spec: typedJobSpec(cj.spec.jobTemplate.spec), status: {},
  } as KubeObject;
}

function podTemplate(name: string, o: Opts, command: string[], restart: string): Record<string, unknown> {
  return {
    metadata: { creationTimestamp: null },
    spec: { containers: [{ name, image: o.image, ...(command.length ? { command } : {}), resources: {} }], restartPolicy: restart },
  };
}

const GENERATORS: GeneratorSpec[] = [
  {
    name: 'namespace', aliases: ['ns'], summary: 'Create a namespace with the specified name', description: 'Create a namespace with the specified name.',
    usage: 'NAME [--dry-run=server|client|none]', examples: '  # Create a new namespace named my-namespace\n  kubectl create namespace my-namespace',
    flags: (c) => c,
    build: ({ name }) => ({ kind: 'Namespace', apiVersion: 'v1', metadata: meta(name, undefined), spec: {}, status: {} }) as KubeObject,
  },
  {
    name: 'configmap', aliases: ['cm'], summary: 'Create a config map from a local file, directory or literal value',
    description: `Create a config map based on a file, directory, or specified literal value.

 A single config map may package one or more key/value pairs.

 When creating a config map based on a file, the key will default to the basename of the file, and the value will default to the file content.  If the basename is an invalid key, you may specify an alternate key.

 When creating a config map based on a directory, each file whose basename is a valid key in the directory will be packaged into the config map.  Any directory entries except regular files are ignored (e.g. subdirectories, symlinks, devices, pipes, etc).`,
    usage: 'NAME [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=server|client|none]',
    examples: `  # Create a new config map named my-config with key1=config1 and key2=config2
  kubectl create configmap my-config --from-literal=key1=config1 --from-literal=key2=config2`,
    flags: (c) => c.option('--from-file <source>', 'Key file can be specified using its file path, in which case file basename will be used as configmap key, or optionally with a key and file path, in which case the given key will be used.  Specifying a directory will iterate each named file in the directory whose basename is a valid configmap key.', collect, [])
      .option('--from-literal <kv>', 'Specify a key and literal value to insert in configmap (i.e. mykey=somevalue)', collect, [])
      .option('--from-env-file <file>', 'Specify the path to a file to read lines of key=val pairs to create a configmap.', collect, [])
      .option('--append-hash', 'Append a hash of the configmap to its name. (k8ts-kubectl: not supported)'),
    build: async ({ name, o, namespace }) => {
      if (o.appendHash) throw new CliError('k8ts-kubectl does not support --append-hash yet');
      const data = await readSources({ ...o, kindName: 'ConfigMap' });
      const text: Record<string, string> = {};
      const binary: Record<string, string> = {};
      for (const [k, v] of data) if (isUtf8(v)) text[k] = v.toString('utf8'); else binary[k] = v.toString('base64');
      return { kind: 'ConfigMap', apiVersion: 'v1', metadata: meta(name, namespace), ...(Object.keys(text).length ? { data: text } : {}), ...(Object.keys(binary).length ? { binaryData: binary } : {}) } as KubeObject;
    },
  },
  {
    name: 'serviceaccount', aliases: ['sa'], summary: 'Create a service account with the specified name', description: 'Create a service account with the specified name.',
    usage: 'NAME [--dry-run=server|client|none]', examples: '  # Create a new service account named my-service-account\n  kubectl create serviceaccount my-service-account',
    flags: (c) => c,
    build: ({ name, namespace }) => ({ kind: 'ServiceAccount', apiVersion: 'v1', metadata: meta(name, namespace) }) as KubeObject,
  },
  {
    name: 'deployment', aliases: ['deploy'], summary: 'Create a deployment with the specified name', description: 'Create a deployment with the specified name.',
    usage: 'NAME --image=image -- [COMMAND] [args...]', takesCommand: true,
    examples: `  # Create a deployment named my-dep that runs the busybox image
  kubectl create deployment my-dep --image=busybox

  # Create a deployment with a command
  kubectl create deployment my-dep --image=busybox -- date

  # Create a deployment named my-dep that runs the nginx image with 3 replicas
  kubectl create deployment my-dep --image=nginx --replicas=3

  # Create a deployment named my-dep that runs the busybox image and expose port 5701
  kubectl create deployment my-dep --image=busybox --port=5701`,
    flags: (c) => c.option('--image <image>', 'Image names to run. A deployment can have multiple images set for multi-container pod.', collect, [])
      .option('--port <port>', 'The containerPort that this deployment exposes.', '-1')
      .option('-r, --replicas <n>', 'Number of replicas to create. Default is 1.', '1'),
    build: ({ name, o, command, namespace }) => {
      const images = o.image as string[];
      if (!images.length) requiredFlagMissingCreate('image');
      if (images.length > 1 && command.length) throw new CliError('cannot specify multiple --image options and command');
      const port = Number(o.port);
      const containers = images.map((image, i) => ({
        name: containerName(image), image, ...(command.length ? { command } : {}),
        ...(i === 0 && port >= 0 ? { ports: [{ containerPort: port }] } : {}), resources: {},
      }));
      const labels = { app: name };
      return {
        kind: 'Deployment', apiVersion: 'apps/v1', metadata: meta(name, namespace, { labels }),
        spec: { replicas: Number(o.replicas), selector: { matchLabels: labels }, template: { metadata: { creationTimestamp: null, labels }, spec: { containers } }, strategy: {} },
        status: {},
      } as KubeObject;
    },
  },
  {
    name: 'job', summary: 'Create a job with the specified name', description: 'Create a job with the specified name.',
    usage: 'NAME --image=image [--from=cronjob/name] -- [COMMAND] [args...]', takesCommand: true,
    examples: `  # Create a job
  kubectl create job my-job --image=busybox

  # Create a job with a command
  kubectl create job my-job --image=busybox -- date

  # Create a job from a cron job named "a-cronjob"
  kubectl create job test-job --from=cronjob/a-cronjob`,
    flags: (c) => c.option('--image <image>', 'Image name to run.').option('--from <resource>', 'The name of the resource to create a Job from (only cronjob is supported).'),
    build: ({ name, o, command, f, namespace }) => {
      if (o.image && o.from) throw new CliError('either --image or --from must be specified');
      if (o.from) {
        if (command.length) throw new CliError('cannot specify --from and command');
        return jobFromCronJob(f, name, String(o.from), namespace);
      }
      if (!o.image) throw new CliError('either --image or --from must be specified');
      return { kind: 'Job', apiVersion: 'batch/v1', metadata: meta(name, namespace), spec: { template: podTemplate(name, o, command, 'Never') }, status: {} } as KubeObject;
    },
  },
  {
    name: 'cronjob', aliases: ['cj'], summary: 'Create a cron job with the specified name', description: 'Create a cron job with the specified name.',
    usage: 'NAME --image=image --schedule=\'0/5 * * * ?\' -- [COMMAND] [args...] [flags]', takesCommand: true,
    examples: `  # Create a cron job
  kubectl create cronjob my-job --image=busybox --schedule="*/1 * * * *"

  # Create a cron job with a command
  kubectl create cronjob my-job --image=busybox --schedule="*/1 * * * *" -- date`,
    flags: (c) => c.option('--image <image>', 'Image name to run.').option('--schedule <cron>', 'A schedule in the Cron format the job should be run with.')
      .option('--restart <policy>', 'job\'s restart policy. supported values: OnFailure, Never'),
    build: ({ name, o, command, namespace }) => {
      if (!o.image) requiredFlagMissingCreate('image');
      if (!o.schedule) requiredFlagMissingCreate('schedule');
      const restart = String(o.restart ?? 'OnFailure');
      if (restart !== 'OnFailure' && restart !== 'Never') throw new CliError(`restart policy must be one of: OnFailure, Never`);
      return {
        kind: 'CronJob', apiVersion: 'batch/v1', metadata: meta(name, namespace),
        spec: { schedule: o.schedule, jobTemplate: { metadata: { name, creationTimestamp: null }, spec: { template: podTemplate(name, o, command, restart) } } },
        status: {},
      } as KubeObject;
    },
  },
  {
    name: 'priorityclass', aliases: ['pc'], summary: 'Create a priority class with the specified name', description: 'Create a priority class with the specified name, value, globalDefault and description.',
    usage: 'NAME --value=VALUE --global-default=BOOL [--dry-run=server|client|none]',
    examples: `  # Create a priority class named high-priority
  kubectl create priorityclass high-priority --value=1000 --description="high priority"`,
    flags: (c) => c.option('--value <n>', 'the value of this priority class.', '0').option('--global-default', 'global-default specifies whether this PriorityClass should be considered as the default priority.')
      .option('--description <text>', 'description is an arbitrary string that usually provides guidelines on when this priority class should be used.', '')
      .option('--preemption-policy <policy>', 'preemption-policy is the policy for preempting pods with lower priority.', 'PreemptLowerPriority'),
    build: ({ name, o }) => ({
      kind: 'PriorityClass', apiVersion: 'scheduling.k8s.io/v1', metadata: meta(name, undefined), value: Number(o.value),
      ...(o.globalDefault ? { globalDefault: true } : {}), ...(o.description ? { description: o.description } : {}), preemptionPolicy: o.preemptionPolicy,
    }) as KubeObject,
  },
  {
    name: 'quota', aliases: ['resourcequota'], summary: 'Create a quota with the specified name', description: 'Create a resource quota with the specified name, hard limits, and optional scopes.',
    usage: 'NAME [--hard=key1=value1,key2=value2] [--scopes=Scope1,Scope2] [--dry-run=server|client|none]',
    examples: `  # Create a new resource quota named my-quota
  kubectl create quota my-quota --hard=cpu=1,memory=1G,pods=2,services=3,replicationcontrollers=2,resourcequotas=1,secrets=5,persistentvolumeclaims=10`,
    flags: (c) => c.option('--hard <list>', 'A comma-delimited set of resource=quantity pairs that define a hard limit.', '').option('--scopes <list>', 'A comma-delimited set of quota scopes that must all match each object tracked by the quota.', ''),
    build: ({ name, o, namespace }) => {
      const hard: Record<string, string> = {};
      for (const kv of splitList([String(o.hard)])) {
        const [k, v] = kv.split('=');
        if (v === undefined) throw new CliError(`invalid argument ${kv}, expected key=value`);
        hard[k] = v;
      }
      const scopes = splitList([String(o.scopes)]);
      return {
        kind: 'ResourceQuota', apiVersion: 'v1', metadata: meta(name, namespace),
        spec: { ...(Object.keys(hard).length ? { hard } : {}), ...(scopes.length ? { scopes } : {}) }, status: {},
      } as KubeObject;
    },
  },
  {
    name: 'poddisruptionbudget', aliases: ['pdb'], summary: 'Create a pod disruption budget with the specified name', description: 'Create a pod disruption budget with the specified name, selector, and desired minimum available pods.',
    usage: 'NAME --selector=SELECTOR --min-available=N [--dry-run=server|client|none]',
    examples: `  # Create a pod disruption budget named my-pdb that will select all pods with the app=rails label
  # and require at least one of them being available at any point in time
  kubectl create poddisruptionbudget my-pdb --selector=app=rails --min-available=1`,
    flags: (c) => c.option('--selector <selector>', 'A label selector to use for this budget. Only equality-based selector requirements are supported.', '')
      .option('--min-available <n>', 'The minimum number or percentage of available pods this budget requires.', '')
      .option('--max-unavailable <n>', 'The maximum number or percentage of unavailable pods this budget requires.', ''),
    build: ({ name, o, namespace }) => {
      const min = String(o.minAvailable);
      const max = String(o.maxUnavailable);
      if (!min && !max) throw new CliError('one of min-available or max-unavailable must be specified');
      if (min && max) throw new CliError('min-available and max-unavailable cannot be both specified');
      const matchLabels: Record<string, string> = {};
      for (const kv of splitList([String(o.selector)])) {
        const [k, v] = kv.split('=');
        matchLabels[k] = v ?? '';
      }
      return {
        kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', metadata: meta(name, namespace),
        spec: { ...(min ? { minAvailable: intOrString(min) } : {}), selector: { matchLabels }, ...(max ? { maxUnavailable: intOrString(max) } : {}) },
        status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
      } as KubeObject;
    },
  },
  {
    name: 'ingress', aliases: ['ing'], summary: 'Create an ingress with the specified name', description: 'Create an ingress with the specified name.',
    usage: 'NAME --rule=host/path=service:port[,tls[=secret]]',
    examples: `  # Create a single ingress called 'simple' that directs requests to foo.com/bar to svc
  # svc1:8080 with a TLS secret "my-cert"
  kubectl create ingress simple --rule="foo.com/bar=svc1:8080,tls=my-cert"`,
    flags: (c) => c.option('--rule <rule>', 'Rule in format host/path=service:port[,tls=secretname]. Paths containing the leading character \'*\' are considered pathType=Prefix. tls argument is optional.', collect, [])
      .option('--class <name>', 'Ingress Class to be used', '')
      .option('--default-backend <svc:port>', 'Default service for backend, in format of svcname:port', '')
      .option('--annotation <kv>', 'Annotation to insert in the ingress object, in the format annotation=value', collect, []),
    build: ({ name, o, namespace }) => ingress(name, o, namespace),
  },
];

function backend(svc: string): Record<string, unknown> {
  const [n, p] = svc.split(':');
  return { service: { name: n, port: /^\d+$/.test(p ?? '') ? { number: Number(p) } : { name: p } } };
}

/** kubectl create ingress's rule grammar: `host/path=svc:port[,tls[=secret]]`, `*` suffix → Prefix. */
function ingress(name: string, o: Opts, namespace: string | undefined): KubeObject {
  const rules: { host?: string; http?: { paths: unknown[] } }[] = [];
  const tls: { hosts?: string[]; secretName?: string }[] = [];
  for (const r of o.rule as string[]) {
    const m = /^(\*?[^/=,]*)(\/[^=,]*)=([^:,=]+:[^:,=]+)(,tls(=([^,]+))?)?$/.exec(r);
    if (!m) throw new CliError(`rule ${r} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]`);
    const host = m[1];
    let path = m[2];
    let pathType = 'Exact';
    if (path.endsWith('*')) { pathType = 'Prefix'; path = path.slice(0, -1); }
    const entry = { path, pathType, backend: backend(m[3]) };
    const existing = rules.find((x) => (x.host ?? '') === host);
    if (existing) existing.http!.paths.push(entry);
    else rules.push({ ...(host ? { host } : {}), http: { paths: [entry] } });
    if (m[4]) {
      const secret = m[6];
      const t = tls.find((x) => x.secretName === secret);
      if (t && host) t.hosts = [...(t.hosts ?? []), host];
      else if (!t) tls.push({ ...(host ? { hosts: [host] } : {}), ...(secret ? { secretName: secret } : {}) });
    }
  }
  const annotations: Record<string, string> = {};
  for (const a of o.annotation as string[]) {
    const eq = a.indexOf('=');
    annotations[a.slice(0, eq < 0 ? a.length : eq)] = eq < 0 ? '' : a.slice(eq + 1);
  }
  const spec: Record<string, unknown> = {};
  if (o.class) spec.ingressClassName = o.class;
  if (o.defaultBackend) spec.defaultBackend = backend(String(o.defaultBackend));
  if (tls.length) spec.tls = tls;
  if (rules.length) spec.rules = rules;
  if (!rules.length && !o.defaultBackend) throw new CliError('not enough information provided: every ingress has to either specify a default-backend (which catches all traffic) or a list of rules (which catch specific paths)');
  return {
    kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', metadata: meta(name, namespace, Object.keys(annotations).length ? { annotations } : {}),
    spec, status: { loadBalancer: {} },
  } as KubeObject;
}

function secretGenerators(): GeneratorSpec[] {
  return [
    {
      name: 'generic', path: 'create secret generic', summary: 'Create a secret from a local file, directory, or literal value',
      description: `Create a secret based on a file, directory, or specified literal value.

 A single secret may package one or more key/value pairs.

 When creating a secret based on a file, the key will default to the basename of the file, and the value will default to the file content. If the basename is an invalid key or you wish to chose your own, you may specify an alternate key.

 When creating a secret based on a directory, each file whose basename is a valid key in the directory will be packaged into the secret. Any directory entries except regular files are ignored (e.g. subdirectories, symlinks, devices, pipes, etc).`,
      usage: 'NAME [--type=string] [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=server|client|none]',
      examples: `  # Create a new secret named my-secret with key1=supersecret and key2=topsecret
  kubectl create secret generic my-secret --from-literal=key1=supersecret --from-literal=key2=topsecret`,
      flags: (c) => c.option('--from-file <source>', 'Key files can be specified using their file path, in which case a default name will be given to them, or optionally with a name and file path, in which case the given name will be used.  Specifying a directory will iterate each named file in the directory that is a valid secret key.', collect, [])
        .option('--from-literal <kv>', 'Specify a key and literal value to insert in secret (i.e. mykey=somevalue)', collect, [])
        .option('--from-env-file <file>', 'Specify the path to a file to read lines of key=val pairs to create a secret.', collect, [])
        .option('--type <type>', 'The type of secret to create')
        .option('--append-hash', 'Append a hash of the secret to its name. (k8ts-kubectl: not supported)'),
      build: async ({ name, o, namespace }) => {
        if (o.appendHash) throw new CliError('k8ts-kubectl does not support --append-hash yet');
        const data = await readSources({ ...o, kindName: 'Secret' });
        const out: Record<string, string> = {};
        for (const [k, v] of data) out[k] = v.toString('base64');
        return { kind: 'Secret', apiVersion: 'v1', metadata: meta(name, namespace), ...(Object.keys(out).length ? { data: out } : {}), ...(o.type ? { type: o.type } : {}) } as KubeObject;
      },
    },
    {
      name: 'tls', path: 'create secret tls', summary: 'Create a TLS secret', description: `Create a TLS secret from the given public/private key pair.

 The public/private key pair must exist beforehand. The public key certificate must be .PEM encoded and match the given private key.`,
      usage: 'NAME --cert=path/to/cert/file --key=path/to/key/file [--dry-run=server|client|none]',
      examples: `  # Create a new TLS secret named tls-secret with the given key pair
  kubectl create secret tls tls-secret --cert=path/to/tls.crt --key=path/to/tls.key`,
      flags: (c) => c.option('--cert <file>', 'Path to PEM encoded public key certificate.').option('--key <file>', 'Path to private key associated with given certificate.'),
      build: async ({ name, o, namespace }) => {
        if (!o.cert) throw new CliError('--cert must be specified');
        if (!o.key) throw new CliError('--key must be specified');
        const fs = await import('node:fs');
        const read = (p: string): Buffer => {
          try { return fs.readFileSync(p); } catch { throw new CliError(`open ${p}: no such file or directory`); }
        };
        const cert = read(String(o.cert));
        const key = read(String(o.key));
        if (!cert.toString().includes('-----BEGIN')) throw new CliError('tls: failed to find any PEM data in certificate input');
        if (!key.toString().includes('-----BEGIN')) throw new CliError('tls: failed to find any PEM data in key input');
        const crypto = await import('node:crypto');
        try {
          const x = new crypto.X509Certificate(cert);
          if (!x.checkPrivateKey(crypto.createPrivateKey(key))) throw new CliError('tls: private key does not match public key');
        } catch (err) {
          if (err instanceof CliError) throw err;
          throw new CliError(`tls: ${(err as Error).message}`);
        }
        return { kind: 'Secret', apiVersion: 'v1', metadata: meta(name, namespace), data: { 'tls.crt': cert.toString('base64'), 'tls.key': key.toString('base64') }, type: 'kubernetes.io/tls' } as KubeObject;
      },
    },
    {
      name: 'docker-registry', path: 'create secret docker-registry', summary: 'Create a secret for use with a Docker registry',
      description: `Create a new secret for use with Docker registries.

        Dockercfg secrets are used to authenticate against Docker registries.`,
      usage: 'NAME --docker-username=user --docker-password=password --docker-email=email [--docker-server=string] [--from-file=[key=]source] [--dry-run=server|client|none]',
      examples: `  # If you do not already have a .dockercfg file, create a dockercfg secret directly
  kubectl create secret docker-registry my-secret --docker-server=DOCKER_REGISTRY_SERVER --docker-username=DOCKER_USER --docker-password=DOCKER_PASSWORD --docker-email=DOCKER_EMAIL`,
      flags: (c) => c.option('--docker-server <server>', 'Server location for Docker registry', 'https://index.docker.io/v1/')
        .option('--docker-username <user>', 'Username for Docker registry authentication')
        .option('--docker-password <password>', 'Password for Docker registry authentication')
        .option('--docker-email <email>', 'Email for Docker registry', '')
        .option('--from-file <source>', 'Key files can be specified using their file path, in which case a default name of .dockerconfigjson will be given to them, or optionally with a name and file path, in which case the given name will be used.', collect, []),
      build: async ({ name, o, namespace }) => {
        const files = o.fromFile as string[];
        let data: Record<string, string>;
        if (files.length) {
          const fs = await import('node:fs');
          data = {};
          for (const f of files) {
            const eq = f.indexOf('=');
            const key = eq >= 0 ? f.slice(0, eq) : '.dockerconfigjson';
            data[key] = fs.readFileSync(eq >= 0 ? f.slice(eq + 1) : f).toString('base64');
          }
        } else {
          if (!o.dockerUsername || !o.dockerPassword || !o.dockerServer) {
            throw new CliError('either --from-file or the combination of --docker-username, --docker-password and --docker-server is required');
          }
          const user = String(o.dockerUsername);
          const pass = String(o.dockerPassword);
          const entry: Record<string, string> = { username: user, password: pass };
          if (o.dockerEmail) entry.email = String(o.dockerEmail);
          entry.auth = Buffer.from(`${user}:${pass}`).toString('base64');
          data = { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [String(o.dockerServer)]: entry } })).toString('base64') };
        }
        return { kind: 'Secret', apiVersion: 'v1', metadata: meta(name, namespace), data, type: 'kubernetes.io/dockerconfigjson' } as KubeObject;
      },
    },
  ];
}

const tokenSpec: GeneratorSpec = {
  name: 'token', writeFlags: false, summary: 'Request a service account token', description: 'Request a service account token.',
  usage: 'SERVICE_ACCOUNT_NAME',
  examples: `  # Request a token to authenticate to the kube-apiserver as the service account "myapp" in the current namespace
  kubectl create token myapp

  # Request a token with a custom expiration
  kubectl create token myapp --duration 10m`,
  flags: (c) => c.option('--audience <aud>', 'Audience of the requested token.', collect, [])
    .option('--duration <d>', 'Requested lifetime of the issued token. If not set or if set to 0, the lifetime will be determined by the server automatically.', '0s')
    .option('--bound-object-kind <kind>', 'Kind of an object to bind the token to. Supported kinds are Node, Pod, Secret. If set, --bound-object-name must be provided.', '')
    .option('--bound-object-name <name>', 'Name of an object to bind the token to.', '')
    .option('--bound-object-uid <uid>', 'UID of an object to bind the token to.', ''),
  build: async ({ o }) => {
    const { parseGoDuration } = await import('../factory.js');
    const ms = parseGoDuration(String(o.duration));
    if (ms === undefined) throw new CliError(`invalid argument "${String(o.duration)}" for "--duration" flag: time: invalid duration "${String(o.duration)}"`);
    if (ms < 0) throw new CliError('--duration must be greater than or equal to 0');
    if (ms % 1000) throw new CliError('--duration cannot be expressed in units less than seconds');
    const audiences = o.audience as string[];
    const kind = String(o.boundObjectKind);
    if (kind && !['Pod', 'Secret', 'Node'].includes(kind)) throw new CliError(`supported --bound-object-kind values are Node, Pod, Secret`);
    if (kind && !o.boundObjectName) throw new CliError('--bound-object-name is required if --bound-object-kind is provided');
    return {
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null },
      spec: {
        audiences: audiences.length ? audiences : null, expirationSeconds: ms ? ms / 1000 : null,
        boundObjectRef: kind ? { kind, apiVersion: kind === 'Node' || kind === 'Pod' || kind === 'Secret' ? 'v1' : '', name: o.boundObjectName, ...(o.boundObjectUid ? { uid: o.boundObjectUid } : {}) } : null,
      },
      status: { token: '', expirationTimestamp: null },
    } as unknown as KubeObject;
  },
  send: async ({ name, o, f }, obj) => {
    const dryRun = parseDryRun(o.dryRun);
    if (dryRun !== 'none') throw new CliError('k8ts-kubectl create token does not support --dry-run');
    const client = await f.client();
    const res = await client.request<{ status?: { token?: string } }>('POST',
      `/api/v1/namespaces/${encodeURIComponent(f.namespace())}/serviceaccounts/${encodeURIComponent(name)}/token`, { body: obj, accept: 'application/json' });
    f.io.out.write(`${res.status?.token ?? ''}\n`);
  },
};

/** Adds kubectl's `create <generator>` subcommands (fieldManager kubectl-create). */
export function registerGenerators(create: Command, f: Factory): void {
  currentFactory = f;
  for (const spec of [...GENERATORS, roleGenerator(false), roleGenerator(true), bindingGenerator(false), bindingGenerator(true), tokenSpec]) addGenerator(create, f, spec);
  const secret = create.command('secret').summary('Create a secret using a specified subcommand').description('Create a secret with specified type.\n\n A docker-registry type secret is for accessing a container registry.\n\n A generic type secret indicate an Opaque secret type.\n\n A tls type secret holds TLS certificate and its associated key.')
    .usage('(docker-registry | generic | tls)');
  for (const spec of secretGenerators()) addGenerator(secret, f, spec);
  const service = create.command('service').alias('svc').summary('Create a service using a specified subcommand').description('Create a service using a specified subcommand.').usage('');
  for (const t of ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const) addGenerator(service, f, serviceGenerator(t));
}
