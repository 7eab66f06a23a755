import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApiserver, testKubectl, type TestApiserver, type TestKubectl } from './harness.js';

/* Server-side apply of custom objects: field ownership follows the CRD's schema (list types, map keys). */

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gateways.ssa.example.com}
spec:
  group: ssa.example.com
  scope: Namespaced
  names: {plural: gateways, singular: gateway, kind: Gateway}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              image: {type: string}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, required: [name], properties: {name: {type: string}, port: {type: integer}}}
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
`;

const gateway = (spec: string) => `
apiVersion: ssa.example.com/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
${spec}
`;

describe('server-side apply of custom objects', () => {
  let s: TestApiserver;
  let kubectl: TestKubectl;
  beforeAll(async () => {
    s = await startTestApiserver();
    kubectl = testKubectl(s.url);
    await kubectl('apply', '-f', kubectl.file('crd.yaml', CRD));
    await eventually(async () => (await kubectl('api-resources', '--api-group', 'ssa.example.com')).includes('gateways'), 'the CRD served', 10_000);
  }, 60_000);
  afterAll(async () => { await s?.stop(); });

  it('two managers own items of an associative list by key; a dropped item goes, the other manager\'s stays', async () => {
    await kubectl('apply', '--server-side', '--field-manager', 'a', '-f', kubectl.file('a.yaml', gateway('  image: x\n  ports: [{name: http, port: 80}]\n  tags: [one]')));
    await kubectl('apply', '--server-side', '--field-manager', 'b', '-f', kubectl.file('b.yaml', gateway('  ports: [{name: https, port: 443}]\n  tags: [two]')));
    const obj = JSON.parse(await kubectl('get', 'gateway', 'gw', '-o', 'json', '--show-managed-fields'));
    expect([...obj.spec.ports].sort((x: any, y: any) => x.name.localeCompare(y.name))).toEqual([{ name: 'http', port: 80 }, { name: 'https', port: 443 }]);
    expect([...obj.spec.tags].sort()).toEqual(['one', 'two']);
    const b = obj.metadata.managedFields.find((m: any) => m.manager === 'b');
    expect(b).toMatchObject({ operation: 'Apply', apiVersion: 'ssa.example.com/v1' });
    expect(Object.keys(b.fieldsV1['f:spec']['f:ports'])).toEqual(['k:{"name":"https"}']);
    expect(Object.keys(b.fieldsV1['f:spec']['f:tags'])).toEqual(['v:"two"']);

    // Manager a stops applying its port: it goes; b's port stays.
    await kubectl('apply', '--server-side', '--field-manager', 'a', '-f', kubectl.file('a.yaml', gateway('  image: x\n  tags: [one]')));
    const after = JSON.parse(await kubectl('get', 'gateway', 'gw', '-o', 'json'));
    expect(after.spec.ports).toEqual([{ name: 'https', port: 443 }]);

    // Another value for b's port from a is a conflict naming the item by its key.
    await expect(kubectl('apply', '--server-side', '--field-manager', 'a', '-f', kubectl.file('a.yaml', gateway('  ports: [{name: https, port: 8443}]'))))
      .rejects.toThrow(/conflict with "b": \.spec\.ports\[name="https"\]\.port/);
  });
});
