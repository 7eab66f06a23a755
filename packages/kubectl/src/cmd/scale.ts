import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { resourceUrl } from '../rest-mapper.js';
import { patchTarget, requiredFlagMissing, resolveTargets } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface ScaleOptions {
  replicas?: string;
  currentReplicas: string;
  resourceVersion?: string;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  timeout?: string;
}

interface Scale { metadata?: { resourceVersion?: string }; spec?: { replicas?: number }; status?: { replicas?: number } }

/** `kubectl scale`: a merge patch of the scale subresource; with `--current-replicas`/`--resource-version`, a PUT. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('scale')
    .summary('Set a new size for a deployment, replica set, or replication controller')
    .description(`Set a new size for a deployment, replica set, replication controller, or stateful set.

 Scale also allows users to specify one or more preconditions for the scale action.

 If --current-replicas or --resource-version is specified, it is validated before the scale is attempted, and it is guaranteed that the precondition holds true when the scale is sent to the server.

 (k8ts-kubectl: --timeout is accepted but scale does not wait for the new size.)`)
    .usage('[--resource-version=version] [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME)')
    .argument('[args...]')
    .option('--replicas <count>', 'The new desired number of replicas. Required.')
    .option('--current-replicas <count>', 'Precondition for current size. Requires that the current size of the resource match this value in order to scale. -1 (default) for no condition.', '-1')
    .option('--resource-version <version>', 'Precondition for resource version. Requires that the current resource version match this value in order to scale.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .option('--all', 'Select all resources in the namespace of the specified resource types')
    .option('-A, --all-namespaces', 'If present, scale the objects --all or -l select in every namespace. (k8ts-kubectl: kubectl scale has no -A.)')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files identifying the resource to set a new size', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--timeout <duration>', 'The length of time to wait before giving up on a scale operation, zero means don\'t wait. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).', '0s')
    .action(async (args: string[], o: ScaleOptions) => scale(f, args, o));
  setExamples(cmd, `  # Scale a replica set named 'foo' to 3
  kubectl scale --replicas=3 rs/foo

  # Scale a resource identified by type and name specified in "foo.yaml" to 3
  kubectl scale --replicas=3 -f foo.yaml

  # If the deployment named mysql's current size is 2, scale mysql to 3
  kubectl scale --current-replicas=2 --replicas=3 deployment/mysql

  # Scale multiple replication controllers
  kubectl scale --replicas=5 rc/example1 rc/example2 rc/example3

  # Scale stateful set named 'web' to 3
  kubectl scale --replicas=3 statefulset/web`);
  return cmd;
}

async function scale(f: Factory, args: string[], o: ScaleOptions): Promise<void> {
  if (o.replicas === undefined) requiredFlagMissing(f, 'replicas');
  const replicas = Number(o.replicas);
  if (o.replicas !== undefined && !/^-?\d+$/.test(o.replicas)) throw new CliError(`invalid argument "${o.replicas}" for "--replicas" flag: strconv.ParseInt: parsing "${o.replicas}": invalid syntax`);
  if (replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0', { usage: 'scale' });
  const current = Number(o.currentReplicas);
  const dryRun = parseDryRun(o.dryRun);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, args, o, 'scale');
  if (o.resourceVersion && targets.length + errors.length > 1) throw new CliError('cannot use --resource-version with multiple resources');
  if (current >= 0 && targets.length + errors.length > 1) throw new CliError('cannot use --current-replicas with multiple resources');
  if (!targets.length && errors.length) {
    const msgs = errors.map((e) => (e as Error).message);
    throw new CliError(`no objects passed to scale ${msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`}`);
  }
  const client = await f.client();
  for (const t of targets) {
    try {
      if (dryRun !== 'client') {
        const url = resourceUrl(t.mapping, t.namespace, t.name, 'scale');
        const query = { dryRun: dryRun === 'server' ? 'All' : undefined };
        if (current >= 0 || o.resourceVersion) {
          const sc = await client.request<Scale>('GET', url, { accept: 'application/json, */*' });
          if (current >= 0 && (sc.spec?.replicas ?? 0) !== current) throw new CliError(`Expected replicas to be ${current}, was ${sc.spec?.replicas ?? 0}`);
          if (o.resourceVersion && sc.metadata?.resourceVersion !== o.resourceVersion) {
            throw new CliError(`Expected resource version to be ${o.resourceVersion}, was ${sc.metadata?.resourceVersion ?? ''}`);
          }
          await client.request('PUT', url, { body: { ...sc, spec: { ...sc.spec, replicas } }, accept: 'application/json, */*', query });
        } else {
          await patchTarget(f, t, { spec: { replicas } }, 'merge', query, 'scale');
        }
      }
    } catch (err) {
      errors.push(err);
      continue;
    }
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([t.object], fmt, targets.length === 1));
    else f.io.out.write(`${objectName(t.object)} scaled${dryRunSuffix(dryRun)}\n`);
  }
  reportErrors(f, errors);
}
