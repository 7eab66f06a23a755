import { errors } from '@k8ts/api';
import { rfc3339 } from '../registry/strategy.js';
import type { ResourceStore } from '../rest-store.js';

/**
 * pods/{name}/binding (upstream's pod BindingREST): assigns an unassigned, live pod to the Binding's target node
 * and marks it PodScheduled.
 */
export async function bindPod(pods: ResourceStore, namespace: string | undefined, name: string, body: unknown, dryRun: boolean): Promise<void> {
  const target = (body as { target?: { name?: string; kind?: string } } | undefined)?.target;
  if (!target?.name) throw errors.invalid('Binding', '', name, [{ field: 'target.name', type: 'FieldValueRequired', message: '' }]);
  await pods.mutate(namespace, name, (pod: any) => {
    if (pod.metadata.deletionTimestamp) throw pods.conflict(name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec.nodeName) throw pods.conflict(name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec.nodeName = target.name;
    const conditions = (pod.status.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() });
    pod.status = { ...pod.status, conditions };
    return pod;
  }, { dryRun, subresource: 'internal', fromCache: true, owned: true });
}
