import { describe, expect, it } from 'vitest';
import { formatFieldError, type KubeObject } from '@k8ts/api';
import { applyDefaults, validate } from './index.js';
import { validateLabels } from './shared/validation.js';

// Upstream's messages, spelled out once (note the double space upstream's RegexError puts between examples).
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const POD_UPDATE = 'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

describe('validateLabels', () => {
  it.each([
    [{ app: 'web', 'app.kubernetes.io/name': 'x', empty: '' }, []],
    [{ 'bad key': 'v' }, [`metadata.labels: Invalid value: "bad key": ${QNAME_MSG}`]],
    [{ 'Example.com/x': 'v' }, [`metadata.labels: Invalid value: "Example.com/x": prefix part ${SUBDOMAIN_MSG}`]],
    [{ '/x': 'v' }, ['metadata.labels: Invalid value: "/x": prefix part must be non-empty']],
    [{ app: 'a b' }, [`metadata.labels: Invalid value: "a b": ${LABEL_VALUE_MSG}`]],
    [{ app: 'v'.repeat(64) }, [`metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`]],
    ['not-a-map', ['metadata.labels: Invalid value: "not-a-map": must be a map of string keys to string values']],
  ])('%j', (labels, want) => {
    expect(validateLabels(labels, 'metadata.labels').map(formatFieldError)).toEqual(want);
  });
});

/** Renders validate()'s errors as upstream prints them. */
function check(group: string, kind: string, obj: unknown, old?: unknown): string[] {
  return validate(group, kind, obj as KubeObject, old as KubeObject | undefined).map(formatFieldError);
}
/** The object as the server would validate it: defaulted first. */
function defaulted<T>(group: string, kind: string, obj: T): T {
  const copy = structuredClone(obj);
  applyDefaults(group, kind, copy as KubeObject);
  return copy;
}

