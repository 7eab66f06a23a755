import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { deepEqual, mergePatch, patchTarget, resolveTargets, targetName } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

/** What `label` and `annotate` share (kubectl's label.go and annotate.go): flags, argument split, the merge patch. */
export interface MetadataUpdateOptions {
  overwrite?: boolean;
  list?: boolean;
  local?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  filename: string[];
  recursive?: boolean;
  resourceVersion?: string;
  fieldManager: string;
}

type Field = 'labels' | 'annotations';

/** Adds the flags both commands take. */
export function metadataFlags(cmd: Command, field: Field): Command {
  const what = field === 'labels' ? 'label' : 'annotation';
  return cmd.argument('[args...]')
    .option('--overwrite', `If true, allow ${field} to be overwritten, otherwise reject ${what} updates that overwrite existing ${field}.`)
    .option('--list', `If true, display the ${field} for a given resource.`)
    .option('--local', `If true, ${what} will NOT contact api-server but run locally.`)
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .option('--field-selector <selector>', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type.")
    .option('--all', 'Select all resources, in the namespace of the specified resource types')
    .option('-A, --all-namespaces', 'If true, check the specified action in all namespaces.')
    .option('-f, --filename <file>', `Filename, directory, or URL to files identifying the resource to update the ${what}`, collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('--resource-version <version>', `If non-empty, the ${what} update will only succeed if this is the current resource-version for the object. Only valid when specifying a single resource.`)
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', `kubectl-${what === 'label' ? 'label' : 'annotate'}`);
}

/** kubectl's GetResourcesAndPairs: `KEY=VAL` and `KEY-` are changes, the rest names objects (all before changes). */
function splitArgs(args: string[], command: string): { resources: string[]; pairs: string[] } {
  const resources: string[] = [];
  const pairs: string[] = [];
  for (const a of args) {
    if (a.includes('=') || a.endsWith('-')) pairs.push(a);
    else {
      if (pairs.length) throw new CliError(`all resources must be specified before ${command} changes: ${a}`);
      resources.push(a);
    }
  }
  return { resources, pairs };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** validation.IsValidLabelValue's first error, or undefined. */
function valueError(v: string): string | undefined {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(v)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}

/** Parses the changes: `KEY=VAL` to set, `KEY-` to remove, with kubectl's messages. */
function parsePairs(pairs: string[], field: Field): { set: [string, string][]; remove: string[] } {
  const set: [string, string][] = [];
  const remove: string[] = [];
  const what = field === 'labels' ? 'label' : 'annotation';
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq >= 0) {
      const k = p.slice(0, eq);
      const v = p.slice(eq + 1);
      // Keys and values are validated by the server (kubectl 1.32 only splits them).
      if (!k) throw new CliError(`invalid ${field === 'labels' ? 'label spec' : 'annotation format'}: ${p}`);
      const ve = field === 'labels' ? valueError(v) : undefined;
      if (ve) throw new CliError(`invalid label value: "${p}": ${ve}`);
      set.push([k, v]);
    } else if (p.endsWith('-')) {
      remove.push(p.slice(0, -1));
    } else {
      throw new CliError(`invalid ${what} format: ${p}`);
    }
  }
  for (const r of remove) if (set.some(([k]) => k === r)) throw new CliError(`can not both modify and remove ${field} in the same command`);
  return { set, remove };
}

/** `kubectl label` / `kubectl annotate`. */
export async function updateMetadata(f: Factory, field: Field, args: string[], o: MetadataUpdateOptions): Promise<void> {
  const command = field === 'labels' ? 'label' : 'annotate';
  const what = field === 'labels' ? 'label' : 'annotation';
  const { resources, pairs } = splitArgs(args, command);
  if (!resources.length && !o.filename.length) throw new CliError(`one or more resources must be specified as <resource> <name> or <resource>/<name>`, { usage: command });
  if (!pairs.length && !o.list) throw new CliError(`at least one ${what} update is required`);
  const { set, remove } = parsePairs(pairs, field);
  const dryRun = parseDryRun(o.dryRun);
  if (o.local && dryRun === 'server') throw new CliError('cannot specify --local and --dry-run=server - did you mean --dry-run=client?');
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, resources, o, command);
  if (o.resourceVersion && targets.length + errors.length > 1) throw new CliError('--resource-version may only be used with a single resource');
  for (const t of targets) {
    const current = { ...(t.object.metadata?.[field] as Record<string, string> | undefined ?? {}) };
    if (o.list) {
      for (const [k, v] of Object.entries(current)) f.io.out.write(`${k}=${v}\n`);
      continue;
    }
    if (!o.overwrite) {
      const clashes = set.filter(([k, v]) => k in current && current[k] !== v).map(([k]) => `'${k}' already has a value (${current[k]})`);
      if (clashes.length) {
        errors.push(new CliError(field === 'labels' ? `${clashes[0]}, and --overwrite is false`
          : `--overwrite is false but found the following declared annotation(s): ${clashes.join(', ')}`));
        continue;
      }
    }
    const next = { ...current };
    for (const [k, v] of set) next[k] = v;
    for (const k of remove) {
      if (!(k in next) && field === 'labels') f.io.out.write(`${what} "${k}" not found.\n`);
      delete next[k];
    }
    const metadata: Record<string, unknown> = { ...t.object.metadata };
    if (Object.keys(next).length || Object.keys(current).length || set.length) metadata[field] = next;
    else delete metadata[field];
    if (o.resourceVersion) metadata.resourceVersion = o.resourceVersion;
    const after: KubeObject = { ...t.object, metadata } as KubeObject;
    let msg = 'annotated';
    if (field === 'labels') {
      msg = 'not labeled';
      if (!deepEqual(current, next)) msg = !o.overwrite && Object.keys(next).length < Object.keys(current).length ? 'unlabeled' : 'labeled';
    }
    let result = after;
    if (dryRun !== 'client' && !o.local) {
      const patch = mergePatch(t.object, after);
      try {
        result = await patchTarget(f, t, patch, 'merge', { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined });
      } catch (err) {
        errors.push(err);
        continue;
      }
    }
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, targets.length === 1));
    else f.io.out.write(`${result.kind ? objectName({ ...result, apiVersion: t.object.apiVersion, kind: t.object.kind }) : targetName(t)} ${msg}${dryRunSuffix(dryRun)}\n`);
  }
  reportErrors(f, errors);
}
