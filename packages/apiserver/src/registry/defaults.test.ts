import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@k8ts/api';
import { applyDefaults } from './index.js';

/** What upstream adds to a bare container with this image (and pull policy). */
const defaultedContainer = (name: string, image: string, imagePullPolicy: string, extra: Record<string, unknown> = {}) => ({
  name, image, imagePullPolicy, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', ...extra,
});
/** What upstream adds to a pod spec, or to a pod template's spec. */
const defaultedSpec = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  containers, dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30,
  schedulerName: 'default-scheduler', ...extra,
});
const template = (containers = [{ name: 'app', image: 'nginx:1.27' }]) => ({ metadata: { labels: { app: 'web' } }, spec: { containers } });
const defaultedTemplate = { metadata: { labels: { app: 'web' } }, spec: defaultedSpec([defaultedContainer('app', 'nginx:1.27', 'IfNotPresent')]) };
const meta = { name: 'web', namespace: 'default' };

function defaulted(group: string, kind: string, obj: unknown): KubeObject {
  const out = structuredClone(obj) as KubeObject;
  applyDefaults(group, kind, out);
  return out;
}

const cases: [string, string, string, unknown, unknown][] = [
  ['pod, minimal', '', 'Pod',
    { metadata: meta, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    { metadata: meta, spec: defaultedSpec([defaultedContainer('app', 'nginx', 'Always')], { enableServiceLinks: true }) }],
  ['pod, containers, probes, volumes', '', 'Pod',
    {
      metadata: meta,
      spec: {
        restartPolicy: 'Never', terminationGracePeriodSeconds: 5, enableServiceLinks: false,
        initContainers: [{ name: 'init', image: 'busybox:latest' }],
        containers: [{
          name: 'app', image: 'registry.local:5000/app@sha256:abc', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
          livenessProbe: { httpGet: { port: 80 } }, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 3 },
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        }],
        volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }, { name: 'h', hostPath: { path: '/tmp' } }],
      },
    },
    {
      metadata: meta,
      spec: {
        restartPolicy: 'Never', terminationGracePeriodSeconds: 5, enableServiceLinks: false, dnsPolicy: 'ClusterFirst',
        securityContext: {}, schedulerName: 'default-scheduler',
        initContainers: [defaultedContainer('init', 'busybox:latest', 'Always')],
        containers: [defaultedContainer('app', 'registry.local:5000/app@sha256:abc', 'IfNotPresent', {
          ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }],
          livenessProbe: { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          readinessProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 1, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 },
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } }],
        })],
        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }, { name: 'h', hostPath: { path: '/tmp', type: '' } }],
      },
    }],
  ['pod, host network ports', '', 'Pod',
    { metadata: meta, spec: { hostNetwork: true, containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080 }] }] } },
    {
      metadata: meta,
      spec: defaultedSpec([defaultedContainer('app', 'app:1', 'IfNotPresent', { ports: [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }] })],
        { hostNetwork: true, enableServiceLinks: true }),
    }],
  ['service, cluster IP', '', 'Service',
    { metadata: meta, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https', name: 'https' }] } },
    {
      metadata: meta,
      spec: {
        selector: { app: 'web' }, type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, targetPort: 'https', name: 'https', protocol: 'TCP' }],
      },
    }],
  ['service, load balancer with client IP affinity', '', 'Service',
    { metadata: meta, spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 0, protocol: 'UDP' }] } },
    {
      metadata: meta,
      spec: {
        type: 'LoadBalancer', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ports: [{ port: 80, targetPort: 80, protocol: 'UDP' }], externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster',
        allocateLoadBalancerNodePorts: true,
      },
    }],
  ['service, external name', '', 'Service',
    { metadata: meta, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
    { metadata: meta, spec: { type: 'ExternalName', externalName: 'db.example.com', sessionAffinity: 'None' } }],
  ['endpoints', '', 'Endpoints',
    { metadata: meta, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
    { metadata: meta, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, protocol: 'TCP' }] }] }],
  ['secret', '', 'Secret', { metadata: meta, data: { a: 'YQ==' } }, { metadata: meta, type: 'Opaque', data: { a: 'YQ==' } }],
  ['secret with type', '', 'Secret', { metadata: meta, type: 'kubernetes.io/tls' }, { metadata: meta, type: 'kubernetes.io/tls' }],
  ['configmap is left alone', '', 'ConfigMap', { metadata: meta }, { metadata: meta }],
  ['namespace', '', 'Namespace', { metadata: { name: 'dev' } },
    { metadata: { name: 'dev', labels: { 'kubernetes.io/metadata.name': 'dev' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }],
  ['node', '', 'Node', { metadata: { name: 'n1' }, status: { capacity: { cpu: '4', pods: '110' } } },
    { metadata: { name: 'n1' }, status: { capacity: { cpu: '4', pods: '110' }, allocatable: { cpu: '4', pods: '110' } } }],
  ['deployment', 'apps', 'Deployment',
    { metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } },
    {
      metadata: meta,
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'web' } }, template: defaultedTemplate,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      },
    }],
  ['deployment, recreate and zero replicas', 'apps', 'Deployment',
    { metadata: meta, spec: { replicas: 0, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'web' } }, template: template() } },
    {
      metadata: meta,
      spec: {
        replicas: 0, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'web' } }, template: defaultedTemplate,
        revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      },
    }],
  ['replicaset', 'apps', 'ReplicaSet',
    { metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } },
    { metadata: meta, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: defaultedTemplate } }],
  ['daemonset', 'apps', 'DaemonSet',
    { metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } },
    {
      metadata: meta,
      spec: {
        selector: { matchLabels: { app: 'web' } }, template: defaultedTemplate, revisionHistoryLimit: 10,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      },
    }],
  ['statefulset', 'apps', 'StatefulSet',
    {
      metadata: meta,
      spec: {
        serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: template(),
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      },
    },
    {
      metadata: meta,
      spec: {
        serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: defaultedTemplate, replicas: 1,
        revisionHistoryLimit: 10, podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }, status: { phase: 'Pending' } }],
      },
    }],
  ['job with generated selector', 'batch', 'Job',
    { metadata: { ...meta, uid: 'u-1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } } },
    {
      metadata: {
        ...meta, uid: 'u-1',
        labels: { 'job-name': 'web', 'batch.kubernetes.io/job-name': 'web', 'controller-uid': 'u-1', 'batch.kubernetes.io/controller-uid': 'u-1' },
      },
      spec: {
        completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed',
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } },
        template: {
          metadata: { labels: { 'job-name': 'web', 'batch.kubernetes.io/job-name': 'web', 'controller-uid': 'u-1', 'batch.kubernetes.io/controller-uid': 'u-1' } },
          spec: defaultedSpec([defaultedContainer('pi', 'perl:5.34', 'IfNotPresent')], { restartPolicy: 'Never' }),
        },
      },
    }],
  ['job, manual selector, no restart policy, parallel', 'batch', 'Job',
    {
      metadata: { ...meta, uid: 'u-1' },
      spec: { parallelism: 3, manualSelector: true, selector: { matchLabels: { app: 'web' } }, podFailurePolicy: { rules: [] }, template: template() },
    },
    {
      metadata: { ...meta, uid: 'u-1', labels: { app: 'web' } },
      spec: {
        parallelism: 3, manualSelector: true, selector: { matchLabels: { app: 'web' } }, podFailurePolicy: { rules: [] },
        backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'Failed',
        template: { metadata: { labels: { app: 'web' } }, spec: { ...defaultedSpec([defaultedContainer('app', 'nginx:1.27', 'IfNotPresent')]), restartPolicy: undefined } },
      },
    }],
  ['hpa', 'autoscaling', 'HorizontalPodAutoscaler',
    { metadata: meta, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } },
    {
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, minReplicas: 1,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    }],
  ['hpa with partial behavior', 'autoscaling', 'HorizontalPodAutoscaler',
    { metadata: meta, spec: { minReplicas: 2, maxReplicas: 5, metrics: [{ type: 'Pods' }], behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } },
    {
      metadata: meta,
      spec: {
        minReplicas: 2, maxReplicas: 5, metrics: [{ type: 'Pods' }],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0, selectPolicy: 'Max',
            policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
          },
          scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        },
      },
    }],
  ['endpointslice', 'discovery.k8s.io', 'EndpointSlice',
    { metadata: meta, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [] },
    { metadata: meta, addressType: 'IPv4', ports: [{ port: 80, name: '', protocol: 'TCP' }], endpoints: [] }],
  ['lease is left alone', 'coordination.k8s.io', 'Lease', { metadata: meta, spec: { holderIdentity: 'a' } }, { metadata: meta, spec: { holderIdentity: 'a' } }],
];

