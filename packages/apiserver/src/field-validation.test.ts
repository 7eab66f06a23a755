import { describe, expect, it } from 'vitest';
import { findResource } from '@k8ts/api';
import { fieldProblems, fieldValidationParam, jsonKeys, unknownFields } from './field-validation.js';

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;
const PODS = findResource('', 'v1', 'pods')!;

// upstream's test/integration/apiserver/field_validation_test.go invalidBodyJSON, in spirit
const INVALID = `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": { "name": "dupe", "name": "dupe", "unknownMeta": "metaVal" },
  "spec": {
    "unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2", "paused": true, "paused": false,
    "selector": { "matchLabels": { "app": "nginx" } },
    "template": { "metadata": { "labels": { "app": "nginx" } },
      "spec": { "containers": [{ "name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
        "imagePullPolicy": "Always", "imagePullPolicy": "Never" }] } }
  }
}`;

describe('field validation', () => {
  it("reports unknown and duplicate fields of a body in document order, as upstream's strict decoder", () => {
    const problems = fieldProblems({ directive: 'Strict', keys: jsonKeys(INVALID), patch: false, warnings: [] },
      unknownFields(DEPLOYMENTS, JSON.parse(INVALID)));
    expect(problems).toStrictEqual([
      'duplicate field "metadata.name"', 'unknown field "metadata.unknownMeta"', 'unknown field "spec.unknown1"',
      'unknown field "spec.unknownDupe"', 'duplicate field "spec.paused"',
      'unknown field "spec.template.spec.containers[0].unknownNested"', 'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
    ]);
  });

  it("reports a patch's duplicates, then the patched object's unknown fields sorted", () => {
    const patch = '{"spec":{"unknown1":"v","unknownDupe":"a","unknownDupe":"b","paused":true,"paused":false}}';
    expect(fieldProblems({ directive: 'Strict', keys: jsonKeys(patch), patch: true, warnings: [] }, ['spec.unknownDupe', 'spec.unknown1']))
      .toStrictEqual(['duplicate field "spec.unknownDupe"', 'duplicate field "spec.paused"', 'unknown field "spec.unknown1"', 'unknown field "spec.unknownDupe"']);
  });

  it("says a JSON patch's duplicate keys as upstream: json patch duplicate field", () => {
    const patch = '[{"op":"add","path":"/spec/a","value":1},{"op":"add","path":"/spec/b","path":"/spec/c","value":2}]';
    expect(fieldProblems({ directive: 'Strict', keys: jsonKeys(patch), patch: true, jsonPatch: true, warnings: [] }, ['spec.a', 'spec.c']))
      .toStrictEqual(['json patch duplicate field "[1].path"', 'unknown field "spec.a"', 'unknown field "spec.c"']);
  });

  it('knows embedded (inline) fields, special types and TypeMeta: no false unknowns', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'p', labels: { a: 'b' }, creationTimestamp: null, managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': {} } }] },
      spec: {
        volumes: [{ name: 'd', emptyDir: { sizeLimit: '1Gi' } }, { name: 'c', configMap: { name: 'cm', defaultMode: 420 } }],
        containers: [{
          name: 'c', image: 'i', resources: { limits: { cpu: '1' } },
          envFrom: [{ configMapRef: { name: 'cm' } }], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
          lifecycle: { preStop: { exec: { command: ['true'] } } },
        }],
        ephemeralContainers: [{ name: 'debug', image: 'busybox', targetContainerName: 'c' }],
      },
      status: { phase: 'Running', startTime: '2024-01-01T00:00:00Z' },
    };
    expect(unknownFields(PODS, pod)).toStrictEqual([]);
    expect(unknownFields(PODS, { ...pod, spec: { ...pod.spec, containers: [{ name: 'c', image: 'i', imagePullPolicyy: 'x' }] } }))
      .toStrictEqual(['spec.containers[0].imagePullPolicyy']);
    expect(unknownFields(PODS, { metadata: { name: 'p', kind: 'x' } })).toStrictEqual(['metadata.kind']);
  });

  it('the fieldValidation parameter: Warn by default, its three values, 422 otherwise', () => {
    expect(fieldValidationParam(undefined, 'CreateOptions')).toBe('Warn');
    expect(fieldValidationParam('Ignore', 'CreateOptions')).toBe('Ignore');
    expect(() => fieldValidationParam('strict', 'CreateOptions')).toThrow(/supported values: "Ignore", "Warn", "Strict"/);
  });

  it('reads the keys of odd but valid JSON (escapes, nesting, arrays of arrays)', () => {
    expect(jsonKeys('{"a\\"b":[[{"c":1,"c":2}]],"d":{"e":"}\\\\"}}')).toStrictEqual([
      { path: 'a"b', duplicate: false }, { path: 'a"b[0][0].c', duplicate: false }, { path: 'a"b[0][0].c', duplicate: true },
      { path: 'd', duplicate: false }, { path: 'd.e', duplicate: false },
    ]);
    expect(jsonKeys('not json')).toStrictEqual([]);
  });
});
