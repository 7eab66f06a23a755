import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { ERR_REASON_UNSCHEDULABLE, nodeUnschedulable, schedulableFor } from './node-unschedulable.js';

type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];
const pod = (tolerations?: Toleration[]): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], tolerations } });
const node = (unschedulable?: boolean): Node => ({ metadata: { name: 'n1' }, spec: { unschedulable } });

describe('NodeUnschedulable', () => {
  it.each([
    ['a schedulable node', false, undefined, true],
    ['a cordoned node', true, undefined, false],
    ['a cordoned node, pod tolerates the taint exactly', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], true],
    ['a cordoned node, pod tolerates everything', true, [{ operator: 'Exists' }], true],
    ['a cordoned node, toleration for another effect', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }], false],
    ['a cordoned node, toleration for another key', true, [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }], false],
  ] as [string, boolean, Toleration[] | undefined, boolean][])('%s', (_name, cordoned, tolerations, fits) => {
    expect(schedulableFor(pod(tolerations), node(cordoned))).toBe(fits);
    const status = nodeUnschedulable().filter(pod(tolerations), newNodeInfo(node(cordoned)), { allNodes: [], data: new Map() });
    expect(status).toEqual(fits ? { code: 'Success', reasons: [] } : { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_UNSCHEDULABLE] });
  });

  it('is named as upstream and gives its reason', () => {
    expect(nodeUnschedulable().name).toBe('NodeUnschedulable');
    expect(ERR_REASON_UNSCHEDULABLE).toBe('node(s) were unschedulable');
  });
});
