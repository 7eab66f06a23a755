import type { Node } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { isObj, type Obj } from '../shared/validation.js';

function defaultNode(node: Obj): void {
  const status = node.status;
  if (isObj(status) && isObj(status.capacity) && status.allocatable === undefined) status.allocatable = { ...status.capacity };
}

/** Roles from `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value, sorted. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const printer: Printer = {
  columns: [
    NAME,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    AGE,
    column('Version', 'Kubelet version reported by the node.'),
    column('Internal-IP', 'The first InternalIP address of the node.', 1),
    column('External-IP', 'The first ExternalIP address of the node.', 1),
    column('OS-Image', 'OS image reported by the node.', 1),
    column('Kernel-Version', 'Kernel version reported by the node.', 1),
    column('Container-Runtime', 'Container runtime version reported by the node.', 1),
  ],
  row(obj, now) {
    const node = obj as Node;
    const readyCondition = node.status?.conditions?.find((c) => c.type === 'Ready');
    const status = [readyCondition ? (readyCondition.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
    const info = node.status?.nodeInfo;
    return [
      nameOf(node), status.join(','), nodeRoles(node), age(node, now), info?.kubeletVersion ?? '',
      address('InternalIP'), address('ExternalIP'),
      info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};

/** Nodes (upstream's pkg/registry/core/node): the kubelet registers its node with status and may update it in place. */
export const nodeStrategy = defineStrategy('', 'v1', 'nodes', {
  defaults: defaultNode,
  initialStatus: (node) => node.status ?? {},
  prepareForUpdate: () => undefined,
  fields: (n: Obj) => ({ 'spec.unschedulable': String(Boolean(n.spec?.unschedulable)) }),
  printer,
});