describe('applyDefaults', () => {
  it.each(cases)('%s', (_, group, kind, input, want) => {
    // toEqual ignores undefined properties, so `restartPolicy: undefined` asserts the field stays unset.
    expect(defaulted(group, kind, input)).toEqual(want);
  });

  it.each(cases)('%s is idempotent', (_, group, kind, input) => {
    const once = defaulted(group, kind, input);
    expect(defaulted(group, kind, once)).toStrictEqual(once);
  });

  it('leaves a job without uid to be given its selector later', () => {
    const job = defaulted('batch', 'Job', { metadata: meta, spec: { template: template() } }) as any;
    expect(job.spec.selector).toBeUndefined();
    expect(job.metadata.labels).toEqual({ app: 'web' });
  });

  it.each([
    ['nginx', 'Always'], ['nginx:latest', 'Always'], ['nginx:1.27', 'IfNotPresent'], ['localhost:5000/app', 'Always'],
    ['localhost:5000/app:v2', 'IfNotPresent'], ['app@sha256:0123', 'IfNotPresent'], ['app:latest@sha256:0123', 'Always'],
  ])('image %s pulls %s', (image, policy) => {
    const pod = defaulted('', 'Pod', { metadata: meta, spec: { containers: [{ name: 'c', image }] } }) as any;
    expect(pod.spec.containers[0].imagePullPolicy).toBe(policy);
  });
});
