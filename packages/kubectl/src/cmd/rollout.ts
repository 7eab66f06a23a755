import type { Command } from 'commander';
import type { KubeObject, ResourceDef } from '@k8ts/api';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { parseGoDuration } from '../factory.js';
import { setExamples } from '../help.js';
import { parseOutputFormat, printObjects, tabwrite } from '../printers/index.js';
import type { ResourceMapping } from '../rest-mapper.js';
import { rolloutState } from './rollout-status.js';
import { deepEqual, patchTarget, resolveTargets, targetName, type Target } from './targets.js';
import { collect, outputFlag, reportErrors, templateFlag } from './util.js';
import { dryRunSuffix, parseDryRun } from './write-util.js';

interface CommonOptions {
  filename: string[];
  recursive?: boolean;
  selector?: string;
  output?: string;
  template?: string;
  dryRun?: string | boolean;
  fieldManager?: string;
}

function common(cmd: Command, what: string, write = false): Command {
  cmd.argument('[args...]')
    .option('-f, --filename <file>', `Filename, directory, or URL to files identifying the resource to ${what}`, collect, [])
    .option('-R, --recursive', 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.");
  if (write) {
    cmd.option('-o, --output <format>', 'Output format. One of: (json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file).')
      .addOption(templateFlag())
      .option('--field-manager <name>', 'Name of the manager used to track field ownership.', 'kubectl-rollout');
  }
  return cmd;
}

const DRY_RUN = 'Must be "none", "server", or "client". If client strategy, only print the object that would be sent, without sending it. If server strategy, submit server-side request without persisting the resource.';

async function targets(f: Factory, args: string[], o: CommonOptions, command: string): Promise<{ targets: Target[]; errors: unknown[] }> {
  if (!args.length && !o.filename.length) {
    throw new CliError(`required resource not specified`);
  }
  return resolveTargets(f, args, { filename: o.filename, recursive: o.recursive, selector: o.selector }, command);
}

/** `kubectl rollout status|history|undo|restart|pause|resume`. */
export function register(program: Command, f: Factory): Command {
  const rollout = program.command('rollout').summary('Manage the rollout of a resource').description(`Manage the rollout of one or many resources.

 Valid resource types include:

  *  deployments
  *  daemonsets
  *  statefulsets`).usage('SUBCOMMAND');
  setExamples(rollout, `  # Rollback to the previous deployment
  kubectl rollout undo deployment/abc

  # Check the rollout status of a daemonset
  kubectl rollout status daemonset/foo

  # Restart a deployment
  kubectl rollout restart deployment/abc

  # Restart deployments with the 'app=nginx' label
  kubectl rollout restart deployment --selector=app=nginx`);

  const status = common(rollout.command('status').summary('Show the status of the rollout').description(`Show the status of the rollout.

 By default 'rollout status' will watch the status of the latest rollout until it's done. If you don't want to wait for the rollout to finish then you can use --watch=false. Note that if a new rollout starts in-between, then 'rollout status' will continue watching the latest revision. If you want to pin to a specific revision and abort if it is rolled over by another revision, use --revision=N where N is the revision you need to watch for.`)
    .usage('(TYPE NAME | TYPE/NAME) [flags]'), 'get the status of')
    .option('-w, --watch', 'Watch the status of the rollout until it\'s done.', true)
    .option('--revision <n>', 'Pin to a specific revision for showing its status. Defaults to 0 (last revision).', '0')
    .option('--timeout <duration>', 'The length of time to wait before ending watch, zero means never. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).', '0s')
    .action(async (args: string[], o: CommonOptions & { watch: boolean; timeout: string; revision: string }) => rolloutStatus(f, args, o));
  setExamples(status, `  # Watch the rollout status of a deployment
  kubectl rollout status deployment/nginx`);

  const history = common(rollout.command('history').summary('View rollout history').description('View previous rollout revisions and configurations.\n\n (k8ts-kubectl: deployments only; --revision prints the revision\'s pod template as YAML rather than kubectl\'s describe layout.)')
    .usage('(TYPE NAME | TYPE/NAME) [flags]'), 'get from a server')
    .option('--revision <n>', 'See the details, including podTemplate of the revision specified', '0')
    .addOption(outputFlag())
    .addOption(templateFlag())
    .action(async (args: string[], o: CommonOptions & { revision: string }) => rolloutHistory(f, args, o));
  setExamples(history, `  # View the rollout history of a deployment
  kubectl rollout history deployment/abc

  # View the details of daemonset revision 3
  kubectl rollout history daemonset/abc --revision=3`);

  const undo = common(rollout.command('undo').summary('Undo a previous rollout').description('Roll back to a previous rollout.\n\n (k8ts-kubectl: deployments only; --dry-run=client prints the pod template as YAML rather than in kubectl\'s describe layout.)')
    .usage('(TYPE NAME | TYPE/NAME) [flags]'), 'get from a server', true)
    .option('--to-revision <n>', 'The revision to rollback to. Default to 0 (last revision).', '0')
    .option('--dry-run [strategy]', DRY_RUN, 'none')
    .action(async (args: string[], o: CommonOptions & { toRevision: string }) => rolloutUndo(f, args, o));
  undo.options.find((o) => o.long === '--field-manager')?.hideHelp(); // kubectl's undo has none; it is unused
  setExamples(undo, `  # Roll back to the previous deployment
  kubectl rollout undo deployment/abc

  # Roll back to daemonset revision 3
  kubectl rollout undo daemonset/abc --to-revision=3`);

  const restart = common(rollout.command('restart').summary('Restart a resource').description(`Restart a resource.

        Resource rollout will be restarted.`).usage('RESOURCE'), 'get from a server', true)
    .action(async (args: string[], o: CommonOptions) => rolloutRestart(f, args, o));
  setExamples(restart, `  # Restart all deployments in the test-namespace namespace
  kubectl rollout restart deployment -n test-namespace

  # Restart a deployment
  kubectl rollout restart deployment/nginx`);

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    const cmd = common(rollout.command(verb).summary(paused ? 'Mark the provided resource as paused' : 'Resume a paused resource')
      .description(paused ? `Mark the provided resource as paused.

 Paused resources will not be reconciled by a controller. Use "kubectl rollout resume" to resume a paused resource. Currently only deployments support being paused.` : `Resume a paused resource.

 Paused resources will not be reconciled by a controller. By resuming a resource, we allow it to be reconciled again. Currently only deployments support being resumed.`)
      .usage('RESOURCE'), 'get from a server', true)
      .action(async (args: string[], o: CommonOptions) => rolloutPause(f, args, o, paused));
    setExamples(cmd, `  # ${paused ? 'Mark the nginx deployment as paused' : 'Resume an already paused deployment'}\n  kubectl rollout ${verb} deployment/nginx`);
  }
  return rollout;
}

