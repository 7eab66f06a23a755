import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { parseOutputFormat, printObjects } from '../printers/index.js';
import { patchTarget, resolveTargets, targetName } from './targets.js';
import { dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface Taint { key: string; value?: string; effect: string; timeAdded?: string }

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** `kubectl taint NODE key=value:Effect … key:Effect- key-`: a strategic merge patch of spec.taints (kubectl-taint). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('taint')
    .summary('Update the taints on one or more nodes')
    .description(`Update the taints on one or more nodes.

  *  A taint consists of a key, value, and effect. As an argument here, it is expressed as key=value:effect.
  *  The key must begin with a letter or number, and may contain letters, numbers, hyphens, dots, and underscores, up to 253 characters.
  *  Optionally, the key can begin with a DNS subdomain prefix and a single '/', like example.com/my-app.
  *  The value is optional. If given, it must begin with a letter or number, and may contain letters, numbers, hyphens, dots, and underscores, up to 63 characters.
  *  The effect must be NoSchedule, PreferNoSchedule or NoExecute.
  *  Currently taint can only apply to node.`)
    .usage('NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N')
    .argument('[args...]')
    .option('--overwrite', 'If true, allow taints to be overwritten, otherwise reject taint updates that overwrite existing taints.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .option('--all', 'Select all nodes in the cluster')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-taint')
    .action(async (args: string[], o: TaintOptions) => taint(f, args, o));
  setExamples(cmd, `  # Update node 'foo' with a taint with key 'dedicated' and value 'special-user' and effect 'NoSchedule'
  # If a taint with that key and effect already exists, its value is replaced as specified
  kubectl taint nodes foo dedicated=special-user:NoSchedule

  # Remove from node 'foo' the taint with key 'dedicated' and effect 'NoSchedule' if one exists
  kubectl taint nodes foo dedicated:NoSchedule-

  # Remove from node 'foo' all the taints with key 'dedicated'
  kubectl taint nodes foo dedicated-

  # Add a taint with key 'dedicated' on nodes having label myLabel=X
  kubectl taint node -l myLabel=X  dedicated=foo:PreferNoSchedule

  # Add to node 'foo' a taint with key 'bar' and no value
  kubectl taint nodes foo bar:NoSchedule`);
  return cmd;
}

interface TaintOptions { overwrite?: boolean; selector?: string; all?: boolean; dryRun?: string | boolean; output?: string; template?: string; fieldManager: string }

/** kubectl's ParseTaints: the taints to add and to remove, with its messages. */
export function parseTaints(specs: string[]): { add: Taint[]; remove: Taint[] } {
  const add: Taint[] = [];
  const remove: Taint[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.endsWith('-')) {
      const s = spec.slice(0, -1);
      const [key, effect] = s.split(':');
      if (effect !== undefined && !EFFECTS.includes(effect)) throw new CliError(`invalid taint effect: ${effect}, unsupported taint effect`);
      remove.push({ key, effect: effect ?? '' });
      continue;
    }
    const colon = spec.lastIndexOf(':');
    if (colon < 0) throw new CliError(`invalid taint spec: ${spec}`);
    const kv = spec.slice(0, colon);
    const effect = spec.slice(colon + 1);
    if (!EFFECTS.includes(effect)) throw new CliError(`invalid taint effect: ${effect}, unsupported taint effect`);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    if (!key) throw new CliError(`invalid taint spec: ${spec}`);
    const id = `${key}:${effect}`;
    if (seen.has(id)) throw new CliError(`duplicated taints with the same key and effect: {${key} ${value} ${effect} <nil>}`);
    seen.add(id);
    add.push(value ? { key, value, effect } : { key, effect });
  }
  return { add, remove };
}

async function taint(f: Factory, args: string[], o: TaintOptions): Promise<void> {
  const resources: string[] = [];
  const specs: string[] = [];
  for (const a of args) {
    if (a.includes(':') || a.includes('=') || a.endsWith('-')) specs.push(a);
    else resources.push(a);
  }
  if (!specs.length) throw new CliError('at least one taint update is required');
  if (!resources.length) throw new CliError('at least one resource name must be specified since \'all\' parameter is not set', { usage: 'taint' });
  // kubectl taint takes TYPE NAME… only: `node/x` is looked up as a type.
  const type = resources[0];
  if (type.includes('/')) throw new CliError(`the server doesn't have a resource type "${type}"`, { raw: true });
  if (!['node', 'nodes', 'no'].includes(type)) throw new CliError(`invalid resource type ${type}, only node types are supported`);
  if (!o.all && !o.selector && resources.length < 2 && !resources[0].includes('/')) {
    throw new CliError("at least one resource name must be specified since 'all' parameter is not set", { usage: 'taint' });
  }
  let parsed: ReturnType<typeof parseTaints>;
  try {
    parsed = parseTaints(specs);
  } catch (err) {
    throw new CliError((err as Error).message, { usage: 'taint' });
  }
  const { add, remove } = parsed;
  for (const r of remove) {
    if (add.some((a) => a.key === r.key && (r.effect === '' || r.effect === a.effect))) throw new CliError('can not both modify and remove the following taint(s) in the same command: ' + r.key);
  }
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, resources, { selector: o.selector, all: o.all }, 'taint');
  for (const t of targets) {
    const spec = (t.object as KubeObject & { spec?: { taints?: Taint[] } }).spec ?? {};
    const old = spec.taints ?? [];
    let taints = [...old];
    let verb = 'tainted';
    if (!o.overwrite) {
      const clash = add.filter((a) => old.some((x) => x.key === a.key && x.effect === a.effect));
      if (clash.length) {
        errors.push(new CliError(`node ${t.name} already has ${clash.map((c) => c.key).join(',')} taint(s) with same effect(s) and --overwrite is false`));
        continue;
      }
    }
    let modified = false;
    for (const a of add) {
      const i = taints.findIndex((x) => x.key === a.key && x.effect === a.effect);
      if (i >= 0) { taints[i] = a; modified = true; } else taints.push(a);
    }
    let removed = false;
    const missing: string[] = [];
    for (const r of remove) {
      const before = taints.length;
      taints = taints.filter((x) => !(x.key === r.key && (r.effect === '' || x.effect === r.effect)));
      if (taints.length === before) missing.push(r.effect ? `${r.key}:${r.effect}` : r.key);
      else removed = true;
    }
    if (missing.length) {
      errors.push(new CliError(`taint ${missing.map((m) => `"${m}"`).join(',')} not found`));
      continue;
    }
    if (removed && !add.length) verb = 'untainted';
    else if (modified || (removed && add.length)) verb = 'modified';
    let result: KubeObject = { ...t.object, spec: { ...spec, taints } } as KubeObject;
    if (dryRun !== 'client') {
      try {
        result = await patchTarget(f, t, { spec: { taints } }, 'strategic', { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined });
      } catch (err) {
        errors.push(err);
        continue;
      }
    }
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, targets.length === 1));
    else f.io.out.write(`${targetName(t)} ${verb}${dryRunSuffix(dryRun)}\n`);
  }
  reportErrors(f, errors);
}
