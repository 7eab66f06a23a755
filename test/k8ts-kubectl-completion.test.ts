import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestApiserver, type TestApiserver } from './harness.js';
import { exact, kubectlPair, type KubectlPair } from './kubectl-compare.js';

const execFileP = promisify(execFile);
let api: TestApiserver;
let k: KubectlPair;

beforeAll(async () => {
  api = await startTestApiserver();
  k = kubectlPair(api.url);
  for (const name of ['web', 'worker', 'db']) {
    expect((await call(api.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } })).status).toBe(201);
  }
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  await call(api.url, 'POST', '/api/v1/namespaces/demo/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only-in-demo' } });
  await call(api.url, 'POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'main', image: 'busybox' }, { name: 'side', image: 'busybox' }] },
  });
});
afterAll(async () => {
  k?.cleanup();
  await api?.stop();
});

/** Byte for byte; ours' stdout. */
const same = async (args: string[]): Promise<string> => (await k.same(args, { scrub: exact })).stdout;

describe('k8ts-kubectl __complete, side by side with kubectl', () => {
  it('completes resource types from discovery, names, namespaces and pods', async () => {
    expect(await same(['__complete', 'get', ''])).toMatch(/^configmaps\n[^]*\ndeployments\.apps\n[^]*:4\n$/);
    await same(['__complete', 'get', 'de']);
    await same(['__complete', 'describe', 'configmaps', 'w']);
    await same(['__complete', 'get', 'cm/']);
    await same(['__complete', '-n', 'demo', 'get', 'cm', '']);
    await same(['__complete', 'get', '-n', '']);
    await same(['__complete', 'logs', '']);
    await same(['__complete', 'logs', 'p1', '']);
    await same(['__complete', 'exec', 'p1', '']);
    // kubectl takes the shells from a Go map: their order varies run to run.
    const shells = await k.both(['__complete', 'completion', '']);
    expect(shells.ours.stdout.split('\n').sort()).toEqual(shells.real.stdout.split('\n').sort());
    await same(['__complete', 'describe', '--show-e']);
    await same(['__completeNoDesc', 'get', 'cm', '']);
  });

  it('completes command names with their summaries', async () => {
    // kubectl also has commands k8ts-kubectl lacks (debug, proxy, …): compared where both have them.
    for (const prefix of ['des', 'ex', 'lo', 'get']) await same(['__complete', prefix]);
    const ours = await k.ours(['__complete', 'de']);
    expect(ours.stdout).toBe('delete\tDelete resources by file names, stdin, resources and names, or by resources and label selector\ndescribe\tShow details of a specific resource or group of resources\n:4\n');
  });

  it('prints kubectl\'s errors for the completion command', async () => {
    await same(['completion']);
    await same(['completion', 'bash', 'zsh']);
    await same(['completion', 'tcsh']);
  });
});

describe('k8ts-kubectl completion bash', () => {
  it('completes commands, types and names in bash through __complete', async () => {
    const bin = path.join(k.dir, 'bin');
    await execFileP('mkdir', ['-p', bin]);
    const main = path.resolve(import.meta.dirname, '../packages/kubectl/dist/main.js');
    writeFileSync(path.join(bin, 'k8ts-kubectl'), `#!/bin/sh\nexec "${process.execPath}" "${main}" "$@"\n`);
    chmodSync(path.join(bin, 'k8ts-kubectl'), 0o755);
    const script = k.file('complete.sh', `source <(k8ts-kubectl completion bash)
try() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); __k8ts_kubectl_complete; echo "\${COMPREPLY[*]}"; }
try k8ts-kubectl des
try k8ts-kubectl get depl
try k8ts-kubectl get configmaps w
try k8ts-kubectl -n demo describe cm ''
try k8ts-kubectl logs p1 s
`);
    const { stdout } = await execFileP('bash', [script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: k.kubeconfig, HOME: k.dir } });
    expect(stdout).toBe('describe\ndeployments.apps\nweb worker\nonly-in-demo\nside\n');
    const zsh = await k.ours(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef k8ts-kubectl\n[^]*__complete[^]*compdef _k8ts_kubectl k8ts-kubectl\n/);
  });
});
