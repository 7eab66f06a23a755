import type { Command } from 'commander';
import type { KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { kindPrefix, resourceUrl } from '../rest-mapper.js';
import { collect, isNotFound, outputFlag, reportErrors, templateFlag } from './util.js';
import { startFileWrite, type FileWriteOptions } from './file-write.js';
import { addSourceToErr, dryRunSuffix } from './write-util.js';

interface ReplaceOptions extends FileWriteOptions {
  force?: boolean;
  gracePeriod: string;
  cascade: string;
  wait?: boolean;
  fieldManager: string;
  saveConfig?: boolean;
}

/** `kubectl replace -f`: PUT with the live resourceVersion (fieldManager kubectl-replace); `--force` deletes and re-creates. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('replace')
    .summary('Replace a resource by file name or stdin')
    .description(`Replace a resource by file name or stdin.

 JSON and YAML formats are accepted. If replacing an existing resource, the complete resource spec must be provided. This can be obtained by

        $ kubectl get TYPE NAME -o yaml`)
    .usage('-f FILENAME')
    .option('-f, --filename <file>', 'The files that contain the configurations to replace.', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively.')
    .option('--force', 'If true, immediately remove resources from API and bypass graceful deletion. Note that immediate deletion of some resources may result in inconsistency or data loss and requires confirmation.')
    .option('--grace-period <seconds>', 'Period of time in seconds given to the resource to terminate gracefully. Ignored if negative.', '-1')
    .option('--cascade [strategy]', 'Must be "background", "orphan", or "foreground".', 'background')
    .option('--wait', 'If true, wait for resources to be gone before returning. This waits for finalizers.')
    .option('--dry-run [strategy]', 'Must be "none", "server", or "client".', 'none')
    .addOption(outputFlag())
    .option('--validate [mode]', 'Must be one of: strict (or true), warn, ignore (or false).', 'strict')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-replace')
    .option('--save-config', 'If true, the configuration of current object will be saved in its annotation.')
    .addOption(templateFlag())
    .action(async (o: ReplaceOptions) => replace(f, o));
  setExamples(cmd, `  # Replace a pod using the data in pod.json
  kubectl replace -f ./pod.json

  # Force replace, delete and then re-create the resource
  kubectl replace --force -f ./pod.json`);
  return cmd;
}

async function replace(f: Factory, o: ReplaceOptions): Promise<void> {
  if (!o.filename.length) throw new CliError('must specify --filename to replace', { usage: 'replace' });
  const { dryRun, validation, client, infos, print } = await startFileWrite(f, o, 'replace');
  const errors: unknown[] = [];
  const query = { dryRun: dryRun === 'server' ? 'All' : undefined, fieldManager: o.fieldManager, fieldValidation: validation };
  for (const info of infos) {
    let obj: KubeObject = info.namespace && !info.object.metadata?.namespace
      ? { ...info.object, metadata: { ...info.object.metadata, namespace: info.namespace } } as KubeObject : info.object;
    if (o.saveConfig) obj = (await import('./apply-util.js')).withLastApplied(obj, info.namespace);
    const url = resourceUrl(info.mapping, info.namespace, info.name);
    try {
      let result: KubeObject = obj;
      if (o.force) {
        const grace = Number(o.gracePeriod);
        if (dryRun !== 'client') {
          try {
            await client.request('DELETE', url, { body: { ...(grace >= 0 ? { gracePeriodSeconds: grace } : {}), propagationPolicy: 'Background' }, accept: 'application/json', query: { dryRun: query.dryRun } });
            f.io.out.write(`${kindPrefix(info.mapping)} "${info.name}" deleted${dryRunSuffix(dryRun)}\n`);
            for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
              try {
                await client.request('GET', url, { accept: 'application/json' });
              } catch (err) {
                if (isNotFound(err)) break;
                throw err;
              }
              await new Promise((r) => setTimeout(r, delay));
            }
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
          const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
          result = await client.request<KubeObject>('POST', resourceUrl(info.mapping, info.namespace), { body: { ...obj, metadata }, accept: 'application/json', query });
        }
      } else if (dryRun !== 'client') {
        if (!obj.metadata?.resourceVersion) {
          const live = await client.request<KubeObject>('GET', url, { accept: 'application/json' });
          obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: live.metadata?.resourceVersion } } as KubeObject;
        }
        result = await client.request<KubeObject>('PUT', url, { body: obj, accept: 'application/json', query });
      }
      print(result, info, 'replaced');
    } catch (err) {
      errors.push(addSourceToErr('replacing', info.source, err));
    }
  }
  reportErrors(f, errors);
}
