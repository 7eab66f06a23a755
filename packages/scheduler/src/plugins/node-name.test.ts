import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { fitsNodeName, nodeName } from './node-name.js';

const pod = (nodeName?: string): Pod => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], nodeName } });
const node: Node = { metadata: { name: 'n1' } };

describe('NodeName', () => {
  it.each([
    ['no nodeName', undefined, true],
    ['the same node', 'n1', true],
    ['another node', 'n2', false],
  ])('%s', (_name, requested, fits) => {
    expect(fitsNodeName(pod(requested), node)).toBe(fits);
    const status = nodeName().filter(pod(requested), newNodeInfo(node), { allNodes: [], data: new Map() });
    expect(status).toEqual(fits
      ? { code: 'Success', reasons: [] }
      : { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match the requested node name"] });
  });

  it('is named as upstream', () => expect(nodeName().name).toBe('NodeName'));
});
