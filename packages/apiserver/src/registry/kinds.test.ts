import { describe, expect, it } from 'vitest';
import { formatFieldError, RESOURCES, type KubeObject } from '@k8ts/api';
import { applyDefaults, printerFor, strategyFor, validate } from './index.js';
import { knowsKind } from '../type-check.js';

/*
 * The kinds kubectl's `get all` and default prune list expect: defaults, validation and Table rows of each.
 */

const NOW = new Date('2026-01-10T12:00:00Z');
const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), creationTimestamp: '2026-01-10T11:59:00Z' });
const podTemplate = (labels: Record<string, string>, restartPolicy?: string) =>
  ({ metadata: { labels }, spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'busybox:1' }] } });

function defaulted(group: string, kind: string, obj: unknown): any {
  const copy = structuredClone(obj) as KubeObject;
  applyDefaults(group, kind, copy);
  return copy;
}
const errorsOf = (group: string, kind: string, obj: unknown, old?: unknown) =>
  validate(group, kind, defaulted(group, kind, obj), old === undefined ? undefined : defaulted(group, kind, old)).map(formatFieldError);
const row = (group: string, resource: string, obj: unknown) => printerFor(group, resource).row(obj as KubeObject, NOW);

describe('ReplicationController', () => {
  const rc = (spec: Record<string, unknown>) => ({ metadata: meta('web', 'default'), spec });

  it('defaults selector and labels from the template, one replica, and the pod spec', () => {
    const out = defaulted('', 'ReplicationController', rc({ template: podTemplate({ app: 'web' }) }));
    expect(out.spec.selector).toEqual({ app: 'web' });
    expect(out.metadata.labels).toEqual({ app: 'web' });
    expect(out.spec.replicas).toBe(1);
    expect(out.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' });
  });

  it('refuses a selector that does not select the template, and other restart policies', () => {
    expect(errorsOf('', 'ReplicationController', rc({ selector: { app: 'other' }, template: podTemplate({ app: 'web' }, 'Never') }))).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    expect(errorsOf('', 'ReplicationController', rc({ replicas: -1 }))).toEqual([
      'spec.selector: Required value', 'spec.replicas: Invalid value: -1: must be greater than or equal to 0', 'spec.template: Required value',
    ]);
  });

  it('prints DESIRED, CURRENT, READY and the selector', () => {
    const obj = defaulted('', 'ReplicationController', rc({ replicas: 3, template: podTemplate({ app: 'web' }) }));
    expect(row('', 'replicationcontrollers', { ...obj, status: { replicas: 2, readyReplicas: 1 } }))
      .toEqual(['web', 3, 2, 1, '60s', 'c', 'busybox:1', 'app=web']);
  });
});

describe('PodTemplate', () => {
  it('defaults and validates its template', () => {
    const t = { metadata: meta('t', 'default'), template: podTemplate({ app: 'x' }) };
    expect(defaulted('', 'PodTemplate', t).template.spec.terminationGracePeriodSeconds).toBe(30);
    expect(errorsOf('', 'PodTemplate', t)).toEqual([]);
    expect(errorsOf('', 'PodTemplate', { metadata: meta('t', 'default') })).toEqual(['template: Required value']);
    expect(row('', 'podtemplates', t)).toEqual(['t', 'c', 'busybox:1', 'app=x']);
  });
});

describe('PersistentVolume and PersistentVolumeClaim', () => {
  const pv = (spec: Record<string, unknown>) => ({ metadata: meta('pv1'), spec });
  const pvc = (spec: Record<string, unknown>) => ({ metadata: meta('data', 'default'), spec });

  it('defaults the reclaim policy and volume mode', () => {
    expect(defaulted('', 'PersistentVolume', pv({})).spec).toEqual({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
    expect(defaulted('', 'PersistentVolumeClaim', pvc({})).spec).toEqual({ volumeMode: 'Filesystem' });
  });

  it('requires capacity, access modes and one volume source', () => {
    expect(errorsOf('', 'PersistentVolume', pv({}))).toEqual([
      'spec.accessModes: Required value', 'spec.capacity: Required value', 'spec: Required value: must specify a volume type',
    ]);
    expect(errorsOf('', 'PersistentVolume', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce', 'Sometimes'], hostPath: { path: '/x' }, nfs: { server: 's', path: '/' } })))
      .toEqual([
        'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"',
        'spec.nfs: Forbidden: may not specify more than 1 volume type',
      ]);
  });

  it('requires a storage request, and keeps a claim\'s spec but its requests', () => {
    expect(errorsOf('', 'PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOnce'] }))).toEqual(['spec.resources[storage]: Required value']);
    const claim = pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    const grown = pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } });
    expect(errorsOf('', 'PersistentVolumeClaim', grown, claim)).toEqual([]);
    expect(errorsOf('', 'PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } }), claim))
      .toEqual(['spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims']);
  });

  it('prints access modes in upstream\'s short form, and capacity once bound', () => {
    const vol = defaulted('', 'PersistentVolume', pv({ capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], claimRef: { namespace: 'default', name: 'data' }, hostPath: { path: '/x' } }));
    expect(row('', 'persistentvolumes', { ...vol, status: { phase: 'Bound' } }))
      .toEqual(['pv1', '5Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', '', '<unset>', '', '60s', 'Filesystem']);
    const bound = { ...defaulted('', 'PersistentVolumeClaim', pvc({ volumeName: 'pv1', storageClassName: 'fast' })), status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } };
    expect(row('', 'persistentvolumeclaims', bound)).toEqual(['data', 'Bound', 'pv1', '5Gi', 'RWO', 'fast', '<unset>', '60s', 'Filesystem']);
    expect(row('', 'persistentvolumeclaims', { ...bound, spec: {}, status: { phase: 'Pending' } })[3]).toBe('');
  });
});

