import type { ApiClient, KubeObject } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { objectName, parseOutputFormat, printObjects, type OutputFormat } from '../printers/index.js';
import type { Info } from '../resource-builder.js';
import { dryRunSuffix, fieldValidation, parseDryRun, type DryRun } from './write-util.js';

/** The flags `create -f` and `replace -f` share. */
export interface FileWriteOptions {
  filename: string[];
  recursive?: boolean;
  dryRun?: string | boolean;
  output?: string;
  validate?: string | boolean;
  template?: string;
}

/** What a write of the objects in `-f` starts from. */
export interface FileWrite {
  dryRun: DryRun;
  validation: 'Strict' | 'Warn' | 'Ignore';
  fmt?: OutputFormat;
  client: ApiClient;
  infos: Info[];
  /** Prints a written object as kubectl does: in the -o format, else `kind/name <done>` (`created`, `replaced`). */
  print(result: KubeObject, info: Info, done: string): void;
}

/**
 * Parses the write flags (in kubectl's order, so the first bad one is the one reported), reads the objects of `-f`
 * (none is `no objects passed to <verb>`) and maps them. The caller checks that `-f` was given: its message differs.
 */
export async function startFileWrite(f: Factory, o: FileWriteOptions, verb: string): Promise<FileWrite> {
  const dryRun = parseDryRun(o.dryRun);
  const validation = fieldValidation(o.validate);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { readManifests, toInfos } = await import('../resource-builder.js');
  const manifests = await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in });
  if (!manifests.length) throw new CliError(`no objects passed to ${verb}`);
  const client = await f.client();
  const infos = toInfos(manifests, await f.mapper(), f);
  const print = (result: KubeObject, info: Info, done: string): void => {
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, true));
    else f.io.out.write(`${objectName({ ...result, apiVersion: info.object.apiVersion, kind: info.object.kind })} ${done}${dryRunSuffix(dryRun)}\n`);
  };
  return { dryRun, validation, fmt, client, infos, print };
}
