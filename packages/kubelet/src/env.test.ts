import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret, Service } from '@k8ts/api';
import { containerEnv, EnvError, expandVars, metadataFieldValue, serviceEnvFor, serviceEnvVars, type ObjectSource } from './env.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** ConfigMaps and Secrets in namespace `ns`, keyed by name; counts reads. */
function source(configMaps: Record<string, Record<string, string>> = {}, secrets: Record<string, Record<string, string>> = {}) {
  const reads: string[] = [];
  const src: ObjectSource = {
    async configMap(ns, name) {
      reads.push(`cm ${ns}/${name}`);
      return ns === 'ns' && configMaps[name] ? { metadata: { name, namespace: ns }, data: configMaps[name] } satisfies ConfigMap : undefined;
    },
    async secret(ns, name) {
      reads.push(`secret ${ns}/${name}`);
      const data = ns === 'ns' && secrets[name] ? Object.fromEntries(Object.entries(secrets[name]).map(([k, v]) => [k, b64(v)])) : undefined;
      return data ? { metadata: { name, namespace: ns }, data } satisfies Secret : undefined;
    },
  };
  return Object.assign(src, { reads });
}

const pod: Pod = {
  metadata: {
    name: 'web-1', namespace: 'ns', uid: 'uid-1',
    labels: { app: 'web', tier: 'front' }, annotations: { note: 'say "hi"\n' },
  },
  spec: {
    nodeName: 'node-a', serviceAccountName: 'robot',
    containers: [
      { name: 'app', image: 'img', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } } },
      { name: 'side', image: 'img', resources: { limits: { memory: '1Gi' } } },
    ],
  },
};

