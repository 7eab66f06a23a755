import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import { printerFor } from './index.js';
import { humanDuration } from './shared/printing.js';

const NOW = new Date('2026-01-10T12:00:00Z');
/** An RFC 3339 time `ms` before NOW. */
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: ago(3 * D), ...extra });
const row = (group: string, resource: string, obj: unknown) => printerFor(group, resource).row(obj as KubeObject, NOW);

describe('humanDuration', () => {
  it.each([
    [0, '0s'], [-1500, '0s'], [-2 * S, '<invalid>'], [12 * S, '12s'], [119 * S, '119s'], [2 * M, '2m'],
    [2 * M + 30 * S, '2m30s'], [9 * M + 59 * S, '9m59s'], [10 * M + 5 * S, '10m'], [179 * M, '179m'], [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'], [7 * H + 59 * M, '7h59m'], [8 * H + 30 * M, '8h'], [47 * H, '47h'], [48 * H, '2d'],
    [3 * D + 4 * H, '3d4h'], [8 * D + 5 * H, '8d'], [729 * D, '729d'], [730 * D, '2y'], [760 * D, '2y30d'],
    [8 * 365 * D + 40 * D, '8y'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('column definitions', () => {
  it.each([
    ['', 'pods', ['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1']],
    ['', 'nodes', ['Name:0', 'Status:0', 'Roles:0', 'Age:0', 'Version:0', 'Internal-IP:1', 'External-IP:1', 'OS-Image:1', 'Kernel-Version:1', 'Container-Runtime:1']],
    ['', 'services', ['Name:0', 'Type:0', 'Cluster-IP:0', 'External-IP:0', 'Port(s):0', 'Age:0', 'Selector:1']],
    ['', 'events', ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1']],
    ['apps', 'deployments', ['Name:0', 'Ready:0', 'Up-to-date:0', 'Available:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1']],
    ['batch', 'jobs', ['Name:0', 'Status:0', 'Completions:0', 'Duration:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1']],
    ['autoscaling', 'horizontalpodautoscalers', ['Name:0', 'Reference:0', 'Targets:0', 'MinPods:0', 'MaxPods:0', 'Replicas:0', 'Age:0']],
    ['example.com', 'widgets', ['Name:0', 'Age:0']],
  ])('%s/%s', (group, resource, want) => {
    const { columns } = printerFor(group, resource);
    expect(columns.map((c) => `${c.name}:${c.priority}`)).toEqual(want);
    expect(columns.find((c) => c.name === 'Name')?.format).toBe('name');
  });
});

const container = (name: string, image = 'nginx:1.27') => ({ name, image });
const running = (name: string, ready = true, restartCount = 0, extra: Record<string, unknown> = {}) =>
  ({ name, ready, restartCount, state: { running: { startedAt: ago(D) } }, ...extra });
const pod = (spec: Record<string, unknown>, status: Record<string, unknown>, metaExtra: Record<string, unknown> = {}) =>
  ({ metadata: meta('web', metaExtra), spec: { containers: [container('app')], ...spec }, status });

describe('pods', () => {
  it.each([
    ['running, all ready', pod({ containers: [container('a'), container('b')], nodeName: 'node-2' },
      { phase: 'Running', podIP: '10.244.0.20', containerStatuses: [running('a'), running('b')] }),
    ['web', '2/2', 'Running', '0', '3d', '10.244.0.20', 'node-2', '<none>', '<none>']],
    ['pending, unscheduled', pod({}, { phase: 'Pending' }), ['web', '0/1', 'Pending', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['crash loop with restart age', pod({}, {
      phase: 'Running', containerStatuses: [{
        name: 'app', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5 * M) } },
      }],
    }), ['web', '0/1', 'CrashLoopBackOff', '5 (5m ago)', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['image pull', pod({}, { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }] }),
      ['web', '0/1', 'ErrImagePull', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['init container running', pod({ initContainers: [container('init')] }, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, state: { running: {} } }],
      containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    }), ['web', '0/1', 'Init:0/1', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['init container crash looping', pod({ initContainers: [container('init')] }, {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(40 * S) } } }],
    }), ['web', '0/1', 'Init:CrashLoopBackOff', '3 (40s ago)', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['init container failed', pod({ initContainers: [container('init')] }, {
      phase: 'Pending', initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }],
    }), ['web', '0/1', 'Init:ExitCode:2', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['sidecar counts in READY', pod({ initContainers: [{ ...container('proxy'), restartPolicy: 'Always' }] }, {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
      initContainerStatuses: [{ ...running('proxy'), started: true }],
      containerStatuses: [running('app')],
    }), ['web', '2/2', 'Running', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['completed', pod({ restartPolicy: 'Never' }, {
      phase: 'Succeeded', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    }), ['web', '0/1', 'Completed', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['terminated without reason', pod({}, {
      phase: 'Failed', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }],
    }), ['web', '0/1', 'Signal:9', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['terminating', pod({ nodeName: 'n1' }, { phase: 'Running', containerStatuses: [running('app')] }, { deletionTimestamp: ago(S) }),
      ['web', '1/1', 'Terminating', '0', '3d', '<none>', 'n1', '<none>', '<none>']],
    ['evicted keeps the reason', pod({}, { phase: 'Failed', reason: 'Evicted' }), ['web', '0/1', 'Evicted', '0', '3d', '<none>', '<none>', '<none>', '<none>']],
    ['scheduling gated, nominated, readiness gates', pod({ readinessGates: [{ conditionType: 'x/ok' }, { conditionType: 'x/other' }] }, {
      phase: 'Pending', nominatedNodeName: 'n3', podIPs: [{ ip: 'fd00::1' }],
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }, { type: 'x/ok', status: 'True' }],
    }), ['web', '0/1', 'SchedulingGated', '0', '3d', 'fd00::1', '<none>', 'n3', '1/2']],
  ])('%s', (_, obj, want) => {
    expect(row('', 'pods', obj)).toEqual(want);
  });
});

describe('nodes', () => {
  const node = (labels: Record<string, string>, ready: string | undefined, unschedulable = false) => ({
    metadata: meta('node-1', { labels }),
    spec: { unschedulable },
    status: {
      conditions: ready ? [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] : [],
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.2' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.8.0', containerRuntimeVersion: 'docker://27.3.1' },
    },
  });
  it.each([
    ['ready worker', node({}, 'True'), ['node-1', 'Ready', '<none>', '3d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12', '6.8.0', 'docker://27.3.1']],
    ['control plane, cordoned', node({ 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'master' }, 'True', true),
      ['node-1', 'Ready,SchedulingDisabled', 'control-plane,master', '3d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12', '6.8.0', 'docker://27.3.1']],
    ['not ready', node({}, 'Unknown'), ['node-1', 'NotReady', '<none>', '3d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12', '6.8.0', 'docker://27.3.1']],
    ['no conditions yet', node({}, undefined), ['node-1', 'Unknown', '<none>', '3d', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12', '6.8.0', 'docker://27.3.1']],
  ])('%s', (_, obj, want) => {
    expect(row('', 'nodes', obj)).toEqual(want);
  });
});

describe('services', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({ metadata: meta('web'), spec, status });
  it.each([
    ['cluster IP', svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { tier: 'web', app: 'x' } }),
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,53/UDP', '3d', 'app=x,tier=web']],
    ['node port', svc({ type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }),
      ['web', 'NodePort', '10.96.0.11', '<none>', '80:30080/TCP', '3d', '<none>']],
    ['load balancer pending', svc({ type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }),
      ['web', 'LoadBalancer', '10.96.0.12', '<pending>', '443:31443/TCP', '3d', '<none>']],
    ['load balancer with ingress', svc({ type: 'LoadBalancer', clusterIP: '10.96.0.12', externalIPs: ['1.2.3.4'], ports: [] }, { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { hostname: 'lb.example.com' }] } }),
      ['web', 'LoadBalancer', '10.96.0.12', '5.6.7.8,lb.example.com,1.2.3.4', '<none>', '3d', '<none>']],
    ['headless', svc({ type: 'ClusterIP', clusterIP: 'None', ports: [{ port: 5432, protocol: 'TCP' }] }),
      ['web', 'ClusterIP', 'None', '<none>', '5432/TCP', '3d', '<none>']],
    ['external name', svc({ type: 'ExternalName', externalName: 'db.example.com' }),
      ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '3d', '<none>']],
  ])('%s', (_, obj, want) => {
    expect(row('', 'services', obj)).toEqual(want);
  });
});

describe('other core kinds', () => {
  const subset = (ips: string[], ports: number[]) => ({ addresses: ips.map((ip) => ({ ip })), ports: ports.map((port) => ({ port })) });
  it.each([
    ['namespace', '', 'namespaces', { metadata: meta('dev'), status: { phase: 'Active' } }, ['dev', 'Active', '3d']],
    ['endpoints, none', '', 'endpoints', { metadata: meta('web') }, ['web', '<none>', '3d']],
    ['endpoints, two', '', 'endpoints', { metadata: meta('web'), subsets: [subset(['10.0.0.1', 'fd00::2'], [80])] }, ['web', '10.0.0.1:80,[fd00::2]:80', '3d']],
    ['endpoints, more', '', 'endpoints', { metadata: meta('web'), subsets: [subset(['10.0.0.1', '10.0.0.2', '10.0.0.3'], [80, 443])] },
      ['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...', '3d']],
    ['configmap', '', 'configmaps', { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }, ['cfg', 3, '3d']],
    ['secret', '', 'secrets', { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }, ['tls', 'kubernetes.io/tls', 2, '3d']],
    ['service account', '', 'serviceaccounts', { metadata: meta('default') }, ['default', 0, '3d']],
    ['lease', 'coordination.k8s.io', 'leases', { metadata: meta('kube-scheduler'), spec: { holderIdentity: 'cp_1234' } }, ['kube-scheduler', 'cp_1234', '3d']],
    ['unknown kind', 'example.com', 'widgets', { metadata: meta('w') }, ['w', '3d']],
    ['missing timestamp', 'example.com', 'widgets', { metadata: { name: 'w' } }, ['w', '<unknown>']],
  ])('%s', (_, group, resource, obj, want) => {
    expect(row(group, resource, obj)).toEqual(want);
  });
});

describe('events', () => {
  const event = (extra: Record<string, unknown>) => ({
    metadata: meta('web.17a'), involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned default/web to node-1\n', ...extra,
  });
  it.each([
    ['legacy event', event({ firstTimestamp: ago(10 * M), lastTimestamp: ago(2 * M), count: 4, source: { component: 'kubelet', host: 'node-1' } }),
      ['2m', 'Normal', 'Scheduled', 'pod/web', '', 'kubelet, node-1', 'Successfully assigned default/web to node-1', '10m', 4, 'web.17a']],
    ['new-style event', event({ eventTime: ago(30 * S), reportingComponent: 'default-scheduler' }),
      ['30s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler', 'Successfully assigned default/web to node-1', '30s', 1, 'web.17a']],
    ['series', event({ eventTime: ago(H), series: { count: 7, lastObservedTime: ago(S * 5) }, involvedObject: { kind: 'Node', name: '' } }),
      ['5s', 'Normal', 'Scheduled', 'node', '', '', 'Successfully assigned default/web to node-1', '60m', 7, 'web.17a']],
  ])('%s', (_, obj, want) => {
    expect(row('', 'events', obj)).toEqual(want);
  });
});

const template = (containers = [container('nginx'), container('sidecar', 'busybox')]) => ({ metadata: { labels: { app: 'web' } }, spec: { containers } });

describe('workloads', () => {
  it.each([
    ['deployment', 'apps', 'deployments', {
      metadata: meta('web'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, template: template() },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    }, ['web', '2/3', 3, 2, '3d', 'nginx,sidecar', 'nginx:1.27,busybox', 'app=web,env in (dev,prod)']],
    ['deployment, no status yet', 'apps', 'deployments', { metadata: meta('web'), spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: template([container('nginx')]) } },
      ['web', '0/1', 0, 0, '3d', 'nginx', 'nginx:1.27', 'app=web']],
    ['replicaset', 'apps', 'replicasets', {
      metadata: meta('web-5d4f'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template([container('nginx')]) },
      status: { replicas: 3, readyReplicas: 1 },
    }, ['web-5d4f', 3, 3, 1, '3d', 'nginx', 'nginx:1.27', 'app=web']],
    ['daemonset', 'apps', 'daemonsets', {
      metadata: meta('agent'), spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { containers: [container('agent', 'agent:1')], nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2, numberMisscheduled: 0 },
    }, ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '3d', 'agent', 'agent:1', 'app=agent']],
    ['statefulset', 'apps', 'statefulsets', { metadata: meta('db'), spec: { replicas: 3, template: template([container('pg', 'postgres:17')]) }, status: { readyReplicas: 1 } },
      ['db', '1/3', '3d', 'pg', 'postgres:17']],
  ])('%s', (_, group, resource, obj, want) => {
    expect(row(group, resource, obj)).toEqual(want);
  });
});

describe('jobs', () => {
  const job = (spec: Record<string, unknown>, status: Record<string, unknown>, metaExtra = {}) => ({
    metadata: meta('pi', metaExtra), spec: { template: template([container('pi', 'perl')]), selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, ...spec }, status,
  });
  const cond = (type: string) => ({ conditions: [{ type, status: 'True' }] });
  it.each([
    ['complete', job({ completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(2 * M), completionTime: ago(M + 50 * S), ...cond('Complete') }),
      ['pi', 'Complete', '1/1', '10s', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['running', job({ completions: 5, parallelism: 2 }, { succeeded: 2, startTime: ago(3 * M) }),
      ['pi', 'Running', '2/5', '3m', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['work queue', job({ parallelism: 3 }, { succeeded: 0 }), ['pi', 'Running', '0/1 of 3', '', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['failed', job({ completions: 1 }, { failed: 7, startTime: ago(H), ...cond('Failed') }), ['pi', 'Failed', '0/1', '60m', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['success criteria met', job({ completions: 1 }, { succeeded: 1, ...cond('SuccessCriteriaMet') }), ['pi', 'SuccessCriteriaMet', '1/1', '', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['suspended', job({ completions: 1 }, cond('Suspended')), ['pi', 'Suspended', '0/1', '', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
    ['terminating', job({ completions: 1 }, {}, { deletionTimestamp: ago(S) }), ['pi', 'Terminating', '0/1', '', '3d', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u1']],
  ])('%s', (_, obj, want) => {
    expect(row('batch', 'jobs', obj)).toEqual(want);
  });
});

describe('autoscaling and discovery', () => {
  const hpa = (metrics: unknown[] | undefined, current: unknown[] = [], minReplicas: number | null = 1) => ({
    metadata: meta('web'),
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: minReplicas ?? undefined, maxReplicas: 10, metrics },
    status: { currentReplicas: 3, currentMetrics: current },
  });
  const cpu = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });
  it.each([
    ['utilization, no data yet', hpa([cpu({ type: 'Utilization', averageUtilization: 80 })]),
      ['web', 'Deployment/web', 'cpu: <unknown>/80%', '1', 10, 3, '3d']],
    ['utilization with data', hpa([cpu({ type: 'Utilization', averageUtilization: 80 })], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 42, averageValue: '210m' } } }]),
      ['web', 'Deployment/web', 'cpu: 42%/80%', '1', 10, 3, '3d']],
    ['average value, pods metric, and more', hpa([
      cpu({ type: 'AverageValue', averageValue: '500m' }),
      { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } },
      { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
    ], [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '250m' } } }], null),
    ['web', 'Deployment/web', 'cpu: 250m/500m, <unknown>/10 + 1 more...', '<unset>', 10, 3, '3d']],
    ['no metrics', hpa(undefined), ['web', 'Deployment/web', '<none>', '1', 10, 3, '3d']],
  ])('hpa %s', (_, obj, want) => {
    expect(row('autoscaling', 'horizontalpodautoscalers', obj)).toEqual(want);
  });

  const slice = (ports: unknown[], endpoints: unknown[]) => ({ metadata: meta('web-abcde'), addressType: 'IPv4', ports, endpoints });
  it.each([
    ['ports and endpoints', slice([{ port: 80, name: 'http' }, { name: 'metrics' }, {}], [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }]),
      ['web-abcde', 'IPv4', '80,metrics,*', '10.0.0.1,10.0.0.2', '3d']],
    ['empty', slice([], []), ['web-abcde', 'IPv4', '<unset>', '<unset>', '3d']],
    ['many endpoints', slice([{ port: 80 }], [1, 2, 3, 4, 5].map((i) => ({ addresses: [`10.0.0.${i}`] }))),
      ['web-abcde', 'IPv4', '80', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '3d']],
  ])('endpointslice %s', (_, obj, want) => {
    expect(row('discovery.k8s.io', 'endpointslices', obj)).toEqual(want);
  });
});
