import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, type KubectlPair } from './kubectl-compare.js';

let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

async function same(args: string[], env?: Record<string, string>): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env ?? {});
  try {
    await k.same(args);
  } finally {
    process.env = saved;
  }
}

describe('k8ts-kubectl discovery commands, side by side with kubectl', () => {
  it('api-resources, api-versions and cluster-info print what kubectl prints', async () => {
    await same(['api-resources']);
    await same(['api-resources', '-o', 'wide']);
    await same(['api-resources', '-o', 'name', '--namespaced=false']);
    await same(['api-resources', '--api-group=apps', '--sort-by=kind', '--no-headers']);
    await same(['api-resources', '--verbs=list', '--categories=all']);
    await same(['api-versions']);
    await same(['cluster-info']);
    const v = await k.ours(['version']);
    expect(v.stdout).toMatch(/^Client Version: v1\.32\.4-k8ts\nKustomize Version: v5\.5\.0\nServer Version: v1\.32/);
    expect(v.code).toBe(0);
  });
});

describe('k8ts-kubectl config, side by side with kubectl', () => {
  it('views, lists and switches contexts in a merged KUBECONFIG chain as kubectl does', async () => {
    const second = path.join(k.dir, 'second');
    writeFileSync(second, [
      'apiVersion: v1', 'kind: Config', 'current-context: other',
      'clusters:', '- name: other', '  cluster:', `    server: ${api.url}`, '    certificate-authority-data: AAAA',
      '- name: test', '  cluster:', '    server: http://127.0.0.1:1',
      'contexts:', '- name: other', '  context:', '    cluster: other', '    user: admin', '    namespace: kube-system',
      'users:', '- name: admin', '  user:', '    token: secret-token', '',
    ].join('\n'));
    // Two copies of the chain, one for each kubectl, so their writes do not meet.
    const chain = (tag: string) => {
      copyFileSync(k.kubeconfig, `${k.kubeconfig}.${tag}`);
      copyFileSync(second, `${second}.${tag}`);
      return `${k.kubeconfig}.${tag}:${second}.${tag}`;
    };
    const ours = chain('ours');
    const real = chain('real');
    const run = async (args: string[]) => ({
      o: await k.ours(args, '', { KUBECONFIG: ours }),
      r: await k.real(args, '', { KUBECONFIG: real }),
    });
    {
      for (const args of [
        ['config', 'view'], ['config', 'view', '--minify'], ['config', 'view', '--raw'], ['config', 'view', '-o', 'jsonpath={.contexts[*].name}'],
        ['config', 'get-contexts'], ['config', 'get-contexts', '-o', 'name'], ['config', 'get-contexts', 'nope'], ['config', 'current-context'],
        ['config', 'use-context', 'other'], ['config', 'current-context'], ['config', 'use-context', 'nope'],
        ['config', 'set-context', '--current', '--namespace=web'], ['config', 'set-context', 'fresh', '--cluster=test', '--user=test'],
        ['config', 'get-contexts'], ['get', 'ns', 'kube-system', '-o', 'name'], ['--context=test', 'get', 'ns', 'default', '-o', 'name'],
        ['--context=missing', 'get', 'ns'],
      ]) {
        const { o, r } = await run(args);
        expect({ args, code: o.code, out: normalise(o.stdout), err: normalise(o.stderr) }).toEqual({ args, code: r.code, out: normalise(r.stdout), err: normalise(r.stderr) });
      }
      // The files were written alike, each change into the file that holds the stanza.
      expect(readFileSync(`${second}.ours`, 'utf8')).toEqual(readFileSync(`${second}.real`, 'utf8'));
      expect(readFileSync(`${k.kubeconfig}.ours`, 'utf8').replaceAll('.ours', '')).toEqual(readFileSync(`${k.kubeconfig}.real`, 'utf8').replaceAll('.real', ''));
    }
  });
});