async function envOf(container: Partial<Container>, src: ObjectSource = source(), warn?: (r: string, m: string) => void) {
  const env = await containerEnv(pod, { name: 'app', ...container }, { podIP: '10.0.0.5', hostIP: '192.168.1.2', nodeName: 'node-a', source: src, warn });
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

describe('expandVars', () => {
  const vars = new Map([['A', 'x'], ['EMPTY', '']]);
  it.each([
    ['$(A)', 'x'],
    ['pre-$(A)-post', 'pre-x-post'],
    ['$(A)$(A)', 'xx'],
    ['$(B)', '$(B)'],
    ['[$(EMPTY)]', '[]'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$x'],
    ['$$', '$'],
    ['a$b', 'a$b'],
    ['$(A', '$(A'],
    ['end$', 'end$'],
    ['$()', '$()'],
    ['no vars', 'no vars'],
  ])('%s → %s', (input, want) => {
    expect(expandVars(input, vars)).toBe(want);
  });
});

describe('containerEnv', () => {
  it('expands values against earlier variables only, in order', async () => {
    expect(await envOf({
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-$(C)' },
        { name: 'C', value: 'c' },
        { name: 'D', value: '$$(A) $(C)' },
      ],
    })).toEqual({ A: 'a', B: 'a-$(C)', C: 'c', D: '$(A) c' });
  });

  it('imports envFrom with prefixes, decodes secrets, skips invalid keys with a warning, and lets later entries win', async () => {
    const warnings: string[] = [];
    const env = await envOf({
      envFrom: [
        { configMapRef: { name: 'cfg' } },
        { prefix: 'S_', secretRef: { name: 'creds' } },
        { configMapRef: { name: 'override' } },
      ],
      env: [{ name: 'MODE', value: 'env-wins' }, { name: 'URL', value: 'http://$(HOST):$(S_PORT)' }],
    }, source(
      { cfg: { HOST: 'db', MODE: 'cm', '1BAD': 'x', 'has space': 'y' }, override: { HOST: 'db2' } },
      { creds: { PORT: '5432', PASSWORD: 'p@ss' } },
    ), (reason, message) => warnings.push(`${reason}: ${message}`));
    expect(env).toEqual({ HOST: 'db2', MODE: 'env-wins', S_PORT: '5432', S_PASSWORD: 'p@ss', URL: 'http://db2:5432' });
    expect(warnings).toEqual([
      'InvalidEnvironmentVariableNames: Keys [1BAD, has space] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.',
    ]);
  });

  it('keeps the first position of a redefined variable but its last value', async () => {
    const env = await containerEnv(pod, { name: 'app', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }, { name: 'X', value: '3' }] },
      { podIP: '', hostIP: '', nodeName: '', source: source() });
    expect(env).toEqual([{ name: 'X', value: '3' }, { name: 'Y', value: '2' }]);
  });

  it('resolves configMapKeyRef and secretKeyRef without expanding their values, reading each object once', async () => {
    const src = source({ cfg: { level: 'debug', raw: '$(A)' } }, { creds: { token: 's3cret' } });
    expect(await envOf({
      env: [
        { name: 'A', value: 'a' },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'level' } } },
        { name: 'RAW', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'raw' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      ],
    }, src)).toEqual({ A: 'a', LEVEL: 'debug', RAW: '$(A)', TOKEN: 's3cret' });
    expect(src.reads).toEqual(['cm ns/cfg', 'secret ns/creds']);
  });

  it('skips optional refs to missing objects and keys', async () => {
    expect(await envOf({
      envFrom: [{ configMapRef: { name: 'gone', optional: true } }, { secretRef: { name: 'gone', optional: true } }],
      env: [
        { name: 'KEEP', value: 'old' },
        { name: 'KEEP', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
        { name: 'NO_CM', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } },
        { name: 'NO_SECRET', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
      ],
    }, source({ cfg: { other: '1' } }))).toEqual({ KEEP: 'old' });
  });

  it.each<[string, Partial<Container>, string]>([
    ['envFrom configMap', { envFrom: [{ configMapRef: { name: 'gone' } }] }, 'configmap "gone" not found'],
    ['envFrom secret', { envFrom: [{ secretRef: { name: 'gone' } }] }, 'secret "gone" not found'],
    ['configMapKeyRef object', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] }, 'configmap "gone" not found'],
    ['configMapKeyRef key', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }, "couldn't find key k in ConfigMap ns/cfg"],
    ['secretKeyRef key', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret ns/creds"],
    ['unknown fieldPath', { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, 'unsupported fieldPath: spec.hostname'],
    ['unknown resource', { env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }, 'unsupported container resource : limits.gpu'],
  ])('fails with CreateContainerConfigError for a required %s', async (_, container, message) => {
    const err = await envOf(container, source({ cfg: {} }, { creds: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvError);
    expect(err).toMatchObject({ reason: 'CreateContainerConfigError', message });
  });

  it('lets source failures through unchanged (transient, retried)', async () => {
    const boom = new Error('connection refused');
    const src: ObjectSource = { configMap: () => Promise.reject(boom), secret: async () => undefined };
    await expect(envOf({ envFrom: [{ configMapRef: { name: 'cfg' } }] }, src)).rejects.toBe(boom);
  });

  it.each([
    ['metadata.name', 'web-1'],
    ['metadata.namespace', 'ns'],
    ['metadata.uid', 'uid-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['note']", 'say "hi"\n'],
    ['spec.nodeName', 'node-a'],
    ['spec.serviceAccountName', 'robot'],
    ['status.podIP', '10.0.0.5'],
    ['status.podIPs', '10.0.0.5'],
    ['status.hostIP', '192.168.1.2'],
    ['status.hostIPs', '192.168.1.2'],
  ])('fieldRef %s → %j', async (fieldPath, want) => {
    expect(await envOf({ env: [{ name: 'V', valueFrom: { fieldRef: { fieldPath } } }] })).toEqual({ V: want });
  });

  it.each<[string, string | undefined, string | undefined, string]>([
    ['limits.cpu', undefined, undefined, '1'], // 500m rounds up to whole cores
    ['limits.cpu', '1m', undefined, '500'],
    ['requests.cpu', '1m', undefined, '250'],
    ['limits.memory', undefined, undefined, String(128 * 2 ** 20)],
    ['limits.memory', '1Mi', undefined, '128'],
    ['limits.memory', '1Mi', 'side', '1024'],
    ['limits.memory', '0', undefined, String(128 * 2 ** 20)], // a zero divisor means 1
    ['requests.memory', undefined, undefined, '0'],
    ['limits.cpu', undefined, 'side', String(os.cpus().length)], // unset limit: the node's capacity
  ])('resourceFieldRef %s divisor %s container %s → %s', async (resource, divisor, containerName, want) => {
    const container = pod.spec!.containers[0];
    const env = await envOf({ ...container, env: [{ name: 'R', valueFrom: { resourceFieldRef: { resource, divisor, containerName } } }] });
    expect(env).toEqual({ R: want });
  });
});

describe('metadataFieldValue', () => {
  it('renders whole label and annotation maps as sorted, Go-quoted key="value" lines', () => {
    const p: Pod = { metadata: { labels: { b: '2', a: 'x"y\\z' }, annotations: { note: 'line\nnext\ttab é', bell: '\x07\x01' } } };
    expect(metadataFieldValue(p, 'metadata.labels')).toBe('a="x\\"y\\\\z"\nb="2"');
    expect(metadataFieldValue(p, 'metadata.annotations')).toBe('bell="\\a\\x01"\nnote="line\\nnext\\ttab é"');
    expect(metadataFieldValue({ metadata: {} }, 'metadata.labels')).toBe('');
  });
});

describe('service environment variables', () => {
  const svc = (ns: string, name: string, spec: NonNullable<Service['spec']>): Service => ({ metadata: { namespace: ns, name }, spec });
  const services = [
    svc('default', 'kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('prod', 'web-front', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('prod', 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    svc('other', 'elsewhere', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] }),
  ];
  const podIn = (ns: string, enableServiceLinks?: boolean): Pod => ({ metadata: { name: 'p', namespace: ns }, spec: { containers: [], ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }) } });

  it('are those of the pod namespace Services with a ClusterIP, plus kubernetes always, sorted', () => {
    expect(serviceEnvFor(podIn('prod'), services).map((s) => s.metadata!.name)).toEqual(['kubernetes', 'web-front']);
    expect(serviceEnvFor(podIn('prod', false), services).map((s) => s.metadata!.name)).toEqual(['kubernetes']);
  });

  it('are named as upstream, Docker-links style', () => {
    expect(serviceEnvVars([services[1]])).toEqual([
      { name: 'WEB_FRONT_SERVICE_HOST', value: '10.96.0.20' }, { name: 'WEB_FRONT_SERVICE_PORT', value: '80' },
      { name: 'WEB_FRONT_SERVICE_PORT_HTTP', value: '80' }, { name: 'WEB_FRONT_SERVICE_PORT_DNS', value: '53' },
      { name: 'WEB_FRONT_PORT', value: 'tcp://10.96.0.20:80' },
      { name: 'WEB_FRONT_PORT_80_TCP', value: 'tcp://10.96.0.20:80' }, { name: 'WEB_FRONT_PORT_80_TCP_PROTO', value: 'tcp' },
      { name: 'WEB_FRONT_PORT_80_TCP_PORT', value: '80' }, { name: 'WEB_FRONT_PORT_80_TCP_ADDR', value: '10.96.0.20' },
      { name: 'WEB_FRONT_PORT_53_UDP', value: 'udp://10.96.0.20:53' }, { name: 'WEB_FRONT_PORT_53_UDP_PROTO', value: 'udp' },
      { name: 'WEB_FRONT_PORT_53_UDP_PORT', value: '53' }, { name: 'WEB_FRONT_PORT_53_UDP_ADDR', value: '10.96.0.20' },
    ]);
  });

  it('come after the container\'s own, which override them and can reference them', async () => {
    const pod = podIn('prod');
    const container = { name: 'c', image: 'i', env: [{ name: 'URL', value: 'http://$(WEB_FRONT_SERVICE_HOST)' }, { name: 'WEB_FRONT_SERVICE_PORT', value: 'mine' }] };
    const env = await containerEnv(pod, container, { podIP: '10.244.0.5', hostIP: '127.0.0.1', nodeName: 'n', source: source(), services });
    expect(env.slice(0, 2)).toEqual([{ name: 'URL', value: 'http://10.96.0.20' }, { name: 'WEB_FRONT_SERVICE_PORT', value: 'mine' }]);
    expect(env.filter((e) => e.name === 'WEB_FRONT_SERVICE_PORT')).toHaveLength(1);
    expect(env.map((e) => e.name)).toContain('KUBERNETES_SERVICE_HOST');
    expect(env.map((e) => e.name)).not.toContain('ELSEWHERE_SERVICE_HOST');
    const off = await containerEnv(podIn('prod', false), { name: 'c', image: 'i' }, { podIP: '10.244.0.5', hostIP: '127.0.0.1', nodeName: 'n', source: source(), services });
    expect(off.map((e) => e.name).filter((n) => n.startsWith('WEB_FRONT'))).toEqual([]);
  });
});
