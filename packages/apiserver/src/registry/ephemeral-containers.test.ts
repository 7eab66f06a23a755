import { describe, expect, it } from 'vitest';
import { formatFieldError, type KubeObject } from '@k8ts/api';
import { applyDefaults, validate } from './index.js';

// Upstream's ValidatePodCreate, ValidatePodUpdate and ValidatePodEphemeralContainersUpdate on spec.ephemeralContainers.

type Obj = Record<string, any>;
const defaulted = (pod: Obj): Obj => { const copy = structuredClone(pod); applyDefaults('', 'Pod', copy as KubeObject); return copy; };
const base = (ephemeral?: Obj[], extra: Obj = {}) => defaulted({
  metadata: { name: 'web', namespace: 'demo', ...extra },
  spec: {
    initContainers: [{ name: 'setup', image: 'k8ts/busybox:latest' }],
    containers: [{ name: 'web', image: 'k8ts/busybox:latest' }],
    ...(ephemeral ? { ephemeralContainers: ephemeral } : {}),
  },
});
const debugger1 = { name: 'debugger-1', image: 'k8ts/busybox:latest', stdin: true, tty: true, terminationMessagePolicy: 'File' };
/** Errors of an update through pods/ephemeralcontainers, as upstream prints them. */
const viaSubresource = (next: Obj, old: Obj) => validate('', 'Pod', next as KubeObject, old as KubeObject, 'ephemeralcontainers').map(formatFieldError);
const FORBIDDEN = 'cannot be set for an Ephemeral Container';

describe('ephemeral containers through pods/ephemeralcontainers', () => {
  it.each([
    ['a first one', [], [debugger1], []],
    ['a second one beside the first', [debugger1], [debugger1, { name: 'debugger-2', image: 'k8ts/busybox:latest' }], []],
    ['targeting an app container', [], [{ ...debugger1, targetContainerName: 'web' }], []],
    ['targeting an init container', [], [{ ...debugger1, targetContainerName: 'setup' }], []],
    ['with env, volume mounts, securityContext and an empty resources', [], [{ ...debugger1, env: [{ name: 'A', value: 'b' }], resources: {}, securityContext: { privileged: true } }], []],
    ['targeting no container', [], [{ ...debugger1, targetContainerName: 'nope' }],
      ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']],
    ['targeting another ephemeral container', [debugger1], [debugger1, { name: 'debugger-2', image: 'k8ts/busybox:latest', targetContainerName: 'debugger-1' }],
      ['spec.ephemeralContainers[1].targetContainerName: Not found: "debugger-1"']],
    ['a name an app container has', [], [{ ...debugger1, name: 'web' }], ['spec.ephemeralContainers[0].name: Duplicate value: "web"']],
    ['a name an init container has', [], [{ ...debugger1, name: 'setup' }], ['spec.ephemeralContainers[0].name: Duplicate value: "setup"']],
    ['two of one name', [], [debugger1, debugger1], ['spec.ephemeralContainers[1].name: Duplicate value: "debugger-1"']],
    ['no name and no image', [], [{}], ['spec.ephemeralContainers[0].name: Required value', 'spec.ephemeralContainers[0].image: Required value']],
    ['a bad name', [], [{ ...debugger1, name: 'Debug_1' }],
      ["spec.ephemeralContainers[0].name: Invalid value: \"Debug_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]],
    ['ports', [], [{ ...debugger1, ports: [{ containerPort: 80 }] }], [`spec.ephemeralContainers[0].ports: Forbidden: ${FORBIDDEN}`]],
    ['probes and lifecycle', [], [{ ...debugger1, livenessProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } }, lifecycle: { preStop: { exec: { command: ['true'] } } } }],
      [`spec.ephemeralContainers[0].livenessProbe: Forbidden: ${FORBIDDEN}`, `spec.ephemeralContainers[0].readinessProbe: Forbidden: ${FORBIDDEN}`,
        `spec.ephemeralContainers[0].lifecycle: Forbidden: ${FORBIDDEN}`]],
    ['resources', [], [{ ...debugger1, resources: { limits: { cpu: '1' } } }], [`spec.ephemeralContainers[0].resources: Forbidden: ${FORBIDDEN}`]],
    ['a restart policy', [], [{ ...debugger1, restartPolicy: 'Always' }], [`spec.ephemeralContainers[0].restartPolicy: Forbidden: ${FORBIDDEN}`]],
    ['a volume subPath', [], [{ ...debugger1, volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] }],
      [`spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: ${FORBIDDEN}`]],
    ['removing one', [debugger1], [], ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be removed\n']],
  ])('%s', (_what, before, after, want) => {
    expect(viaSubresource(base(after), base(before))).toEqual(want);
  });

  it('refuses a change to an existing one, saying what changed', () => {
    const errs = viaSubresource(base([{ ...debugger1, image: 'k8ts/pause:latest' }]), base([debugger1]));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec\.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be changed\n/);
    expect(errs[0]).toContain('image:');
  });

  it('keeps their order free: a patch may list them in another order', () => {
    const two = [debugger1, { name: 'debugger-2', image: 'k8ts/busybox:latest' }];
    expect(viaSubresource(base([two[1], two[0]]), base(two))).toEqual([]);
  });

  it('refuses them on static pods', () => {
    const mirror = { annotations: { 'kubernetes.io/config.mirror': 'abc' } };
    expect(viaSubresource(base([debugger1], mirror), base([], mirror))).toEqual([': Forbidden: static pods do not support ephemeral containers']);
  });
});

describe('ephemeral containers elsewhere', () => {
  it('cannot be set on create', () => {
    expect(validate('', 'Pod', base([debugger1]) as KubeObject).map(formatFieldError)).toEqual(['spec.ephemeralContainers: Forbidden: cannot be set on create']);
  });

  it('cannot be added by a plain pod update', () => {
    const errs = validate('', 'Pod', base([debugger1]) as KubeObject, base() as KubeObject).map(formatFieldError);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than/);
  });

  it('are not allowed in pod templates', () => {
    const deployment = {
      metadata: { name: 'web', namespace: 'demo' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: base([debugger1]).spec } },
    };
    applyDefaults('apps', 'Deployment', deployment as unknown as KubeObject);
    expect(validate('apps', 'Deployment', deployment as unknown as KubeObject).map(formatFieldError))
      .toContain('spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template');
  });

  it('are defaulted as containers are', () => {
    const pod = base([{ name: 'd', image: 'k8ts/busybox:latest' }]);
    expect(pod.spec.ephemeralContainers[0]).toMatchObject({ imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
  });
});
