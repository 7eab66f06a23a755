import type { Command } from 'commander';
import type { ApiClient, KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { helpDefault, setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects, type OutputFormat } from '../printers/index.js';
import { resourceUrl, type RESTMapper } from '../rest-mapper.js';
import type { Info } from '../resource-builder.js';
import { LAST_APPLIED, goMarshal, withLastApplied } from './apply-util.js';
import { collect, dryRunFlag, isNotFound, outputFlag, reportErrors, templateFlag } from './util.js';
import { addSourceToErr, dryRunSuffix, fieldValidation, parseDryRun, type DryRun } from './write-util.js';

interface ApplyOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  dryRun?: string | boolean;
  output?: string;
  validate?: string | boolean;
  serverSide?: boolean;
  fieldManager?: string;
  forceConflicts?: boolean;
  prune?: boolean;
  all?: boolean;
  pruneAllowlist: string[];
  overwrite: boolean;
  template?: string;
}

/** kubectl's default prune allowlist (apply.go's defaultSet). */
const DEFAULT_PRUNE = [
  'core/v1/ConfigMap', 'core/v1/Endpoints', 'core/v1/Namespace', 'core/v1/PersistentVolumeClaim', 'core/v1/PersistentVolume',
  'core/v1/Pod', 'core/v1/ReplicationController', 'core/v1/Secret', 'core/v1/Service', 'batch/v1/Job', 'batch/v1/CronJob',
  'networking.k8s.io/v1/Ingress', 'apps/v1/DaemonSet', 'apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/StatefulSet',
];