describe('LimitRange and ResourceQuota', () => {
  it('defaults a Container item\'s limits from max and requests from them', () => {
    const lr = defaulted('', 'LimitRange', { metadata: meta('l', 'default'), spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '1Mi' } }] } });
    expect(lr.spec.limits[0]).toEqual({ type: 'Container', max: { cpu: '2' }, min: { memory: '1Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '1Mi' } });
  });

  it('refuses unknown types, bad quantities and min above max', () => {
    const lr = (limits: unknown[]) => ({ metadata: meta('l', 'default'), spec: { limits } });
    expect(errorsOf('', 'LimitRange', lr([{ type: 'Node' }, { type: 'Pod', max: { cpu: 'lots' } }, { type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } }]))).toEqual([
      'spec.limits[0].type: Unsupported value: "Node": supported values: "Container", "PersistentVolumeClaim", "Pod"',
      expect.stringMatching(/^spec\.limits\[1\]\.max\[cpu\]: Invalid value: "lots": /),
      'spec.limits[2].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    ]);
  });

  it('validates quota limits and scopes, and prints used/hard', () => {
    const rq = (spec: unknown) => ({ metadata: meta('q', 'default'), spec });
    expect(errorsOf('', 'ResourceQuota', rq({ hard: { pods: '-1', cpu: 'x' }, scopes: ['Sometimes'] }))).toEqual([
      'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
      expect.stringMatching(/^spec\.hard\[cpu\]: Invalid value: "x": /),
      expect.stringMatching(/^spec\.scopes\[0\]: Unsupported value: "Sometimes"/),
    ]);
    const status = { hard: { pods: '10', 'limits.cpu': '2', 'requests.memory': '1Gi' }, used: { pods: '3' } };
    expect(row('', 'resourcequotas', { ...rq({}), status })).toEqual(['q', '60s', 'pods: 3/10, requests.memory: 0/1Gi', 'limits.cpu: 0/2']);
  });
});

