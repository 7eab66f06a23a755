import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, LEASES, NODES, type Lease, type Node } from '@k8ts/api';
import { eventually, startTestApiserver, type TestApiserver } from '../../../test/harness.js';
import { NodeAgent, type NodeAgentOptions } from './node-status.js';
import type { ContainerRuntime } from './runtime.js';

let s: TestApiserver;
let client: ApiClient;
beforeAll(async () => {
  s = await startTestApiserver();
  client = new ApiClient({ server: s.url });
});
afterAll(async () => {
  await client?.close();
  await s?.stop();
});

/** A runtime that answers version() unless `down` holds the error it should fail with. */
function fakeRuntime() {
  const state: { down?: string } = {};
  const runtime = {
    async version() {
      if (state.down) throw new Error(state.down);
      return { runtimeName: 'docker', runtimeVersion: '20.10.24' };
    },
  } as unknown as ContainerRuntime;
  return { runtime, state };
}

function startAgent(nodeName: string, runtime: ContainerRuntime, extra: Partial<NodeAgentOptions> = {}) {
  const ctl = new AbortController();
  const agent = new NodeAgent({
    client, nodeName, runtime, internalIP: '10.0.0.5', kubeletPort: 10250,
    capacity: { cpu: '4', memory: '8Gi', pods: 50 }, labels: { tier: 'test' },
    renewIntervalMs: 100, statusCheckIntervalMs: 100, ...extra,
  });
  const done = agent.run(ctl.signal);
  return { agent, stop: async () => { ctl.abort(); await done; } };
}

const getNode = (name: string) => client.get<Node>(NODES, undefined, name);
const getLease = (name: string) => client.get<Lease>(LEASES, 'kube-node-lease', name);
const condition = (node: Node, type: string) => node.status?.conditions?.find((c) => c.type === type);