function asDef(m: ResourceMapping): ResourceDef {
  return { ...m, singular: m.singularName, listKind: `${m.kind}List`, subresources: [] } as unknown as ResourceDef;
}

async function rolloutStatus(f: Factory, args: string[], o: CommonOptions & { watch: boolean; timeout: string; revision: string }): Promise<void> {
  const timeoutMs = parseGoDuration(o.timeout);
  if (timeoutMs === undefined) throw new CliError(`invalid argument "${o.timeout}" for "--timeout" flag: time: invalid duration "${o.timeout}"`);
  const { targets: ts, errors } = await targets(f, args, o, 'rollout status');
  if (errors.length) reportErrors(f, errors);
  if (ts.length !== 1) throw new CliError(`rollout status is only supported on individual resources and resource collections, but got ${ts.length} resources`);
  const t = ts[0];
  let state = rolloutState(t.object);
  f.io.out.write(state.message);
  if (state.done || !o.watch) return;
  const client = await f.client();
  const ac = new AbortController();
  let timedOut = false;
  const timer = timeoutMs ? setTimeout(() => { timedOut = true; ac.abort(); }, timeoutMs) : undefined;
  let last = state.message;
  try {
    let rv = t.object.metadata?.resourceVersion;
    while (!ac.signal.aborted) {
      try {
        for await (const ev of client.watch<KubeObject>(asDef(t.mapping), t.namespace, { fieldSelector: `metadata.name=${t.name}`, resourceVersion: rv, signal: ac.signal })) {
          if (ev.type === 'DELETED') throw new CliError(`object has been deleted`);
          if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
          rv = ev.object.metadata?.resourceVersion;
          state = rolloutState({ ...ev.object, kind: t.object.kind, apiVersion: t.object.apiVersion });
          if (state.message !== last || !state.done) f.io.out.write(state.message);
          last = state.message;
          if (state.done) return;
        }
      } catch (err) {
        if (ac.signal.aborted) break;
        if ((err as { code?: number }).code === 410) { rv = undefined; continue; }
        throw err;
      }
    }
    if (timedOut) throw new CliError('timed out waiting for the condition');
  } finally {
    if (timer) clearTimeout(timer);
  }
}

interface ReplicaSet extends KubeObject {
  metadata: KubeObject['metadata'] & { ownerReferences?: { uid?: string; controller?: boolean }[] };
  spec?: { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } & Record<string, unknown>; spec?: unknown } };
}