describe('CronJob', () => {
  const cj = (spec: Record<string, unknown>, name = 'hello') => ({ metadata: meta(name, 'default'), spec });
  const jobTemplate = (restartPolicy?: string) => ({ spec: { template: podTemplate({}, restartPolicy) } });

  it('defaults policies and history limits, and leaves the job template\'s restartPolicy as given', () => {
    const out = defaulted('batch', 'CronJob', cj({ schedule: '@hourly', jobTemplate: jobTemplate() }));
    expect(out.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(out.spec.jobTemplate.spec.template.spec.restartPolicy).toBeUndefined();
    expect(out.spec.jobTemplate.spec.template.spec.dnsPolicy).toBe('ClusterFirst');
  });

  it('validates the schedule, time zone, policies, name length and the pods\' restart policy', () => {
    expect(errorsOf('batch', 'CronJob', cj({ schedule: '*/5 * * * *', jobTemplate: jobTemplate('OnFailure') }))).toEqual([]);
    expect(errorsOf('batch', 'CronJob', cj({ schedule: '61 * * * *', timeZone: 'Mars/Olympus', concurrencyPolicy: 'Sometimes', jobTemplate: jobTemplate() }, 'x'.repeat(53)))).toEqual([
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
      expect.stringMatching(/^spec\.schedule: Invalid value: "61 \* \* \* \*": /),
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
    expect(errorsOf('batch', 'CronJob', cj({ schedule: '* * * *', jobTemplate: jobTemplate('Never') }))[0])
      .toBe('spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: * * * *');
    expect(errorsOf('batch', 'CronJob', cj({ jobTemplate: jobTemplate('Never') }))).toEqual(['spec.schedule: Required value']);
    // robfig/cron's @midnight and @every, as upstream takes them
    for (const schedule of ['@midnight', '@every 1h30m', '@annually']) expect(errorsOf('batch', 'CronJob', cj({ schedule, jobTemplate: jobTemplate('Never') }))).toEqual([]);
    expect(errorsOf('batch', 'CronJob', cj({ schedule: '@every soon', jobTemplate: jobTemplate('Never') }))[0]).toMatch(/invalid duration "soon"/);
  });

  it('prints schedule, time zone, suspend, active jobs and the last schedule', () => {
    const obj = defaulted('batch', 'CronJob', cj({ schedule: '0 * * * *', timeZone: 'Etc/UTC', jobTemplate: jobTemplate('Never') }));
    expect(row('batch', 'cronjobs', { ...obj, status: { active: [{ name: 'j' }], lastScheduleTime: '2026-01-10T11:00:00Z' } }))
      .toEqual(['hello', '0 * * * *', 'Etc/UTC', 'False', 1, '60m', '60s', 'c', 'busybox:1', '<none>']);
  });
});

describe('Ingress and IngressClass', () => {
  const ing = (spec: Record<string, unknown>) => ({ metadata: meta('web', 'default'), spec });
  const backend = { service: { name: 'web', port: { number: 80 } } };

  it('validates rules, paths and backends', () => {
    expect(errorsOf('networking.k8s.io', 'Ingress', ing({ rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] }))).toEqual([]);
    expect(errorsOf('networking.k8s.io', 'Ingress', ing({}))).toEqual(['spec.rules: Invalid value: []: either `defaultBackend` or `rules` must be specified']);
    expect(errorsOf('networking.k8s.io', 'Ingress', ing({
      rules: [{ host: 'Bad_Host', http: { paths: [{ path: 'x', pathType: 'Exact', backend: { service: { name: 'web', port: {} } } }, { path: '/', backend }] } }],
    }))).toEqual([
      expect.stringMatching(/^spec\.rules\[0\]\.host: Invalid value: "Bad_Host": a lowercase RFC 1123 subdomain/),
      'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path',
      'spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required',
      'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
    ]);
  });

  it('prints class, hosts, address and ports', () => {
    const obj = ing({ ingressClassName: 'nginx', tls: [{ hosts: ['a'] }], rules: [{ host: 'a.example.com' }, {}] });
    expect(row('networking.k8s.io', 'ingresses', { ...obj, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } }))
      .toEqual(['web', 'nginx', 'a.example.com,*', '10.0.0.1', '80, 443', '60s']);
  });

  it('requires a domain-prefixed controller that never changes', () => {
    const ic = (controller: string) => ({ metadata: meta('nginx'), spec: { controller } });
    expect(errorsOf('networking.k8s.io', 'IngressClass', ic('k8s.io/ingress-nginx'))).toEqual([]);
    expect(errorsOf('networking.k8s.io', 'IngressClass', ic('nginx'))).toEqual(['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(errorsOf('networking.k8s.io', 'IngressClass', ic('example.com/b'), ic('example.com/a'))).toEqual(['spec.controller: Invalid value: "example.com/b": field is immutable']);
    expect(row('networking.k8s.io', 'ingressclasses', { ...ic('k8s.io/x'), spec: { controller: 'k8s.io/x', parameters: { apiGroup: 'k8s.example.com', kind: 'Params', name: 'p' } } }))
      .toEqual(['nginx', 'k8s.io/x', 'Params.k8s.example.com/p', '60s']);
  });
});

describe('PodDisruptionBudget and ControllerRevision', () => {
  it('refuses minAvailable with maxUnavailable, and bad percentages', () => {
    const pdb = (spec: Record<string, unknown>) => ({ metadata: meta('pdb', 'default'), spec });
    expect(errorsOf('policy', 'PodDisruptionBudget', pdb({ minAvailable: '50%', selector: { matchLabels: { app: 'web' } } }))).toEqual([]);
    expect(errorsOf('policy', 'PodDisruptionBudget', pdb({ minAvailable: 1, maxUnavailable: '120%' }))).toEqual([
      'spec: Invalid value: {"minAvailable":1,"maxUnavailable":"120%"}: minAvailable and maxUnavailable cannot be both set',
      'spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%',
    ]);
    expect(row('policy', 'poddisruptionbudgets', { ...pdb({ maxUnavailable: 1 }), status: { disruptionsAllowed: 1 } })).toEqual(['pdb', 'N/A', '1', 1, '60s']);
  });

  it('requires data that never changes, and prints its controller', () => {
    const cr = (data: unknown) => ({
      metadata: { ...meta('web-1', 'default'), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web', uid: 'u', controller: true }] },
      data, revision: 2,
    });
    expect(errorsOf('apps', 'ControllerRevision', cr({ spec: {} }))).toEqual([]);
    expect(errorsOf('apps', 'ControllerRevision', { ...cr(undefined), revision: -1 })).toEqual([
      'data: Required value', 'revision: Invalid value: -1: must be greater than or equal to 0',
    ]);
    expect(errorsOf('apps', 'ControllerRevision', cr({ b: 1 }), cr({ a: 1 }))).toEqual(['data: Invalid value: {"b":1}: field is immutable']);
    expect(row('apps', 'controllerrevisions', cr({}))).toEqual(['web-1', 'daemonset.apps/web', 2, '60s']);
  });
});

describe('type checks', () => {
  it('every served kind\'s strategy has its Go type (a wrong type is a decode error, not an exception later)', () => {
    for (const def of RESOURCES) expect(knowsKind(def.kind), def.kind).toBe(true);
  });

  it('names the Go struct field and type of the new kinds as upstream\'s decoder', () => {
    const first = (group: string, resource: string, obj: unknown) => {
      const def = RESOURCES.find((r) => r.group === group && r.resource === resource)!;
      return strategyFor(def).checkTypes(obj as KubeObject)[0]?.message;
    };
    expect(first('', 'replicationcontrollers', { spec: { selector: ['a'] } }))
      .toBe('json: cannot unmarshal array into Go struct field ReplicationControllerSpec.spec.selector of type map[string]string');
    expect(first('', 'podtemplates', { template: { spec: { containers: 5 } } }))
      .toBe('json: cannot unmarshal number into Go struct field PodSpec.template.spec.containers of type []v1.Container');
    expect(first('', 'persistentvolumes', { spec: { accessModes: 'ReadWriteOnce' } }))
      .toBe('json: cannot unmarshal string into Go struct field PersistentVolumeSpec.spec.accessModes of type []string');
    expect(first('', 'persistentvolumeclaims', { spec: { resources: { requests: { storage: 'lots' } } } }))
      .toMatch(/^quantities must match the regular expression/);
    expect(first('', 'limitranges', { spec: { limits: {} } }))
      .toBe('json: cannot unmarshal object into Go struct field LimitRangeSpec.spec.limits of type []v1.LimitRangeItem');
    expect(first('', 'resourcequotas', { spec: { scopes: [5] } }))
      .toBe('json: cannot unmarshal number into Go struct field ResourceQuotaSpec.spec.scopes of type string');
    expect(first('apps', 'controllerrevisions', { revision: 1.5 }))
      .toBe('json: cannot unmarshal number 1.5 into Go struct field ControllerRevision.revision of type int64');
    expect(first('batch', 'cronjobs', { spec: { suspend: 'yes' } }))
      .toBe('json: cannot unmarshal string into Go struct field CronJobSpec.spec.suspend of type bool');
    expect(first('networking.k8s.io', 'ingresses', { spec: { rules: [{ http: { paths: [{ backend: { service: { port: { number: '80' } } } }] } }] } }))
      .toBe('json: cannot unmarshal string into Go struct field ServiceBackendPort.spec.rules.http.paths.backend.service.port.number of type int32');
    expect(first('networking.k8s.io', 'ingressclasses', { spec: { controller: 5 } }))
      .toBe('json: cannot unmarshal number into Go struct field IngressClassSpec.spec.controller of type string');
    expect(first('policy', 'poddisruptionbudgets', { spec: { minAvailable: true } }))
      .toBe('json: cannot unmarshal bool into Go value of type int32');
    expect(first('policy', 'poddisruptionbudgets', { spec: { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } } })).toBeUndefined();
  });
});
