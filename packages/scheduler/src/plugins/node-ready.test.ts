import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { nodeIsReady, nodeReady } from './node-ready.js';

type Toleration = NonNullable<NonNullable<Pod['spec']>['tolerations']>[number];
const pod = (tolerations?: Toleration[]): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], tolerations } });
const node = (ready?: string): Node => ({
  metadata: { name: 'n1' },
  status: { conditions: ready === undefined ? [] : [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] },
});
const NOT_READY = { code: 'UnschedulableAndUnresolvable', reasons: ['node(s) were not ready'] };
const SUCCESS = { code: 'Success', reasons: [] };

describe('NodeReady', () => {
  it.each([
    ['Ready=True', 'True', undefined, SUCCESS],
    ['Ready=False', 'False', undefined, NOT_READY],
    ['Ready=Unknown', 'Unknown', undefined, NOT_READY],
    ['no Ready condition', undefined, undefined, NOT_READY],
    ['not ready, pod tolerates not-ready:NoSchedule', 'False', [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }], SUCCESS],
    ['not ready, pod tolerates not-ready for every effect', 'Unknown', [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }], SUCCESS],
    ['not ready, pod tolerates only not-ready:NoExecute', 'False', [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }], NOT_READY],
  ] as [string, string | undefined, Toleration[] | undefined, unknown][])('%s', (_name, ready, tolerations, expected) => {
    expect(nodeReady().filter(pod(tolerations), newNodeInfo(node(ready)), { allNodes: [], data: new Map() })).toEqual(expected);
  });

  it('reads the Ready condition only', () => {
    expect(nodeIsReady(node('True'))).toBe(true);
    expect(nodeIsReady({ metadata: { name: 'n' } })).toBe(false);
    expect(nodeReady().name).toBe('NodeReady');
  });
});
