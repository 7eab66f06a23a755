import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { importCommandFile } from '../commands.js';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { resourceUrl } from '../rest-mapper.js';
import { collect, dryRunFlag, outputFlag, reportErrors, templateFlag } from './util.js';
import { startFileWrite, type FileWriteOptions } from './file-write.js';
import { addSourceToErr } from './write-util.js';

interface CreateOptions extends FileWriteOptions {
  fieldManager: string;
  saveConfig?: boolean;
}

/** The generators (`create deployment|namespace|…`) live in create-generators.ts when it exists. */
type RegisterGenerators = (create: Command, f: Factory) => void;

/** `kubectl create -f FILENAME`: POSTs each object (fieldManager kubectl-create), reporting each as kubectl does. */
export async function register(program: Command, f: Factory): Promise<Command> {
  const cmd = program.command('create')
    .summary('Create a resource from a file or from stdin')
    .description(`Create a resource from a file or from stdin.

 JSON and YAML formats are accepted.`)
    .usage('-f FILENAME')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files to use to create the resource', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .addOption(dryRunFlag())
    .addOption(outputFlag())
    .option('--validate [mode]', 'Must be one of: strict (or true), warn, ignore (or false).', 'strict')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-create')
    .option('--save-config', 'If true, the configuration of current object will be saved in its annotation. Otherwise, the annotation will be unchanged. This flag is useful when you want to perform kubectl apply on this object in the future.')
    .addOption(templateFlag())
    .action(async (o: CreateOptions) => create(f, o));
  setExamples(cmd, `  # Create a pod using the data in pod.json
  kubectl create -f ./pod.json

  # Create a pod based on the JSON passed into stdin
  cat pod.json | kubectl create -f -`);
  await withGenerators(cmd, f);
  return cmd;
}

/** Loads the generators' subcommands, if that file exists. */
export async function withGenerators(cmd: Command, f: Factory): Promise<void> {
  const mod = await importCommandFile<{ registerGenerators?: RegisterGenerators }>('create-generators');
  mod?.registerGenerators?.(cmd, f);
}

async function create(f: Factory, o: CreateOptions): Promise<void> {
  if (!o.filename.length) throw new CliError('must specify one of -f and -k');
  const { dryRun, validation, client, infos, print } = await startFileWrite(f, o, 'create');
  const errors: unknown[] = [];
  for (const info of infos) {
    let obj: KubeObject = info.object;
    if (o.saveConfig) {
      const { withLastApplied } = await import('./apply-util.js');
      obj = withLastApplied(obj, info.namespace);
    }
    let result = obj;
    if (dryRun !== 'client') {
      try {
        result = await client.request<KubeObject>('POST', resourceUrl(info.mapping, info.namespace), {
          body: obj, accept: 'application/json',
          query: { dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: o.fieldManager, fieldValidation: validation },
        });
      } catch (err) {
        errors.push(addSourceToErr('creating', info.source, err));
        continue;
      }
    }
    print(result, info, 'created');
  }
  reportErrors(f, errors);
}
