import type { KubeObject } from '@k8ts/api';
import type { Factory } from '../factory.js';
import { resolveTargets, targetName, type Target } from './targets.js';

/** Nodes named by `NODE…` or `-l` (cordon, uncordon, drain), read from the server. */
export async function resolveNodes(f: Factory, names: string[], selector: string | undefined, command: string): Promise<{ targets: Target[]; errors: unknown[] }> {
  if (selector && !names.length) return resolveTargets(f, ['nodes'], { selector }, command);
  return resolveTargets(f, ['nodes', ...names], {}, command);
}

/** Sets `spec.unschedulable` as kubectl's cordon helper does (a strategic merge patch), printing kubectl's line. */
export async function setUnschedulable(f: Factory, t: Target, desired: boolean, dryRun: 'none' | 'client' | 'server'): Promise<void> {
  const spec = (t.object as KubeObject & { spec?: { unschedulable?: boolean } }).spec;
  const already = !!spec?.unschedulable === desired;
  const verb = desired ? 'cordoned' : 'uncordoned';
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  if (already) {
    f.io.out.write(`${targetName(t)} already ${verb}${suffix}\n`);
    return;
  }
  if (dryRun !== 'client') {
    const client = await f.client();
    await client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(t.name)}`, {
      body: { spec: { unschedulable: desired ? true : null } }, contentType: 'application/strategic-merge-patch+json',
      accept: 'application/vnd.kubernetes.protobuf, application/json', query: { dryRun: dryRun === 'server' ? 'All' : undefined },
    });
  }
  f.io.out.write(`${targetName(t)} ${verb}${suffix}\n`);
}
