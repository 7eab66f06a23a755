import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { apiVersionOf, RESOURCES } from '@k8ts/api';
import { decodeProtobuf, messageType, schemas } from './decode.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const cases = (JSON.parse(readFileSync(path.join(testdata, 'cases.json'), 'utf8')) as { name: string; args: string[]; noCapture?: boolean }[])
  .filter((c) => !c.noCapture);
const pb = (name: string) => readFileSync(path.join(testdata, `${name}.pb`));

describe('protobuf bodies the real kubectl v1.32 sends (testdata/capture.mjs)', () => {
  for (const c of cases.filter((x) => existsSync(path.join(testdata, `${x.name}.json`)))) {
    it(`kubectl ${c.args.join(' ')}: decodes to what --dry-run=client -o json prints`, () => {
      const want = JSON.parse(readFileSync(path.join(testdata, `${c.name}.json`), 'utf8'));
      expect(decodeProtobuf(pb(c.name))).toStrictEqual(want);
    });
  }

  it('kubectl create token robot --duration=1h --audience=api: a TokenRequest', () => {
    expect(decodeProtobuf(pb('token'))).toStrictEqual({
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { audiences: ['api'], expirationSeconds: 3600 },
      status: { token: '', expirationTimestamp: null },
    });
  });

  it('kubectl drain --disable-eviction --grace-period=5: DeleteOptions', () => {
    expect(decodeProtobuf(pb('delete-options'))).toStrictEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
  });
});

/** A body as client-go's protobuf serializer writes it: the magic, then runtime.Unknown around the kind's message. */
function encode(apiVersion: string, kind: string, message: Record<string, unknown>, contentEncoding = ''): Buffer {
  const type = messageType(apiVersion, kind);
  const raw = type ? type.encode(type.fromObject(message)).finish() : new Uint8Array();
  const unknown = schemas().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const body = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding, contentType: '' })).finish();
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), body]);
}

describe('kinds the typed clients send that no generator does', () => {
  it('events.k8s.io/v1 Event as upstream\'s scheduler and kubelet recorders send it (MicroTime, series, references)', () => {
    const body = encode('events.k8s.io/v1', 'Event', {
      metadata: { name: 'web.1', namespace: 'default', creationTimestamp: {} },
      eventTime: { seconds: 1796205600, nanos: 123456000 }, series: { count: 2, lastObservedTime: { seconds: 1796205660, nanos: 1000 } },
      reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-node-1', action: 'Binding', reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' }, note: 'Successfully assigned', type: 'Normal',
      deprecatedSource: {}, deprecatedFirstTimestamp: {}, deprecatedLastTimestamp: {},
    });
    expect(decodeProtobuf(body)).toMatchObject({
      kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: { name: 'web.1', namespace: 'default' },
      eventTime: '2026-12-02T10:00:00.123456Z', series: { count: 2, lastObservedTime: '2026-12-02T10:01:00.000001Z' },
      reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-node-1', action: 'Binding', reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' }, note: 'Successfully assigned', type: 'Normal',
    });
  });

  it('Eviction with DeleteOptions (gracePeriodSeconds 0 and dryRun kept)', () => {
    const body = encode('policy/v1', 'Eviction', {
      metadata: { name: 'web', namespace: 'default', creationTimestamp: {} },
      deleteOptions: { gracePeriodSeconds: 0, dryRun: ['All'], propagationPolicy: 'Foreground' },
    });
    expect(decodeProtobuf(body)).toStrictEqual({
      kind: 'Eviction', apiVersion: 'policy/v1',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: null },
      deleteOptions: { gracePeriodSeconds: 0, dryRun: ['All'], propagationPolicy: 'Foreground' },
    });
  });

  it('Scale to 0 replicas (status.replicas has no omitempty; spec.replicas has)', () => {
    const body = encode('autoscaling/v1', 'Scale', {
      metadata: { name: 'web', resourceVersion: '12', creationTimestamp: { seconds: 1_700_000_000 } },
      spec: { replicas: 0 }, status: { replicas: 0, selector: 'app=web' },
    });
    expect(decodeProtobuf(body)).toStrictEqual({
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', resourceVersion: '12', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {}, status: { replicas: 0, selector: 'app=web' },
    });
  });

  it('HorizontalPodAutoscaler autoscaling/v2 with metrics and behavior (quantities, pointers)', () => {
    const body = encode('autoscaling/v2', 'HorizontalPodAutoscaler', {
      metadata: { name: 'web', creationTimestamp: {} },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: { string: '500m' } } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
      status: { desiredReplicas: 0 },
    });
    expect(decodeProtobuf(body)).toStrictEqual({
      kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2',
      metadata: { name: 'web', creationTimestamp: null },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '500m' } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
      status: { desiredReplicas: 0 },
    });
  });

  it('MicroTime (Lease), RawExtension (ControllerRevision), maps of bytes (Secret)', () => {
    expect(decodeProtobuf(encode('coordination.k8s.io/v1', 'Lease', {
      metadata: { name: 'node-1' }, spec: { holderIdentity: 'node-1', renewTime: { seconds: 1_700_000_000, nanos: 123_456_789 } },
    })).spec).toStrictEqual({ holderIdentity: 'node-1', renewTime: '2023-11-14T22:13:20.123456Z' });
    expect(decodeProtobuf(encode('apps/v1', 'ControllerRevision', {
      metadata: { name: 'r1' }, data: { raw: Buffer.from('{"spec":{"x":1}}') }, revision: 3,
    }))).toMatchObject({ data: { spec: { x: 1 } }, revision: 3 });
    expect(decodeProtobuf(encode('v1', 'Secret', { metadata: { name: 's' }, data: { k: Buffer.from([0, 255]) }, type: 'Opaque' })))
      .toMatchObject({ data: { k: 'AP8=' }, type: 'Opaque' });
  });

  it('refuses what it cannot decode: no magic (400), truncated (400), content encodings (415), unknown kinds (415)', () => {
    const status = (fn: () => unknown) => { try { fn(); return 0; } catch (err) { return (err as { code: number }).code; } };
    expect(status(() => decodeProtobuf(Buffer.from('{"kind":"Pod"}')))).toBe(400);
    expect(status(() => decodeProtobuf(Buffer.from('k8s\0\x0a\x05ab', 'latin1')))).toBe(400);
    expect(status(() => decodeProtobuf(encode('v1', 'Frob', {})))).toBe(415);
    expect(status(() => decodeProtobuf(encode('v1', 'ConfigMap', {}, 'gzip')))).toBe(415);
    expect(messageType('v1', 'Frob')).toBeUndefined();
    expect(messageType('example.com/v1', 'Widget')).toBeUndefined();
  });
});

describe('schemas', () => {
  it('every served kind has its message (protobuf bodies, field validation and OpenAPI read it)', () => {
    // kubectl embeds no apiextensions generated.proto to take the CRD's from: CRDs are JSON and YAML only (as every
    // client sends them; upstream's protobuf form of them is for the apiserver's own storage).
    const jsonOnly = ['apiextensions.k8s.io/v1 CustomResourceDefinition'];
    const missing = RESOURCES.filter((r) => !messageType(apiVersionOf(r), r.kind)).map((r) => `${apiVersionOf(r)} ${r.kind}`)
      .filter((k) => !jsonOnly.includes(k));
    expect(missing, 'add them to ROOTS in scripts/gen-proto-schemas.mjs and run it').toStrictEqual([]);
  });
});
