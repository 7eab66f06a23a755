import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { ApiClient, KubeObject } from '@k8ts/api';
import { CliError, ExitCode, formatError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { omitManagedFields } from '../printers/index.js';
import { toGoYaml } from '../printers/serialize.js';
import { resourceUrl } from '../rest-mapper.js';
import type { Info } from '../resource-builder.js';
import { LAST_APPLIED, goMarshal } from './apply-util.js';
import { collect, isNotFound } from './util.js';
import { fieldValidation } from './write-util.js';

interface DiffOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  serverSide?: boolean;
  fieldManager?: string;
  forceConflicts?: boolean;
  showManagedFields?: boolean;
  validate?: string | boolean;
}

/** `kubectl diff -f`: live objects against what a server-side dry run of the apply gives, through `diff -u -N`. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('diff')
    .summary('Diff the live version against a would-be applied version')
    .description(`Diff configurations specified by file name or stdin between the current online configuration, and the configuration as it would be if applied.

 The output is always YAML.

 KUBECTL_EXTERNAL_DIFF environment variable can be used to select your own diff command. Users can use external commands with params too, example: KUBECTL_EXTERNAL_DIFF="colordiff -N -u"

 By default, the "diff" command available in your path will be run with the "-u" (unified diff) and "-N" (treat absent files as empty) options.

 Exit status: 0 No differences were found. 1 Differences were found. >1 Kubectl or diff failed with an error.`)
    .usage('-f FILENAME')
    .option('-f, --filename <file>', 'Filename, directory, or URL to files contains the configuration to diff', collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively.')
    .option('-l, --selector <selector>', 'Selector (label query) to filter on.')
    .option('--server-side', 'If true, apply runs in the server instead of the client.')
    .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-client-side-apply')
    .option('--force-conflicts', 'If true, server-side apply will force the changes against conflicts.')
    .option('--show-managed-fields', 'If true, include managed fields in the diff.')
    .option('--validate [mode]', 'Must be one of: strict (or true), warn, ignore (or false). (k8ts-kubectl: kubectl diff has no --validate; ours sends it as the dry run\'s field validation.)', 'strict')
    .action(async (o: DiffOptions) => {
      try {
        await diff(f, o);
      } catch (err) {
        // Exit status >1: kubectl or diff failed (1 means only that the objects differ).
        if (err instanceof ExitCode || (err instanceof CliError && err.exitCode > 1)) throw err;
        throw new CliError(formatError(err, f.serverForMessages()), { raw: true, exitCode: 2 });
      }
    });
  setExamples(cmd, `  # Diff resources included in pod.json
  kubectl diff -f pod.json

  # Diff file read from stdin
  cat service.yaml | kubectl diff -f -`);
  return cmd;
}

/** `apps.v1.Deployment.default.web`: the file name kubectl gives each object. */
function fileName(info: Info): string {
  const gv = (info.object.apiVersion ?? '').replace('/', '.');
  return [gv, info.object.kind, info.namespace, info.name].filter((x) => x !== undefined && x !== '').join('.');
}

async function diff(f: Factory, o: DiffOptions): Promise<void> {
  if (!o.filename.length) throw new CliError('must specify one of -f and -k');
  const validation = fieldValidation(o.validate);
  const { readManifests, toInfos } = await import('../resource-builder.js');
  const manifests = await readManifests(o.filename, { recursive: o.recursive, stdin: f.io.in });
  let infos = toInfos(manifests, await f.mapper(), f);
  if (o.selector) {
    const { matchesLabels, parseLabelSelector } = await import('@k8ts/api');
    const sel = parseLabelSelector(o.selector);
    infos = infos.filter((i) => matchesLabels(sel, i.object.metadata?.labels ?? {}));
  }
  const client = await f.client();
  const live = mkdtempSync(path.join(tmpdir(), 'LIVE-'));
  const merged = mkdtempSync(path.join(tmpdir(), 'MERGED-'));
  try {
    for (const info of infos) {
      const { current, result } = await dryRunApply(client, info, o, validation);
      const strip = (x: KubeObject) => (o.showManagedFields ? x : omitManagedFields(x));
      const [a, b] = mask(current && strip(current), strip(result), info);
      // kubectl's Masker turns a missing live Secret into a null object, which it writes as `null`.
      if (a) writeFileSync(path.join(live, fileName(info)), toGoYaml(a));
      else if (info.object.kind === 'Secret' && info.mapping.group === '') writeFileSync(path.join(live, fileName(info)), 'null\n');
      writeFileSync(path.join(merged, fileName(info)), toGoYaml(b));
    }
    const [cmd, ...args] = (f.env.KUBECTL_EXTERNAL_DIFF?.trim() || 'diff -u -N').split(/\s+/);
    const diffArgs = f.env.KUBECTL_EXTERNAL_DIFF?.trim() ? [...args, live, merged] : ['-u', '-N', live, merged];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, diffArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => f.io.out.write(d.toString()));
      child.stderr.on('data', (d: Buffer) => f.io.err.write(d.toString()));
      child.on('error', (err) => reject(new CliError(`failed to run "${cmd}": ${err.message}`)));
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code > 1) throw new CliError(`exit status ${code}`, { exitCode: code });
    if (code === 1) throw new ExitCode(1);
  } finally {
    rmSync(live, { recursive: true, force: true });
    rmSync(merged, { recursive: true, force: true });
  }
}