/** The Deployment's ReplicaSets (controller owner = its uid) by revision, as kubectl's deployment history viewer reads them. */
async function deploymentRevisions(f: Factory, t: Target): Promise<Map<number, ReplicaSet>> {
  if (t.mapping.kind !== 'Deployment') {
    const group = t.mapping.group ? `.${t.mapping.group}` : '';
    throw new CliError(`k8ts-kubectl: rollout history and undo for ${t.mapping.kind}${group} are not supported yet (deployments only)`);
  }
  const client = await f.client();
  const sel = (t.object as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector?.matchLabels ?? {};
  const list = await client.request<{ items?: ReplicaSet[] }>('GET', `/apis/apps/v1/namespaces/${encodeURIComponent(t.namespace ?? '')}/replicasets`, {
    query: { labelSelector: Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') || undefined }, accept: 'application/json',
  });
  const out = new Map<number, ReplicaSet>();
  for (const rs of list.items ?? []) {
    if (!rs.metadata.ownerReferences?.some((r) => r.controller && r.uid === t.object.metadata?.uid)) continue;
    const rev = Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '');
    if (Number.isInteger(rev) && rev > 0) out.set(rev, rs);
  }
  return out;
}

async function rolloutHistory(f: Factory, args: string[], o: CommonOptions & { revision: string }): Promise<void> {
  const revision = Number(o.revision);
  if (!Number.isInteger(revision) || revision < 0) throw new CliError(`revision must be a positive integer: ${o.revision}`);
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets: ts, errors } = await targets(f, args, o, 'rollout history');
  for (const t of ts) {
    const revs = await deploymentRevisions(f, t);
    if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') {
      const picked = revision ? [revs.get(revision)] : [...revs.keys()].sort((a, b) => a - b).map((r) => revs.get(r));
      if (revision && !picked[0]) throw new CliError(`unable to find the specified revision`);
      f.io.out.write(printObjects(picked as KubeObject[], fmt, !!revision));
      continue;
    }
    if (revision) {
      const rs = revs.get(revision);
      if (!rs) throw new CliError(`unable to find the specified revision`);
      const { toGoYaml } = await import('../printers/index.js');
      f.io.out.write(`${targetName(t)} with revision #${revision}\nPod Template:\n${toGoYaml(rs.spec?.template ?? {}).replace(/^/gm, '  ').replace(/ +$/, '')}\n`);
      continue;
    }
    const rows = [['REVISION', 'CHANGE-CAUSE'], ...[...revs.keys()].sort((a, b) => a - b)
      .map((r) => [String(r), revs.get(r)!.metadata.annotations?.['kubernetes.io/change-cause'] || '<none>'])];
    f.io.out.write(`${targetName(t)} \n${revs.size ? `${tabwrite(rows)}\n` : 'No rollout history found.\n'}`);
  }
  reportErrors(f, errors);
}

/** A pod template with the pod-template-hash label dropped, as kubectl's rollback compares and writes it. */
function templateOf(rs: ReplicaSet): Record<string, unknown> {
  const tpl = structuredClone(rs.spec?.template ?? {}) as { metadata?: { labels?: Record<string, string> } & Record<string, unknown> };
  if (tpl.metadata?.labels) {
    delete tpl.metadata.labels['pod-template-hash'];
  }
  // As Go's typed PodTemplateSpec serializes: `creationTimestamp: null`, containers with `resources: {}`.
  tpl.metadata = { ...(tpl.metadata ?? {}), creationTimestamp: tpl.metadata?.creationTimestamp ?? null };
  const spec = (tpl as { spec?: Record<string, unknown> }).spec;
  for (const key of ['initContainers', 'containers']) for (const c of (spec?.[key] as Record<string, unknown>[] | undefined) ?? []) c.resources ??= {};
  return tpl as Record<string, unknown>;
}

/** Templates compared the way the apiserver's defaults leave them: `creationTimestamp: null` and `resources: {}` ignored. */
function normaliseTemplate(tpl: unknown): unknown {
  return JSON.parse(JSON.stringify(tpl, (k, v) => {
    if (k === 'creationTimestamp' && v === null) return undefined;
    if (k === 'resources' && v && typeof v === 'object' && !Object.keys(v).length) return undefined;
    return v;
  }));
}