const CONFLICT_HELP = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts`;

/** `kubectl apply -f`: client-side (last-applied annotation, three-way strategic merge) or `--server-side`. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('apply')
    .summary('Apply a configuration to a resource by file name or stdin')
    .description(`Apply a configuration to a resource by file name or stdin. The resource name must be specified. This resource will be created if it doesn't exist yet. To use 'apply', always create the resource initially with either 'apply' or 'create --save-config'.

 JSON and YAML formats are accepted.`)
    .usage('(-f FILENAME | -k DIRECTORY)')
    .option('-f, --filename <file>', 'The files that contain the configurations to apply.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.")
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .option('--validate [mode]', 'Must be one of: strict (or true), warn, ignore (or false).', 'strict')
    .option('--server-side', 'If true, apply runs in the server instead of the client.')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.')
    .option('--force-conflicts', 'If true, server-side apply will force the changes against conflicts.')
    .option('--prune', 'Automatically delete resource objects, that do not appear in the configs and are created by either apply or create --save-config. Should be used with either -l or --all.')
    .option('--all', 'Select all resources in the namespace of the specified resource types.')
    .option('--prune-allowlist <gvk>', 'Overwrite the default allowlist with <group/version/kind> for --prune', collect, [])
    .option('--overwrite', 'Automatically resolve conflicts between the modified and live configuration by using values from the modified configuration', true)
    .addOption(templateFlag())
    .action(async (o: ApplyOptions) => apply(f, o));
  helpDefault(cmd, '--field-manager', 'kubectl-client-side-apply'); // --server-side without it: kubectl
  setExamples(cmd, `  # Apply the configuration in pod.json to a pod
  kubectl apply -f ./pod.json

  # Apply the JSON passed into stdin to a pod
  cat pod.json | kubectl apply -f -`);
  return cmd;
}

async function apply(f: Factory, o: ApplyOptions): Promise<void> {
  if (!o.filename.length) throw new CliError('must specify one of -f and -k');
  const dryRun = parseDryRun(o.dryRun);
  const validation = fieldValidation(o.validate);
  if (o.prune && !o.selector && !o.all) {
    throw new CliError('all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector');
  }
  if (o.forceConflicts && !o.serverSide) throw new CliError('--force-conflicts only works with --server-side');
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { readManifests, toInfos } = await import('../resource-builder.js');
  const manifests = await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in });
  const mapper = await f.mapper();
  let infos = toInfos(manifests, mapper, f);
  if (o.selector) {
    const { matchesLabels, parseLabelSelector } = await import('@k8ts/api');
    const sel = parseLabelSelector(o.selector);
    infos = infos.filter((i) => matchesLabels(sel, i.object.metadata?.labels ?? {}));
  }
  if (!infos.length) throw new CliError('no objects passed to apply');
  const client = await f.client();
  const errors: unknown[] = [];
  const applied: Info[] = [];
  for (const info of infos) {
    try {
      const result = o.serverSide
        ? await serverSideApply(client, info, o, dryRun, validation)
        : await clientSideApply(f, client, info, dryRun, validation, o.fieldManager || 'kubectl-client-side-apply');
      applied.push(info);
      print(f, fmt, result.object, `${objectName({ ...result.object, apiVersion: info.object.apiVersion, kind: info.object.kind, metadata: { ...result.object.metadata, name: info.name } })} ${result.verb}${dryRunSuffix(dryRun)}`);
    } catch (err) {
      errors.push(err);
    }
  }
  if (o.prune) await prune(f, client, mapper, applied, o, dryRun, errors);
  reportErrors(f, errors);
}

function print(f: Factory, fmt: OutputFormat | undefined, obj: KubeObject, line: string): void {
  if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([obj], fmt, true));
  else f.io.out.write(`${line}\n`);
}

async function clientSideApply(f: Factory, client: ApiClient, info: Info, dryRun: DryRun, validation: string, manager: string): Promise<{ object: KubeObject; verb: string }> {
  const url = resourceUrl(info.mapping, info.namespace, info.name);
  const modified = withLastApplied(withNamespace(info), info.namespace);
  const query = (m: string) => ({ dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: m, fieldValidation: validation });
  let current: KubeObject | undefined;
  try {
    current = await client.request<KubeObject>('GET', url, { accept: 'application/json' });
  } catch (err) {
    if (!isNotFound(err)) throw addSourceToErr('retrieving current configuration of', info.source, err);
  }
  if (!current) {
    if (dryRun === 'client') return { object: modified, verb: 'created' };
    try {
      const created = await client.request<KubeObject>('POST', resourceUrl(info.mapping, info.namespace), {
        body: modified, accept: 'application/json', query: query(manager),
      });
      return { object: created, verb: 'created' };
    } catch (err) {
      throw addSourceToErr('creating', info.source, err);
    }
  }
  const { patchMetaFor, NO_META } = await import('../patch-meta.js');
  const { threeWayMergePatch } = await import('../strategic-patch.js');
  const meta = patchMetaFor(info.object.apiVersion ?? '', info.object.kind ?? '');
  // kubectl retries a conflicting patch 5 times, re-reading the live object each time.
  for (let attempt = 0; ; attempt++) {
    const annotation = current.metadata?.annotations?.[LAST_APPLIED];
    if (annotation === undefined && attempt === 0) {
      f.io.err.write(`Warning: resource ${info.mapping.resource}/${info.name} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n`);
    }
    let original: Record<string, unknown> | undefined;
    if (annotation) {
      try {
        original = JSON.parse(annotation) as Record<string, unknown>;
      } catch {
        original = undefined;
      }
    }
    const patch = threeWayMergePatch(original, modified as unknown as Record<string, unknown>, current as unknown as Record<string, unknown>, meta ?? NO_META);
    const body = goMarshal(patch);
    if (body === '{}') return { object: current, verb: 'unchanged' };
    if (dryRun === 'client') return { object: modified, verb: 'configured' };
    try {
      const patched = await client.request<KubeObject>('PATCH', url, {
        body, contentType: meta ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json',
        accept: 'application/json', query: query(manager),
      });
      return { object: patched, verb: 'configured' };
    } catch (err) {
      const e = err as { reason?: string };
      if (e.reason === 'Conflict' && attempt < 5) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
        current = await client.request<KubeObject>('GET', url, { accept: 'application/json' });
        continue;
      }
      if (err instanceof Error && err.name === 'ApiError' && e.reason !== 'Invalid') {
        const gv = info.object.apiVersion ?? '';
        err.message = `error when applying patch:\n${body}\nto:\nResource: "${info.mapping.group ? `${info.mapping.group}/` : ''}${info.mapping.version}, Resource=${info.mapping.resource}", GroupVersionKind: "${gv}, Kind=${info.mapping.kind}"\nName: "${info.name}", Namespace: "${info.namespace ?? ''}"\nfor: "${info.source}": error when patching "${info.source}": ${err.message}`;
      }
      throw err;
    }
  }
}

function withNamespace(info: Info): KubeObject {
  if (!info.namespace || info.object.metadata?.namespace) return info.object;
  return { ...info.object, metadata: { ...info.object.metadata, namespace: info.namespace } } as KubeObject;
}

async function serverSideApply(client: ApiClient, info: Info, o: ApplyOptions, dryRun: DryRun, validation: string): Promise<{ object: KubeObject; verb: string }> {
  if (dryRun === 'client') throw new CliError('--dry-run=client doesn\'t work with --server-side (did you mean --dry-run=server instead?)');
  const obj = withNamespace(info);
  try {
    const result = await client.request<KubeObject>('PATCH', resourceUrl(info.mapping, info.namespace, info.name), {
      body: JSON.stringify(obj), contentType: 'application/apply-patch+yaml', accept: 'application/json',
      query: { dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: o.fieldManager || 'kubectl', fieldValidation: validation, force: o.forceConflicts ? 'true' : 'false' },
    });
    // An object applied client-side before: kubectl hands its last-applied annotation, value unchanged, to the
    // manager kubectl-last-applied with a second apply patch (kubectl-wire.md §6).
    const had = result.metadata?.annotations?.[LAST_APPLIED];
    if (had !== undefined) {
      const meta: Record<string, unknown> = { name: info.name, annotations: { [LAST_APPLIED]: had } };
      if (info.namespace) meta.namespace = info.namespace;
      const again = await client.request<KubeObject>('PATCH', resourceUrl(info.mapping, info.namespace, info.name), {
        body: JSON.stringify({ apiVersion: info.object.apiVersion, kind: info.object.kind, metadata: meta }),
        contentType: 'application/apply-patch+yaml', accept: 'application/json',
        query: { dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: 'kubectl-last-applied', fieldValidation: validation },
      });
      return { object: again, verb: 'serverside-applied' };
    }
    return { object: result, verb: 'serverside-applied' };
  } catch (err) {
    const e = err as { reason?: string; code?: number; message: string };
    if (e.reason === 'Conflict') throw new CliError(`${e.message}\n${CONFLICT_HELP}`);
    if (e.code === 415) throw new CliError(`Server-side apply not available on the server: (${e.message})`);
    throw addSourceToErr('applying', info.source, err);
  }
}

/** `--prune`: deletes objects of the allowlisted kinds that carry the last-applied annotation and were not applied now. */
async function prune(f: Factory, client: ApiClient, mapper: RESTMapper, applied: Info[], o: ApplyOptions, dryRun: DryRun, errors: unknown[]): Promise<void> {
  const allow = (o.pruneAllowlist.length ? o.pruneAllowlist : DEFAULT_PRUNE).map((gvk) => {
    const parts = gvk.split('/');
    if (parts.length !== 3) throw new CliError(`invalid GroupVersionKind format: ${gvk}, please follow <group/version/kind>`);
    const [group, version, kind] = parts;
    return mapper.kindFor(group === 'core' ? version : `${group}/${version}`, kind);
  });
  const namespaces = new Set(applied.filter((i) => i.namespace).map((i) => i.namespace!));
  const keep = new Set(applied.map((i) => `${i.mapping.group}/${i.mapping.resource}/${i.namespace ?? ''}/${i.name}`));
  const scopes: { m: typeof allow[number]; ns: string | undefined }[] = [];
  for (const m of allow) {
    if (m.namespaced) for (const ns of namespaces) scopes.push({ m, ns });
    else scopes.push({ m, ns: undefined });
  }
  for (const { m, ns } of scopes) {
    let list: { items?: KubeObject[] };
    try {
      list = await client.request('GET', resourceUrl(m, ns), { accept: 'application/json', query: { labelSelector: o.selector || undefined } });
    } catch (err) {
      errors.push(err);
      continue;
    }
    for (const item of list.items ?? []) {
      const name = item.metadata?.name ?? '';
      if (!item.metadata?.annotations?.[LAST_APPLIED]) continue;
      if (keep.has(`${m.group}/${m.resource}/${ns ?? ''}/${name}`)) continue;
      try {
        if (dryRun !== 'client') {
          await client.request('DELETE', resourceUrl(m, ns, name), {
            body: { propagationPolicy: 'Background' }, accept: 'application/json', query: { dryRun: dryRun === 'server' ? 'All' : undefined },
          });
        }
        f.io.out.write(`${objectName({ ...item, apiVersion: m.group ? `${m.group}/${m.version}` : m.version, kind: m.kind })} pruned${dryRunSuffix(dryRun)}\n`);
      } catch (err) {
        errors.push(err);
      }
    }
  }
}