/** The live object and the one a dry-run apply answers (client-side apply's patch, or server-side apply). */
async function dryRunApply(client: ApiClient, info: Info, o: DiffOptions, validation: string): Promise<{ current: KubeObject | undefined; result: KubeObject }> {
  const url = resourceUrl(info.mapping, info.namespace, info.name);
  const obj = info.namespace && !info.object.metadata?.namespace ? { ...info.object, metadata: { ...info.object.metadata, namespace: info.namespace } } as KubeObject : info.object;
  let current: KubeObject | undefined;
  try {
    current = await client.request<KubeObject>('GET', url, { accept: 'application/json' });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (o.serverSide) {
    const result = await client.request<KubeObject>('PATCH', url, {
      body: JSON.stringify(obj), contentType: 'application/apply-patch+yaml', accept: 'application/json',
      query: { dryRun: 'All', fieldManager: o.fieldManager === 'kubectl-client-side-apply' ? 'kubectl' : o.fieldManager, fieldValidation: validation, force: o.forceConflicts ? 'true' : 'false' },
    });
    return { current, result };
  }
  // diff computes the patch from the manifest without writing the last-applied annotation (GetModifiedConfiguration
  // with annotate=false: an empty annotations map stands in its place).
  const modified = structuredClone(obj) as KubeObject & { metadata: Record<string, unknown> };
  modified.metadata ??= {};
  const annotations = { ...(modified.metadata.annotations as Record<string, string> | undefined) };
  delete annotations[LAST_APPLIED];
  modified.metadata.annotations = annotations;
  if (!current) {
    // A new object is dry-run created as written, without the last-applied annotation (as kubectl diff does).
    const result = await client.request<KubeObject>('POST', resourceUrl(info.mapping, info.namespace), {
      body: obj, accept: 'application/json', query: { dryRun: 'All', fieldManager: o.fieldManager, fieldValidation: validation },
    });
    return { current, result };
  }
  const { patchMetaFor, NO_META } = await import('../patch-meta.js');
  const { threeWayMergePatch } = await import('../strategic-patch.js');
  const meta = patchMetaFor(info.object.apiVersion ?? '', info.object.kind ?? '');
  const annotation = current.metadata?.annotations?.[LAST_APPLIED];
  let original: Record<string, unknown> | undefined;
  try {
    original = annotation ? JSON.parse(annotation) as Record<string, unknown> : undefined;
  } catch {
    original = undefined;
  }
  const patch = goMarshal(threeWayMergePatch(original, modified as unknown as Record<string, unknown>, current as unknown as Record<string, unknown>, meta ?? NO_META));
  const result = await client.request<KubeObject>('PATCH', url, {
    body: patch, contentType: meta ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json', accept: 'application/json',
    query: { dryRun: 'All', fieldManager: o.fieldManager, fieldValidation: validation },
  });
  return { current, result };
}

/** Secrets' values hidden as kubectl's diff Masker does: `***` where both sides agree, `*** (before)`/`*** (after)` where they differ. */
function mask(from: KubeObject | undefined, to: KubeObject, info: Info): [KubeObject | undefined, KubeObject] {
  if (info.object.kind !== 'Secret' || info.mapping.group !== '') return [from, to];
  type S = KubeObject & { data?: Record<string, string> };
  const a = from && structuredClone(from) as S;
  const b = structuredClone(to) as S;
  const keys = new Set([...Object.keys(a?.data ?? {}), ...Object.keys(b.data ?? {})]);
  for (const k of keys) {
    const av = a?.data?.[k];
    const bv = b.data?.[k];
    if (!a || (av !== undefined && bv !== undefined && av === bv)) {
      if (a && av !== undefined) a.data![k] = '***';
      if (bv !== undefined) b.data![k] = '***';
      continue;
    }
    if (av !== undefined) a!.data![k] = '*** (before)';
    if (bv !== undefined) b.data![k] = '*** (after)';
  }
  return [a, b];
}
