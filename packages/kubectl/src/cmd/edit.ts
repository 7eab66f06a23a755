import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError, ExitCode, formatError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { objectName, toGoJson, toGoYaml } from '../printers/index.js';
import { deepEqual, mergePatch, patchTarget, resolveTargets } from './targets.js';
import { collect } from './util.js';

interface EditOptions { filename: string[]; recursive?: boolean; output?: string; fieldManager: string; subresource?: string }

const HEADER = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`;

/** `kubectl edit`: the object in $KUBE_EDITOR/$EDITOR, then the difference sent back (fieldManager kubectl-edit). */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('edit').summary('Edit a resource on the server').description(`Edit a resource from the default editor.

 The edit command allows you to directly edit any API resource you can retrieve via the command-line tools. It will open the editor defined by your KUBE_EDITOR, or EDITOR environment variables, or fall back to 'vi' for Linux or 'notepad' for Windows. When attempting to open the editor, it will first attempt to use the shell that has been defined in the 'SHELL' environment variable. If this is not defined, the default shell will be used, which is '/bin/bash' for Linux or 'cmd' for Windows.

 You can edit multiple objects, although changes are applied one at a time. The command accepts file names as well as command-line arguments, although the files you point to must be previously saved versions of resources.

 If an error occurs while updating, a temporary file will be created on disk that contains your unapplied changes. The most common error when updating a resource is another editor changing the resource on the server. When this occurs, you will have to apply your changes to the newer version of the resource, or update your temporary saved copy to include the latest resource version.

 (k8ts-kubectl: one object per run; the change is sent as a JSON merge patch; on a failure the editor is not reopened and the edit is kept in the temporary file named in the error; an emptied file cancels.)`)
    .usage('(RESOURCE/NAME | -f FILENAME)')
    .argument('[args...]')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files to use to edit the resource', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-o, --output <format>', 'Output format. One of: (json, yaml).')
    .option('--subresource <name>', 'If specified, edit will operate on the subresource of the requested object. Must be one of [status].')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-edit')
    .action(async (args: string[], o: EditOptions) => edit(f, args, o));
  setExamples(cmd, `  # Edit the service named 'registry'
  kubectl edit svc/docker-registry

  # Use an alternative editor
  KUBE_EDITOR="nano" kubectl edit svc/docker-registry

  # Edit the job 'myjob' in JSON using the v1 API format
  kubectl edit job.v1.batch/myjob -o json`);
  return cmd;
}

function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.KUBE_EDITOR || env.EDITOR || 'vi';
}

async function edit(f: Factory, args: string[], opts: EditOptions): Promise<void> {
  const o = { ...opts, output: opts.output || 'yaml' }; // kubectl's -o defaults to '', which edits YAML
  if (o.output !== 'yaml' && o.output !== 'json') throw new CliError(`the flag 'output' must be one of yaml|json`);
  const { targets, errors } = await resolveTargets(f, args, { filename: o.filename, recursive: o.recursive }, 'edit');
  if (errors.length) throw errors[0];
  if (!targets.length) throw new CliError('edit cancelled, no objects found');
  if (targets.length > 1) throw new CliError('k8ts-kubectl edit edits one object per run');
  const t = targets[0];
  const { omitManagedFields } = await import('../printers/index.js');
  const original = omitManagedFields(t.object);
  const text = o.output === 'json' ? `${toGoJson(original)}\n` : toGoYaml(original);
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'kubectl-edit-'));
  const file = path.join(dir, `${Math.floor(Math.random() * 1e10)}.${o.output}`);
  writeFileSync(file, HEADER + text);
  const { spawnSync } = await import('node:child_process');
  const shell = f.env.SHELL || '/bin/bash';
  const r = spawnSync(shell, ['-c', `${editorCommand(f.env)} ${JSON.stringify(file)}`], { stdio: 'inherit', env: f.env });
  if (r.error || r.status !== 0) throw new CliError(`there was a problem with the editor "${editorCommand(f.env)}"`);
  const edited = readFileSync(file, 'utf8');
  const body = edited.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  if (!body.trim()) {
    f.io.out.write('Edit cancelled, saved file was empty.\n');
    return;
  }
  let obj: KubeObject;
  try {
    const { yaml } = await import('../resource-builder.js');
    obj = yaml().parse(body) as KubeObject;
  } catch (err) {
    throw new CliError(`error: ${(err as Error).message}\nA copy of your changes has been stored to "${file}"`, { raw: true });
  }
  if (deepEqual(obj, original)) {
    f.io.err.write('Edit cancelled, no changes made.\n');
    return;
  }
  try {
    await patchTarget(f, t, mergePatch(original, obj), 'merge', { fieldManager: o.fieldManager }, o.subresource);
  } catch (err) {
    writeFileSync(file, `${HEADER}# ${formatError(err, f.serverForMessages()).split('\n').join('\n# ')}\n#\n${body}`);
    f.io.err.write(`error: ${objectName(t.object).split('/')[0].replace(/\..*$/, 's')} "${t.name}" could not be patched: ${(err as Error).message}\n`);
    f.io.err.write(`You can run \`kubectl replace -f ${file}\` to try this update again.\n`);
    throw new ExitCode(1);
  }
  f.io.out.write(`${objectName(t.object)} edited\n`);
}
