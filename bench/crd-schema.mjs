#!/usr/bin/env node
// CRD schema work per custom object write: prune + default + validate of a CronTab-sized object (the docs'
// CronTab with a few more fields), without and with x-kubernetes-validations rules. Pure CPU, no servers.
// Usage: npm run build && node bench/crd-schema.mjs [--seconds 2]
import { parseArgs } from 'node:util';
import { applyDefaults, compileSchema, prune, validateObject } from '../packages/apiserver/dist/apiextensions/schema/index.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const SECONDS = Number(args.seconds);

const spec = (rules) => ({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      ...(rules ? { 'x-kubernetes-validations': rules } : {}),
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        minReplicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        ports: {
          type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
        },
      },
    },
    status: { type: 'object', properties: { active: { type: 'integer' } } },
  },
});

const object = () => ({
  apiVersion: 'stable.example.com/v1', kind: 'CronTab',
  metadata: { name: 'my-new-cron-object', namespace: 'default', labels: { app: 'cron' } },
  spec: {
    cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 3, minReplicas: 1, maxReplicas: 5,
    labels: { a: 'b', c: 'd' }, ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }],
  },
  status: { active: 1 },
});

function measure(label, schema, { update = false } = {}) {
  const c = compileSchema(schema);
  const template = object();
  const old = update ? { ...object(), metadata: { ...object().metadata, resourceVersion: '1' } } : undefined;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      const o = structuredClone(template);
      prune(c, o);
      applyDefaults(c, o);
      if (validateObject(c, o, old).length !== 0) throw new Error(`${label}: unexpected errors`);
    }
    n += 100;
  }
  const perSec = Math.round(n / SECONDS);
  console.log(`${label.padEnd(52)} ${String(perSec).padStart(8)} objects/s (prune + default + validate, incl. structuredClone)`);
  return perSec;
}

measure('no CEL rule', spec(undefined));
measure('1 CEL rule (self.minReplicas <= self.replicas)', spec([{ rule: 'self.minReplicas <= self.replicas' }]));
measure('3 CEL rules (incl. ports.all(...))', spec([
  { rule: 'self.minReplicas <= self.replicas' }, { rule: 'self.replicas <= self.maxReplicas' },
  { rule: "self.ports.all(p, p.port > 0 && p.name.matches('^[a-z]+$'))" },
]));
measure('update, 1 CEL rule (ratcheting against the old object)', spec([{ rule: 'self.minReplicas <= self.replicas' }]), { update: true });
