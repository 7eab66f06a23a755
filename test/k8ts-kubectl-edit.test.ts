import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { makeTwins, type Twins } from './kubectl-twins.js';

let api: TestApiserver;
let k: KubectlPair;
let t: Twins;

/**
 * The "editor" both kubectls run (KUBE_EDITOR is fixed when the pair is made): it keeps a copy of what it was given,
 * then applies the sed expression in the `mode` file next to it (none: no change).
 */
function installEditor(dir: string): string {
  const p = path.join(dir, 'editor.sh');
  writeFileSync(p, `#!/bin/sh\ncp "$1" ${dir}/seen\nexpr=$(cat ${dir}/mode 2>/dev/null)\n[ -n "$expr" ] && sed -i "$expr" "$1"\nexit 0\n`);
  chmodSync(p, 0o755);
  return p;
}
const mode = (expr: string) => writeFileSync(path.join(editorDir, 'mode'), expr);
let editorDir: string;

beforeAll(async () => {
  api = await startTestApiserver();
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  editorDir = mkdtempSync(path.join(tmpdir(), 'k8ts-edit-'));
  process.env.KUBE_EDITOR = installEditor(editorDir);
  k = kubectlPair(api.url);
  delete process.env.KUBE_EDITOR;
  t = await makeTwins(api.url, k);
  await t.create('/api/v1/namespaces/NS/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { a: '1' } });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

describe('k8ts-kubectl edit, side by side with kubectl', () => {
  it('applies the edit, and cancels when nothing changed', async () => {
    mode('');
    await t.same(['edit', 'cm/web']);
    mode('s/a: "1"/a: "2"/');
    await t.same(['edit', 'cm/web']);
    const seen = readFileSync(path.join(editorDir, 'seen'), 'utf8');
    expect(seen.startsWith("# Please edit the object below. Lines beginning with a '#' will be ignored,\n")).toBe(true);
    const { ours, real } = await t.get('/api/v1/namespaces/NS/configmaps/web');
    expect(ours.data).toEqual(real.data);
    expect(ours.data).toEqual({ a: '2' });
    await t.same(['edit', 'cm/nope']);
  });
});