const meta = (name = 'web', extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', ...extra });
const podSpec = (extra: Record<string, unknown> = {}) => ({ containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra });
const pod = (spec: Record<string, unknown> = {}, metaExtra: Record<string, unknown> = {}) =>
  defaulted('', 'Pod', { metadata: meta('web', metaExtra), spec: podSpec(spec) });
const template = (labels: Record<string, string> | null = { app: 'web' }, spec: Record<string, unknown> = {}) =>
  ({ metadata: labels ? { labels } : {}, spec: podSpec(spec) });
const selector = { matchLabels: { app: 'web' } };

describe('metadata', () => {
  it.each([
    ['valid pod', '', 'Pod', pod(), []],
    ['no name', '', 'Pod', { ...pod(), metadata: { namespace: 'default' } }, ['metadata.name: Required value: name or generateName is required']],
    ['bad pod name', '', 'Pod', { ...pod(), metadata: meta('Web_1') }, [`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN_MSG}`]],
    ['dotted pod name is fine', '', 'Pod', { ...pod(), metadata: meta('web.v1') }, []],
    ['no namespace', '', 'ConfigMap', { metadata: { name: 'cfg' } }, ['metadata.namespace: Required value']],
    ['bad namespace', '', 'ConfigMap', { metadata: { name: 'cfg', namespace: 'My_NS' } }, [`metadata.namespace: Invalid value: "My_NS": ${LABEL_MSG}`]],
    ['namespace on a cluster-scoped kind', '', 'Node', { metadata: { name: 'n1', namespace: 'default' } }, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['namespace name is a label', '', 'Namespace', { metadata: { name: 'team.a' } }, ['metadata.name: Invalid value: "team.a": must not contain dots']],
    ['service name is a DNS-1035 label', '', 'Service', defaulted('', 'Service', { metadata: meta('1web'), spec: { ports: [{ port: 80 }] } }),
      [`metadata.name: Invalid value: "1web": ${DNS1035_MSG}`]],
    ['bad label', '', 'ConfigMap', { metadata: meta('cfg', { labels: { 'a/b/c': 'x' } }) },
      ["metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
    ['annotations too large', '', 'ConfigMap', { metadata: meta('cfg', { annotations: { big: 'x'.repeat(256 * 1024) } }) },
      ['metadata.annotations: Too long: may not be more than 262144 bytes']],
    ['lease needs only a name', 'coordination.k8s.io', 'Lease', { metadata: meta('kube-scheduler', { namespace: 'kube-system' }), spec: {} }, []],
  ])('%s', (_, group, kind, obj, want) => {
    expect(check(group, kind, obj)).toEqual(want);
  });
});

describe('pods', () => {
  it.each([
    ['no containers', pod({ containers: [] }), ['spec.containers: Required value']],
    ['missing image and name', pod({ containers: [{ name: '' }] }), ['spec.containers[0].name: Required value', 'spec.containers[0].image: Required value']],
    ['bad and duplicate names', pod({ containers: [{ name: 'App', image: 'a' }, { name: 'b', image: 'b' }], initContainers: [{ name: 'b', image: 'c' }] }),
      [`spec.containers[0].name: Invalid value: "App": ${LABEL_MSG}`, 'spec.initContainers[0].name: Duplicate value: "b"']],
    ['ports', pod({ containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP', hostPort: -1 }, { containerPort: 0 }] }] }), [
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[2].containerPort: Required value',
    ]],
    ['port names', pod({ containers: [{ name: 'app', image: 'a', ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }, { name: 'Web', containerPort: 82 }] }] }), [
      'spec.containers[0].ports[1].name: Duplicate value: "http"',
      'spec.containers[0].ports[2].name: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]],
    ['restart policy', pod({ restartPolicy: 'Sometimes' }), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['pull policy and volumes', pod({ containers: [{ name: 'app', image: 'a', imagePullPolicy: 'Maybe' }], volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }] }), [
      'spec.volumes[1].name: Duplicate value: "v"',
      'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
    ]],
    ['liveness success threshold', pod({ containers: [{ name: 'app', image: 'a', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] }),
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['active deadline', pod({ activeDeadlineSeconds: 0 }), ['spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive']],
  ])('create: %s', (_, obj, want) => {
    expect(check('', 'Pod', obj)).toEqual(want);
  });

  const base = pod({ nodeName: 'node-1', tolerations: [{ key: 'a', operator: 'Exists' }], activeDeadlineSeconds: 100 });
  const changed = (fn: (p: any) => void) => { const p = structuredClone(base) as any; fn(p); return p; };
  it.each([
    ['image change', changed((p) => { p.spec.containers[0].image = 'nginx:1.28'; }), []],
    ['labels change', changed((p) => { p.metadata.labels = { a: 'b' }; }), []],
    ['toleration added', changed((p) => { p.spec.tolerations.push({ key: 'b', operator: 'Exists' }); }), []],
    ['deadline lowered', changed((p) => { p.spec.activeDeadlineSeconds = 50; }), []],
    ['status only', changed((p) => { p.status = { phase: 'Running' }; }), []],
    ['port change', changed((p) => { p.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }]; }), [POD_UPDATE]],
    ['node change', changed((p) => { p.spec.nodeName = 'node-2'; }), [POD_UPDATE]],
    ['toleration removed', changed((p) => { p.spec.tolerations = []; }), [POD_UPDATE]],
    ['container added', changed((p) => { p.spec.containers.push({ name: 'b', image: 'b', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }); }),
      ['spec.containers: Forbidden: pod updates may not add or remove containers']],
    ['deadline raised', changed((p) => { p.spec.activeDeadlineSeconds = 200; }), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']],
    ['deadline removed', changed((p) => { delete p.spec.activeDeadlineSeconds; }), ['spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value']],
  ])('update: %s', (_, obj, want) => {
    expect(check('', 'Pod', obj, base)).toEqual(want);
  });
});

describe('services', () => {
  const svc = (spec: Record<string, unknown>) => defaulted('', 'Service', { metadata: meta(), spec });
  it.each([
    ['valid', svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }), []],
    ['no ports', svc({ selector: { app: 'web' } }), ['spec.ports: Required value']],
    ['headless without ports', svc({ clusterIP: 'None' }), []],
    ['external name', svc({ type: 'ExternalName', externalName: 'db.example.com' }), []],
    ['external name missing', svc({ type: 'ExternalName' }), ['spec.externalName: Required value']],
    ['bad type and ports', svc({ type: 'Magic', ports: [{ port: 0, name: 'a' }, { port: 80, targetPort: 99999, name: 'a' }, { port: 81, protocol: 'ICMP' }] }), [
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      // targetPort defaults to port, so upstream reports it too.
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].name: Duplicate value: "a"',
      'spec.ports[1].targetPort: Invalid value: 99999: must be between 1 and 65535, inclusive',
      'spec.ports[2].name: Required value',
      'spec.ports[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]],
    ['node port on cluster IP', svc({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
  ])('create: %s', (_, obj, want) => {
    expect(check('', 'Service', obj)).toEqual(want);
  });

  const old = svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] });
  it.each([
    ['same IP', svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 81 }] }), []],
    ['changed IP', svc({ clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }),
      ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set']],
    ['to ExternalName', svc({ type: 'ExternalName', externalName: 'x.example.com' }), []],
  ])('update: %s', (_, obj, want) => {
    expect(check('', 'Service', obj, old)).toEqual(want);
  });
});

describe('workloads', () => {
  const deploy = (spec: Record<string, unknown>) => defaulted('apps', 'Deployment', { metadata: meta(), spec: { selector, template: template(), ...spec } });
  it.each([
    ['valid deployment', 'Deployment', deploy({}), []],
    ['no selector', 'Deployment', deploy({ selector: undefined }), ['spec.selector: Required value']],
    ['empty selector', 'Deployment', deploy({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    ['selector mismatch', 'Deployment', deploy({ template: template({ app: 'api' }) }),
      ['spec.template.metadata.labels: Invalid value: {"app":"api"}: `selector` does not match template `labels`']],
    ['expression selector mismatch', 'Deployment', deploy({ selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    ['bad expression', 'Deployment', deploy({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Near' }, { key: 'y', operator: 'In' }] } }), [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
      "spec.selector.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]],
    ['negative replicas', 'Deployment', deploy({ replicas: -1 }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['restart policy', 'Deployment', deploy({ template: template({ app: 'web' }, { restartPolicy: 'Never' }) }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['bad container in template', 'Deployment', deploy({ template: template({ app: 'web' }, { containers: [{ name: 'app' }] }) }),
      ['spec.template.spec.containers[0].image: Required value']],
    ['recreate with rolling params', 'Deployment', deploy({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['valid replicaset', 'ReplicaSet', defaulted('apps', 'ReplicaSet', { metadata: meta(), spec: { selector, template: template() } }), []],
    ['replicaset empty selector', 'ReplicaSet', defaulted('apps', 'ReplicaSet', { metadata: meta(), spec: { selector: { matchLabels: {} }, template: template() } }),
      ['spec.selector: Invalid value: {"matchLabels":{}}: empty selector is invalid for deployment']],
    ['daemonset without selector', 'DaemonSet', defaulted('apps', 'DaemonSet', { metadata: meta(), spec: { template: template() } }), ['spec.selector: Required value']],
    ['statefulset template labels missing', 'StatefulSet', defaulted('apps', 'StatefulSet', { metadata: meta(), spec: { selector, serviceName: 'web', template: template(null) } }),
      ['spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`']],
    ['valid daemonset, defaulted to RollingUpdate maxUnavailable 1', 'DaemonSet', defaulted('apps', 'DaemonSet', { metadata: meta(), spec: { selector, template: template() } }), []],
    ['daemonset with maxUnavailable and maxSurge 0', 'DaemonSet', defaulted('apps', 'DaemonSet', { metadata: meta(), spec: { selector, template: template(), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0']],
    ['daemonset with a bad strategy', 'DaemonSet', defaulted('apps', 'DaemonSet', { metadata: meta(), spec: { selector, template: template(), updateStrategy: { type: 'Recreate' } } }),
      ['spec.updateStrategy.type: Unsupported value: "Recreate": supported values: "OnDelete", "RollingUpdate"']],
    ['daemonset maxSurge over 100%', 'DaemonSet', defaulted('apps', 'DaemonSet', { metadata: meta(), spec: { selector, template: template(), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%' } } } }),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%']],
    ['statefulset with a bad policy, partition and retention', 'StatefulSet', defaulted('apps', 'StatefulSet', { metadata: meta(), spec: {
      selector, serviceName: 'web', template: template(), podManagementPolicy: 'Burst', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } },
      persistentVolumeClaimRetentionPolicy: { whenScaled: 'Keep' } } }), [
      'spec.podManagementPolicy: Unsupported value: "Burst": supported values: "OrderedReady", "Parallel"',
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0',
      'spec.persistentVolumeClaimRetentionPolicy.whenScaled: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ]],
    ['statefulset OnDelete with rollingUpdate', 'StatefulSet', defaulted('apps', 'StatefulSet', { metadata: meta(), spec: { selector, template: template(), updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } } }),
      ['spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy \'RollingUpdate\'']],
  ])('create: %s', (_, kind, obj, want) => {
    expect(check('apps', kind, obj)).toEqual(want);
  });

  const sts = (spec: Record<string, unknown>) => defaulted('apps', 'StatefulSet', { metadata: meta(), spec: { selector, serviceName: 'web', template: template(), ...spec } });
  it.each([
    ['deployment scaled and new image', 'Deployment', deploy({}), deploy({ replicas: 5, template: template({ app: 'web' }, { containers: [{ name: 'app', image: 'nginx:1.28' }] }) }), []],
    ['deployment selector changed', 'Deployment', deploy({}),
      deploy({ selector: { matchLabels: { app: 'web', v: '2' } }, template: template({ app: 'web', v: '2' }) }),
      ['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable']],
    ['statefulset scaled', 'StatefulSet', sts({}), sts({ replicas: 3 }), []],
    ['statefulset service name changed', 'StatefulSet', sts({}), sts({ serviceName: 'other' }), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]],
  ])('update: %s', (_, kind, old, obj, want) => {
    expect(check('apps', kind, obj, old)).toEqual(want);
  });
});

describe('jobs', () => {
  const job = (spec: Record<string, unknown>, templateSpec: Record<string, unknown> = { restartPolicy: 'Never' }, status?: Record<string, unknown>) =>
    ({ ...defaulted('batch', 'Job', { metadata: meta('pi', { uid: 'u-1' }), spec: { template: template(null, templateSpec), ...spec } }), ...(status ? { status } : {}) });
  it.each([
    ['generated selector', job({}), []],
    ['no restart policy', job({}, {}), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['restart policy Always', job({}, { restartPolicy: 'Always' }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['manual selector missing', job({ manualSelector: true }), ['spec.selector: Required value']],
    ['manual selector mismatch', job({ manualSelector: true, selector: { matchLabels: { app: 'x' } } }),
      ['spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`']],
    ['negative counts', job({ parallelism: -1, backoffLimit: -2 }),
      ['spec.parallelism: Invalid value: -1: must be greater than or equal to 0', 'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0']],
    ['indexed without completions', job({ completionMode: 'Indexed', parallelism: 2 }), ['spec.completions: Required value: when completion mode is Indexed']],
    ['a selector of its own without manualSelector', job({ selector: { matchLabels: { 'job-name': 'pi' } } }),
      ['spec.selector: Invalid value: {"matchLabels":{"job-name":"pi","batch.kubernetes.io/controller-uid":"u-1"}}: `selector` not auto-generated']],
    ['pod failure policy', job({ podFailurePolicy: { rules: [
      { action: 'FailJob', onExitCodes: { operator: 'In', values: [0, 3, 3] } },
      { action: 'Explode', onPodConditions: [{ type: 'DisruptionTarget' }] },
      { action: 'Ignore' },
    ] } }), [
      'spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Invalid value: 3: duplicate value',
      'spec.podFailurePolicy.rules[1].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[2]: Invalid value: {"action":"Ignore"}: specifying one of OnExitCodes and OnPodConditions is required',
    ]],
    ['the generated selector given back', job({ selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } } }), []],
    ['a selector of another uid without manualSelector', job({ selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-2' } } }), [
      'spec.template.metadata.labels: Invalid value: {"job-name":"pi","batch.kubernetes.io/job-name":"pi","controller-uid":"u-1","batch.kubernetes.io/controller-uid":"u-1"}: `selector` does not match template `labels`',
      'spec.selector: Invalid value: {"matchLabels":{"batch.kubernetes.io/controller-uid":"u-2"}}: `selector` not auto-generated',
    ]],
  ])('create: %s', (_, obj, want) => {
    expect(check('batch', 'Job', obj)).toEqual(want);
  });

  const old = job({});
  const edited = (fn: (j: any) => void, base: unknown = old) => { const j = structuredClone(base) as any; fn(j); return j; };
  const suspended = job({ suspend: true });
  it.each([
    ['labels and status', old, edited((j) => { j.metadata.annotations = { a: 'b' }; j.status = { active: 1 }; }), []],
    ['template image', old, edited((j) => { j.spec.template.spec.containers[0].image = 'perl:2'; }), ['spec.template: Invalid value: ']],
    ['selector', old, edited((j) => { j.spec.selector = { matchLabels: { a: 'b' } }; j.spec.template.metadata.labels.a = 'b'; }),
      ['spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: field is immutable', 'spec.template: Invalid value: ']],
    ['suspended job may move its pods', suspended, edited((j) => { j.spec.template.spec.nodeSelector = { zone: 'a' }; }, suspended), []],
    ['suspended job keeps its image', suspended, edited((j) => { j.spec.template.spec.containers[0].image = 'perl:2'; }, suspended), ['spec.template: Invalid value: ']],
  ])('update: %s', (_, before, after, want) => {
    // The immutable template's value is the whole template; compare up to it.
    const got = check('batch', 'Job', after, before).map((e) => (e.startsWith('spec.template: Invalid value: ') && e.endsWith(': field is immutable') ? 'spec.template: Invalid value: ' : e));
    expect(got).toEqual(want);
  });
});

describe('configmaps and secrets', () => {
  it.each([
    ['valid configmap', '', 'ConfigMap', { metadata: meta('cfg'), data: { 'app.properties': 'x', KEY_NAME: 'y' } }, undefined, []],
    ['bad keys', '', 'ConfigMap', { metadata: meta('cfg'), data: { 'a b': 'x', '..x': 'y' }, binaryData: { c: 'AA==' } }, undefined, [
      `data[a b]: Invalid value: "a b": ${CONFIG_KEY_MSG}`,
      'data[..x]: Invalid value: "..x": must not start with \'..\'',
    ]],
    ['key in both maps', '', 'ConfigMap', { metadata: meta('cfg'), data: { a: 'x' }, binaryData: { a: 'AA==' } }, undefined,
      ['data[a]: Invalid value: "a": duplicate of key present in binaryData']],
    ['too big', '', 'ConfigMap', { metadata: meta('cfg'), data: { a: 'x'.repeat(1024 * 1024 + 1) } }, undefined, ['data: Too long: may not be more than 1048576 bytes']],
    ['immutable configmap changed', '', 'ConfigMap', { metadata: meta('cfg'), immutable: true, data: { a: '2' } }, { metadata: meta('cfg'), immutable: true, data: { a: '1' } },
      ['data: Forbidden: field is immutable when `immutable` is set']],
    ['immutable configmap made mutable', '', 'ConfigMap', { metadata: meta('cfg'), data: { a: '1' } }, { metadata: meta('cfg'), immutable: true, data: { a: '1' } },
      ['immutable: Forbidden: field is immutable when `immutable` is set']],
    ['mutable configmap changed', '', 'ConfigMap', { metadata: meta('cfg'), data: { a: '2' } }, { metadata: meta('cfg'), data: { a: '1' } }, []],
    ['secret keys', '', 'Secret', { metadata: meta('s'), type: 'Opaque', data: { 'ok.key': 'eA==' }, stringData: { 'bad/key': 'x' } }, undefined,
      [`data[bad/key]: Invalid value: "bad/key": ${CONFIG_KEY_MSG}`]],
    ['secret type changed', '', 'Secret', { metadata: meta('s'), type: 'kubernetes.io/tls' }, { metadata: meta('s'), type: 'Opaque' },
      ['type: Invalid value: "kubernetes.io/tls": field is immutable']],
    ['immutable secret, stringData', '', 'Secret', { metadata: meta('s'), type: 'Opaque', immutable: true, data: { a: 'eA==' }, stringData: { a: 'y' } },
      { metadata: meta('s'), type: 'Opaque', immutable: true, data: { a: 'eA==' } }, ['data: Forbidden: field is immutable when `immutable` is set']],
  ])('%s', (_, group, kind, obj, old, want) => {
    expect(check(group, kind, obj, old)).toEqual(want);
  });
});

describe('events, autoscaling, discovery', () => {
  const event = (extra: Record<string, unknown>, ns = 'default') => ({ metadata: { name: 'web.17a', namespace: ns }, reason: 'Scheduled', ...extra });
  it.each([
    ['event', '', 'Event', event({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' } }), []],
    ['event without object', '', 'Event', event({}), ['involvedObject: Required value']],
    ['event in the wrong namespace', '', 'Event', event({ involvedObject: { kind: 'Pod', name: 'web', namespace: 'dev' } }),
      ['involvedObject.namespace: Invalid value: "dev": does not match event.namespace']],
    ['node event in default', '', 'Event', event({ involvedObject: { kind: 'Node', name: 'n1' } }), []],
    ['node event elsewhere', '', 'Event', event({ involvedObject: { kind: 'Node', name: 'n1' } }, 'dev'),
      ['involvedObject.namespace: Invalid value: "": does not match event.namespace']],
    ['hpa', 'autoscaling', 'HorizontalPodAutoscaler', { metadata: meta(), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 } }, []],
    ['hpa bounds', 'autoscaling', 'HorizontalPodAutoscaler', { metadata: meta(), spec: { scaleTargetRef: {}, minReplicas: 5, maxReplicas: 3 } }, [
      'spec.scaleTargetRef.kind: Required value', 'spec.scaleTargetRef.name: Required value',
      'spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`',
    ]],
    ['hpa min zero', 'autoscaling', 'HorizontalPodAutoscaler', { metadata: meta(), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 0, maxReplicas: 0 } }, [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1', 'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    ]],
    ['endpointslice', 'discovery.k8s.io', 'EndpointSlice', { metadata: meta('web-abc'), addressType: 'IPv5', endpoints: [] },
      ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
  ])('%s', (_, group, kind, obj, want) => {
    expect(check(group, kind, obj)).toEqual(want);
  });
});