async function rolloutUndo(f: Factory, args: string[], o: CommonOptions & { toRevision: string }): Promise<void> {
  const toRevision = Number(o.toRevision);
  const dryRun = parseDryRun(o.dryRun);
  const { targets: ts, errors } = await targets(f, args, o, 'rollout undo');
  for (const t of ts) {
    try {
      const revs = await deploymentRevisions(f, t);
      const name = t.name;
      if (!revs.size) throw new CliError(`no rollout history found for deployment "${name}"`);
      let rs: ReplicaSet | undefined;
      let rev = toRevision;
      if (toRevision > 0) {
        rs = revs.get(toRevision);
        if (!rs) throw new CliError(`unable to find specified revision ${toRevision} in history`);
      } else {
        const sorted = [...revs.keys()].sort((a, b) => b - a);
        if (sorted.length < 2) throw new CliError(`no revision found for deployment "${name}"`);
        rev = sorted[1];
        rs = revs.get(rev)!;
      }
      const dep = t.object as KubeObject & { spec?: { template?: unknown; paused?: boolean } };
      if (dep.spec?.paused) throw new CliError(`you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again`);
      const tpl = templateOf(rs);
      if (deepEqual(normaliseTemplate(tpl), normaliseTemplate(dep.spec?.template))) {
        f.io.out.write(`${targetName(t)} skipped rollback (current template already matches revision ${rev})\n`);
        continue;
      }
      // The deployment's annotations, with the rolled-back ReplicaSet's own (kubectl's annotationsToSkip left alone).
      const skip = new Set(['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision', 'deployment.kubernetes.io/revision-history',
        'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to']);
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(dep.metadata?.annotations ?? {})) if (skip.has(k)) annotations[k] = v;
      for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) if (!skip.has(k)) annotations[k] = v;
      const patch = [{ op: 'replace', path: '/spec/template', value: tpl }, { op: 'replace', path: '/metadata/annotations', value: annotations }];
      if (dryRun === 'client') {
        const { toGoYaml } = await import('../printers/index.js');
        f.io.out.write(`${targetName(t)} Pod Template:\n${toGoYaml(tpl).replace(/^/gm, '  ').replace(/ +$/, '')} (dry run)\n`);
        continue;
      }
      let result: KubeObject = t.object;
      try {
        result = await patchTarget(f, t, patch, 'json', { dryRun: dryRun === 'server' ? 'All' : undefined });
      } catch (err) {
        throw new CliError(`failed restoring revision ${toRevision}: ${(err as Error).message}`, { cause: err });
      }
      const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
      if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, true));
      else f.io.out.write(`${targetName(t)} rolled back${dryRunSuffix(dryRun)}\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  reportErrors(f, errors);
}

async function rolloutRestart(f: Factory, args: string[], o: CommonOptions): Promise<void> {
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets: ts, errors } = await targets(f, args, o, 'rollout restart');
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const t of ts) {
    try {
      const kind = t.mapping.kind;
      if (!['Deployment', 'DaemonSet', 'StatefulSet'].includes(kind)) {
        throw new CliError(`${t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource} "${t.name}" restarting is not supported`);
      }
      if ((t.object as { spec?: { paused?: boolean } }).spec?.paused) throw new CliError(`${t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource} "${t.name}" can't restart paused deployment (run rollout resume first)`);
      const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': now } } } } };
      const result = await patchTarget(f, t, patch, 'strategic', { fieldManager: o.fieldManager });
      if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, true));
      else f.io.out.write(`${targetName(t)} restarted\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  reportErrors(f, errors);
}

async function rolloutPause(f: Factory, args: string[], o: CommonOptions, paused: boolean): Promise<void> {
  const fmt = o.output ? await parseOutputFormat(o.output, o.template) : undefined;
  const { targets: ts, errors } = await targets(f, args, o, paused ? 'rollout pause' : 'rollout resume');
  const verb = paused ? 'paused' : 'resumed';
  for (const t of ts) {
    try {
      if (t.mapping.kind !== 'Deployment') throw new CliError(`${t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource} "${t.name}" ${paused ? 'pausing' : 'resuming'} is not supported`);
      const current = !!(t.object as { spec?: { paused?: boolean } }).spec?.paused;
      if (current === paused) throw new CliError(`${t.mapping.group ? `${t.mapping.resource}.${t.mapping.group}` : t.mapping.resource} "${t.name}" is ${paused ? 'already paused' : 'not paused'}`);
      const result = await patchTarget(f, t, { spec: { paused: paused ? true : null } }, 'strategic', { fieldManager: o.fieldManager });
      if (fmt && fmt.kind !== 'table' && fmt.kind !== 'wide') f.io.out.write(printObjects([result], fmt, true));
      else f.io.out.write(`${targetName(t)} ${verb}\n`);
    } catch (err) {
      errors.push(err);
    }
  }
  reportErrors(f, errors);
}