describe('NodeAgent against a real apiserver', () => {
  it('registers the Node with labels, addresses, capacity, nodeInfo and conditions, and renews its Lease', async () => {
    const { runtime } = fakeRuntime();
    const a = startAgent('node-a', runtime);
    try {
      const node = await eventually(() => getNode('node-a'), 'node-a registered');
      const arch = os.arch() === 'x64' ? 'amd64' : os.arch();
      expect(node.metadata?.labels).toEqual({
        'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch, tier: 'test',
      });
      const status = node.status!;
      expect(status.addresses).toEqual([{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-a' }]);
      expect(status.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '50' });
      expect(status.allocatable).toEqual(status.capacity);
      expect(status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
      expect(status.nodeInfo).toMatchObject({
        containerRuntimeVersion: 'docker://20.10.24', kubeletVersion: 'v1.32.4-k8ts', operatingSystem: 'linux',
        architecture: arch, kernelVersion: os.release(),
      });
      expect(status.nodeInfo?.osImage).not.toBe('');
      expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ]);
      expect(condition(node, 'Ready')?.message).toBe('kubelet is posting ready status');

      const lease = await eventually(() => getLease('node-a'), 'lease of node-a');
      expect(lease.spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 40 });
      expect(lease.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(lease.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: node.metadata?.uid }]);

      // The lease keeps renewing while the unchanged status is not rewritten (report interval 60s).
      const settled = (await getNode('node-a')).metadata?.resourceVersion;
      let renewTime = lease.spec?.renewTime;
      for (let i = 0; i < 3; i++) {
        renewTime = await eventually(async () => {
          const t = (await getLease('node-a')).spec?.renewTime;
          return t !== renewTime && t;
        }, 'lease renewal');
      }
      expect((await getNode('node-a')).metadata?.resourceVersion).toBe(settled);
    } finally {
      await a.stop();
    }
  });

  it('turns Ready False with the runtime error while the runtime is down and True when it is back', async () => {
    const fake = fakeRuntime();
    const a = startAgent('node-b', fake.runtime);
    try {
      const before = await eventually(async () => {
        const n = await getNode('node-b');
        return condition(n, 'Ready')?.status === 'True' && n;
      }, 'node-b Ready');
      fake.state.down = 'Cannot connect to the Docker daemon';
      const down = await eventually(async () => {
        const n = await getNode('node-b');
        return condition(n, 'Ready')?.status === 'False' && n;
      }, 'node-b NotReady');
      expect(condition(down, 'Ready')).toMatchObject({
        reason: 'KubeletNotReady', message: 'container runtime is down: Cannot connect to the Docker daemon',
      });
      // Only the condition that changed gets a new transition time.
      expect(condition(down, 'MemoryPressure')?.lastTransitionTime).toBe(condition(before, 'MemoryPressure')?.lastTransitionTime);
      fake.state.down = undefined;
      await eventually(async () => condition(await getNode('node-b'), 'Ready')?.reason === 'KubeletReady', 'node-b Ready again');
    } finally {
      await a.stop();
    }
  });

  it('checks status at once when poked, and heartbeats at the report interval', async () => {
    const fake = fakeRuntime();
    const a = startAgent('node-c', fake.runtime, { statusCheckIntervalMs: 3_600_000 });
    try {
      await eventually(() => getNode('node-c'), 'node-c registered');
      fake.state.down = 'socket closed';
      a.agent.poke();
      await eventually(async () => condition(await getNode('node-c'), 'Ready')?.status === 'False', 'node-c NotReady after poke');
    } finally {
      await a.stop();
    }

    fake.state.down = undefined;
    const b = startAgent('node-c', fake.runtime, { statusUpdateIntervalMs: 300 });
    try {
      const ready = await eventually(async () => {
        const n = await getNode('node-c');
        return condition(n, 'Ready')?.status === 'True' && n;
      }, 'node-c Ready');
      const beat = condition(ready, 'Ready')?.lastHeartbeatTime;
      const later = await eventually(async () => {
        const n = await getNode('node-c');
        return condition(n, 'Ready')?.lastHeartbeatTime !== beat && n;
      }, 'a newer heartbeat', 5_000);
      expect(condition(later, 'Ready')?.lastTransitionTime).toBe(condition(ready, 'Ready')?.lastTransitionTime);
      expect(later.metadata?.uid).toBe(ready.metadata?.uid);
    } finally {
      await b.stop();
    }
  });

  it('adopts the existing Node on restart: same uid, no duplicate, labels and status brought up to date', async () => {
    const { runtime } = fakeRuntime();
    const a = startAgent('node-d', runtime);
    const first = await eventually(() => getNode('node-d'), 'node-d registered');
    await eventually(() => getLease('node-d'), 'lease of node-d');
    await a.stop();

    const b = startAgent('node-d', runtime, { labels: { tier: 'prod' }, capacity: { cpu: '8', memory: '8Gi', pods: 60 }, internalIP: '10.0.0.6' });
    try {
      const adopted = await eventually(async () => {
        const n = await getNode('node-d');
        return n.metadata?.labels?.tier === 'prod' && n.status?.capacity?.pods === '60' && n;
      }, 'node-d adopted');
      expect(adopted.metadata?.uid).toBe(first.metadata?.uid);
      expect(adopted.status?.addresses?.[0]).toEqual({ type: 'InternalIP', address: '10.0.0.6' });
      expect(adopted.status?.capacity?.cpu).toBe('8');
      const nodes = await client.list<Node>(NODES);
      expect(nodes.items.filter((n) => n.metadata?.name === 'node-d')).toHaveLength(1);
      const lease = await getLease('node-d');
      const renewed = lease.spec?.renewTime;
      await eventually(async () => (await getLease('node-d')).spec?.renewTime !== renewed, 'lease renewed by the new agent');
      expect(lease.metadata?.ownerReferences?.[0]?.uid).toBe(first.metadata?.uid);
    } finally {
      await b.stop();
    }
  });
});
