import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, parseOutputFormat, printObjects } from '../printers/index.js';
import { deepEqual, patchTarget, resolveTargets } from './targets.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface PatchOptions {
  patch?: string;
  patchFile?: string;
  type: string;
  filename: string[];
  recursive?: boolean;
  local?: boolean;
  dryRun?: string | boolean;
  output?: string;
  template?: string;
  subresource?: string;
  fieldManager: string;
}

/** `kubectl patch`: one PATCH per object with the given type (default strategic), fieldManager kubectl-patch. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('patch')
    .summary('Update fields of a resource')
    .description(`Update fields of a resource using strategic merge patch, a JSON merge patch, or a JSON patch.

 JSON and YAML formats are accepted.

 Note: Strategic merge patch is not supported for custom resources.`)
    .usage('(-f FILENAME | TYPE NAME) [-p PATCH|--patch-file FILE]')
    .argument('[args...]')
    .option('-p, --patch <patch>', 'The patch to be applied to the resource JSON file.')
    .option('--patch-file <file>', 'A file containing a patch to be applied to the resource.')
    .option('--type <type>', 'The type of patch being provided; one of [json merge strategic]', 'strategic')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files identifying the resource to update', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('--local', 'If true, patch will operate on the content of the file, not the server-side resource. (k8ts-kubectl: only --type=merge and json locally.)')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .addOption(templateFlag())
    .option('--subresource <name>', "If specified, patch will operate on the subresource of the requested object. Must be one of [status scale]. This flag is beta and may change in the future.")
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-patch')
    .action(async (args: string[], o: PatchOptions) => patch(f, args, o));
  setExamples(cmd, `  # Partially update a node using a strategic merge patch, specifying the patch as JSON
  kubectl patch node k8s-node-1 -p '{"spec":{"unschedulable":true}}'

  # Partially update a node using a strategic merge patch, specifying the patch as YAML
  kubectl patch node k8s-node-1 -p $'spec:\\n unschedulable: true'

  # Update a container's image; spec.containers[*].name is required because it's a merge key
  kubectl patch pod valid-pod -p '{"spec":{"containers":[{"name":"kubernetes-serve-hostname","image":"new image"}]}}'

  # Update a container's image using a JSON patch with positional arrays
  kubectl patch pod valid-pod --type='json' -p='[{"op": "replace", "path": "/spec/containers/0/image", "value":"new image"}]'

  # Update a deployment's replicas through the 'scale' subresource using a merge patch
  kubectl patch deployment nginx-deployment --subresource='scale' --type='merge' -p '{"spec":{"replicas":2}}'`);
  return cmd;
}

async function patch(f: Factory, args: string[], o: PatchOptions): Promise<void> {
  const type = o.type.toLowerCase();
  if (!['json', 'merge', 'strategic'].includes(type)) throw new CliError(`--type must be one of [json merge strategic], not "${o.type}"`);
  if (o.patch !== undefined && o.patchFile) throw new CliError('--patch and --patch-file are mutually exclusive', { usage: 'patch' });
  let text = o.patch ?? '';
  if (o.patchFile) {
    const { readFileSync } = await import('node:fs');
    try {
      text = readFileSync(o.patchFile, 'utf8');
    } catch (err) {
      throw new CliError(`unable to read patch file: ${(err as Error).message}`);
    }
  }
  if (!text) throw new CliError('must specify --patch or --patch-file containing the contents of the patch');
  if (o.subresource && !['status', 'scale'].includes(o.subresource)) {
    throw new CliError(`invalid subresource value: "${o.subresource}". Must be one of [status scale]`);
  }
  const dryRun = parseDryRun(o.dryRun);
  if (o.local && dryRun === 'server') throw new CliError('cannot specify --local and --dry-run=server - did you mean --dry-run=client?');
  let body: unknown;
  try {
    const { yaml } = await import('../resource-builder.js');
    body = yaml().parse(text);
  } catch (err) {
    throw new CliError(`unable to parse "${text}": ${(err as Error).message}`);
  }
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets, errors } = await resolveTargets(f, args, { filename: o.filename, recursive: o.recursive, local: o.local }, 'patch');
  for (const t of targets) {
    let result: KubeObject;
    if (o.local || dryRun === 'client') {
      if (type === 'strategic') throw new CliError('k8ts-kubectl applies strategic merge patches only on the server; use --type=merge or --type=json with --local and --dry-run=client');
      const { applyJsonPatch, applyMergePatch } = await import('./local-patch.js');
      try {
        result = type === 'json' ? applyJsonPatch(t.object, body) : applyMergePatch(t.object, body) as KubeObject;
      } catch (err) {
        errors.push(err);
        continue;
      }
    } else {
      try {
        result = await patchTarget(f, t, body, type as 'json' | 'merge' | 'strategic',
          { fieldManager: o.fieldManager, dryRun: dryRun === 'server' ? 'All' : undefined }, o.subresource);
      } catch (err) {
        errors.push(err);
        continue;
      }
    }
    const changed = o.subresource ? true : !deepEqual(t.object, result);
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, targets.length === 1));
    else f.io.out.write(`${objectName(result.kind ? result : t.object)} ${changed || o.local || dryRun === 'client' ? 'patched' : 'patched (no change)'}${dryRun === 'client' ? dryRunSuffix(dryRun) : ''}\n`);
  }
  reportErrors(f, errors);
}
