import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'd' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

/** Temp dirs and file times differ run to run. */
const scrub = (s: string) => normalise(s.replace(/\/[^\s]*\/(LIVE|MERGED)-[^/\s]+/g, '$1').replace(/\t\d{4}-\d\d-\d\d [\d:.]+ [+-]\d{4}/g, '\tTIME').replace(/uid: [0-9a-f-]{36}/g, 'uid: UID').replace(/creationTimestamp: "[^"]*"/g, 'creationTimestamp: T'));

const manifest = (v: string, extra = '') => `apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: d }
data: { v: "${v}" }
---
apiVersion: v1
kind: Secret
metadata: { name: sec, namespace: d }
stringData: { password: "${v}", same: "x" }
${extra}`;

describe('k8ts-kubectl diff, side by side with kubectl', () => {
  it('shows the same unified diff and exit codes as kubectl', async () => {
    const same = (args: string[], env?: Record<string, string>) => k.same(args, { scrub, env });
    const first = k.file('m1.yaml', manifest('1'));
    const created = await same(['diff', '-f', first]);
    expect(created.code).toBe(1);
    expect(created.stdout).toContain('+  v: "1"');
    expect((await k.real(['apply', '-f', first])).code).toBe(0);
    expect((await same(['diff', '-f', first])).code).toBe(0);
    const second = k.file('m2.yaml', manifest('2'));
    const changed = await same(['diff', '-f', second]);
    expect(changed.stdout).toContain('*** (after)');
    await same(['diff', '-f', second, '--server-side']);
    await same(['diff', '-f', second], { KUBECTL_EXTERNAL_DIFF: 'diff -q' });
    await same(['diff', '-f', k.file('bad.yaml', 'apiVersion: v1\nkind: Nope\nmetadata: { name: x }\n')]);
  });
});
