import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { exact, kubectlPair, type KubectlPair } from './kubectl-compare.js';
import { wrap } from '../packages/kubectl/src/cmd/explain.js';

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

/** explain output has no AGE values or padding: compared byte for byte. */
const same = (args: string[]) => k.same(args, { scrub: exact });

describe('k8ts-kubectl explain, side by side with kubectl', () => {
  it('explains resources and fields from /openapi/v3 in kubectl\'s plaintext layout', async () => {
    const cm = await same(['explain', 'configmaps']);
    expect(cm.stdout).toMatch(/^KIND: {7}ConfigMap\nVERSION: {4}v1\n\nDESCRIPTION:\n/);
    for (const x of ['pods', 'deploy.spec.strategy', 'deployment.spec.template.spec.containers.ports', 'svc.spec.type', 'pod.metadata.labels',
      'nodes.status', 'pods.spec.containers.name', 'cronjobs.spec.jobTemplate', 'ingresses.spec.rules']) {
      await same(['explain', x]);
    }
  });

  it('prints field trees with --recursive and other versions with --api-version', async () => {
    const r = await same(['explain', 'deploy.spec.strategy', '--recursive']);
    expect(r.stdout).toContain('  rollingUpdate\t<RollingUpdateDeployment>\n    maxSurge\t<IntOrString>\n');
    await same(['explain', 'pods', '--recursive']);
    await same(['explain', 'hpa', '--api-version=autoscaling/v2']);
    await same(['explain', 'hpa.spec', '--api-version', 'autoscaling/v1']);
  });

  it('reports errors as kubectl does', async () => {
    await same(['explain']);
    await same(['explain', 'deploy.spec.nope']);
    await same(['explain', 'nope']);
    await same(['explain', 'pods', '--api-version=v2']);
  });
});

describe('go-wordwrap', () => {
  it('wraps at whitespace and keeps long words whole', () => {
    expect(wrap('aaa bbb ccc', 7)).toBe('aaa bbb\nccc');
    expect(wrap('a https://very-long-url.example.com/x b', 10)).toBe('a\nhttps://very-long-url.example.com/x\nb');
    expect(wrap('one\ntwo three', 5)).toBe('one\ntwo\nthree');
  });
});
