import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '@k8ts/api';
import { newNodeInfo } from './nodeinfo.js';
import { fitsPorts, hostPortKeys, nodePorts, portConflicts } from './node-ports.js';

type Container = NonNullable<Pod['spec']>['containers'][number];
type Port = NonNullable<Container['ports']>[number];
const pod = (ports: Port[], initContainers: Container[] = []): Pod =>
  ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', ports }], initContainers } });
const node: Node = { metadata: { name: 'n1' } };

describe('hostPortKeys', () => {
  it('lists host ports with defaults, skipping container-only ports and plain init containers', () => {
    const p = pod(
      [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }, { containerPort: 9090 }],
      [
        { name: 'sidecar', image: 'x', restartPolicy: 'Always', ports: [{ containerPort: 15001, hostPort: 15001 }] },
        { name: 'setup', image: 'x', ports: [{ containerPort: 1, hostPort: 1 }] },
      ],
    );
    expect(hostPortKeys(p)).toEqual(['0.0.0.0/TCP/15001', '0.0.0.0/TCP/8080', '10.0.0.1/UDP/53']);
  });
});

describe('portConflicts', () => {
  it.each([
    ['same ip, protocol and port', '10.0.0.1/TCP/80', ['10.0.0.1/TCP/80'], true],
    ['wanted 0.0.0.0 conflicts with any ip', '0.0.0.0/TCP/80', ['10.0.0.1/TCP/80'], true],
    ['used 0.0.0.0 conflicts with any ip', '10.0.0.1/TCP/80', ['0.0.0.0/TCP/80'], true],
    ['different ips', '10.0.0.1/TCP/80', ['10.0.0.2/TCP/80'], false],
    ['different protocol', '0.0.0.0/UDP/80', ['0.0.0.0/TCP/80'], false],
    ['different port', '0.0.0.0/TCP/81', ['0.0.0.0/TCP/80'], false],
    ['nothing used', '0.0.0.0/TCP/80', [], false],
  ])('%s', (_name, wanted, used, conflict) => {
    expect(portConflicts(wanted, new Set(used))).toBe(conflict);
  });
});

describe('NodePorts', () => {
  const existing: Pod = { ...pod([{ containerPort: 80, hostPort: 80 }]), metadata: { name: 'old', namespace: 'default' } };
  it.each([
    ['free port', [{ containerPort: 80, hostPort: 81 }], true],
    ['taken port', [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], false],
    ['no host ports', [{ containerPort: 80 }], true],
  ] as [string, Port[], boolean][])('%s', (_name, ports, fits) => {
    const info = newNodeInfo(node, [existing]);
    expect(fitsPorts(pod(ports), info)).toBe(fits);
    expect(nodePorts().filter(pod(ports), info, { allNodes: [], data: new Map() })).toEqual(fits
      ? { code: 'Success', reasons: [] }
      : { code: 'Unschedulable', reasons: ["node(s) didn't have free ports for the requested pod ports"] });
  });

  it('is named as upstream', () => expect(nodePorts().name).toBe('NodePorts'));
});
