import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiserver, type TestApiserver } from './harness.js';
import { kubectlPair, normalise, runOurs, runReal, type KubectlPair, type KubectlResult } from './kubectl-compare.js';

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

// The editing subcommands, each run by ours and by kubectl on the same fresh files in the same directory (one after
// the other), comparing stdout, stderr, exit code and every file left behind: its bytes, its parsed contents, its mode.
describe('k8ts-kubectl config edits, side by side with kubectl', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'k8ts-kconfig-'));
  const dir = path.join(root, 'kube');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const ca = path.join(dir, 'certs', 'ca.pem');
  const single = [
    'apiVersion: v1', 'kind: Config', 'current-context: a',
    'clusters:', '- name: c1', '  cluster:', '    server: https://1.2.3.4', '    certificate-authority: ca.crt', '    unknownfield: x',
    '- name: 10.0.0.1', '  cluster: {server: "https://10.0.0.1", tls-server-name: tls, insecure-skip-tls-verify: true}',
    '- name: c3', '  cluster: {server: "https://c3", certificate-authority: ../up/ca.pem}',
    'contexts:', '- name: a', '  context: {cluster: c1, user: u1, namespace: ns}', '- name: b', '  context: {cluster: c2, user: u2}',
    'users:', '- name: u1', '  user: {token: t}',
    '- name: u2', '  user: {exec: {command: cmd, args: [x], env: [{name: A, value: "1"}], apiVersion: client.authentication.k8s.io/v1}}',
    '- name: u3', '  user: {auth-provider: {name: oidc, config: {k: v}}, username: me, password: pw}',
    '- name: u4', '  user: {tokenFile: ./t, client-key: ../k}',
    // Base64 over two lines: Go decodes it and writes it back on one.
    '- name: u5', '  user:', '    client-key-data: |', '      YWJj', '      ZA==', '',
  ].join('\n');
  // A chain: `a` without current-context, `b` with it (and a `ca` shadowed by a's), `c` missing.
  const chainA = ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: ca', '  cluster:', '    server: https://a', 'contexts:', '- name: x',
    '  context: {cluster: ca, user: ub}', 'preferences: {colors: true}', ''].join('\n');
  const chainB = ['apiVersion: v1', 'kind: Config', 'current-context: yy', 'clusters:', '- name: cb', '  cluster:', '    server: https://b', '- name: ca',
    '  cluster:', '    server: https://shadowed', 'contexts:', '- name: yy', '  context: {cluster: cb, user: ub}', 'users:', '- name: ub', '  user: {token: t}', ''].join('\n');
  type Setup = 'single' | 'chain' | 'none' | 'missing' | 'locked' | 'relative' | 'invalid';
  const reset = (setup: Setup) => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(ca), { recursive: true });
    writeFileSync(ca, 'CA DATA\n');
    if (setup === 'single' || setup === 'locked' || setup === 'relative') { writeFileSync(path.join(dir, 'config'), single); chmodSync(path.join(dir, 'config'), 0o644); }
    // A []byte field that is not base64: kubectl cannot load the file.
    if (setup === 'invalid') writeFileSync(path.join(dir, 'config'), single.replace('certificate-authority: ca.crt', 'certificate-authority-data: abc'));
    // Another kubectl in the middle of writing the file.
    if (setup === 'locked') writeFileSync(path.join(dir, 'config.lock'), '');
    if (setup === 'chain') { writeFileSync(path.join(dir, 'a'), chainA); writeFileSync(path.join(dir, 'b'), chainB); }
  };
  const envFor = (setup: Setup): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(root, 'home') };
    if (setup === 'single' || setup === 'locked' || setup === 'invalid') env.KUBECONFIG = path.join(dir, 'config');
    // Relative to the working directory both kubectls run in: kubectl names the file as given.
    if (setup === 'relative') env.KUBECONFIG = path.relative(process.cwd(), path.join(dir, 'config'));
    if (setup === 'chain') env.KUBECONFIG = ['a', 'b', 'c'].map((f) => path.join(dir, f)).join(':');
    if (setup === 'none') env.KUBECONFIG = `${path.join(dir, 'new1')}:${path.join(dir, 'sub', 'new2')}`;
    return env;
  };
  const files = (): Record<string, { text: string; mode: number; parsed: unknown }> => {
    const out: Record<string, { text: string; mode: number; parsed: unknown }> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) { out[`${path.relative(dir, p)}/`] = { text: '', mode: statSync(p).mode & 0o777, parsed: null }; walk(p); }
        else out[path.relative(dir, p)] = { text: readFileSync(p, 'utf8'), mode: statSync(p).mode & 0o777, parsed: loadYaml(readFileSync(p, 'utf8')) };
      }
    };
    if (existsSync(dir)) walk(dir);
    return out;
  };
  // kubectl prints a Go map of pointers in a few errors; the addresses are its own.
  // get-clusters and get-users list in Go's map order, which is random; ours sorts.
  const scrub = (r: KubectlResult) => ({
    code: r.code,
    out: r.stdout.startsWith('NAME\n') ? `NAME\n${r.stdout.slice(5).split('\n').filter(Boolean).sort().map((l) => `${l}\n`).join('')}` : r.stdout,
    // Where kubectl panics, ours prints the panic's line but not Go's goroutine trace.
    err: (r.stderr.startsWith('panic: ') ? `${r.stderr.split('\n')[0]}\n` : r.stderr).replace(/0x[0-9a-f]+/g, '0x'),
  });
  const cacheDir = path.join(root, 'cache');
  async function compare(setup: Setup, args: string[]): Promise<void> {
    const argv = setup === 'missing' ? [`--kubeconfig=${path.join(dir, 'sub', 'explicit')}`, ...args] : args;
    reset(setup);
    const real = scrub(await runReal(argv, envFor(setup), cacheDir));
    const realFiles = files();
    reset(setup);
    const ours = scrub(await runOurs(argv, envFor(setup)));
    expect({ args, ...ours, files: files() }).toEqual({ args, ...real, files: realFiles });
  }

  it.each([
    ['get-clusters'], ['get-users'], ['get-clusters', 'ignored'],
    ['delete-context', 'a'], ['delete-context', 'b'], ['delete-context', 'zz'], ['delete-context'], ['delete-context', 'a', 'b'],
    ['delete-cluster', 'c1'], ['delete-cluster', 'zz'], ['delete-cluster'], ['delete-user', 'u1'], ['delete-user', 'zz'], ['delete-user'], ['delete-user', 'a', 'b'],
    ['rename-context', 'a', 'z'], ['rename-context', 'b', 'a'], ['rename-context', 'q', 'r'], ['rename-context', 'b'], ['rename-context', 'b', ''],
  ])('config %s … on one file', async (...args: string[]) => {
    await compare('single', ['config', ...args]);
  });

  it.each([
    ['c2', '--server=https://x', `--certificate-authority=${ca}`, '--tls-server-name=n', '--proxy-url=http://p'], ['c1', '--server=https://q'],
    ['10.0.0.1', '--server=https://q'], ['10.0.0.1', `--certificate-authority=${ca}`], ['c1', '--insecure-skip-tls-verify'],
    ['c1', '--insecure-skip-tls-verify=false'], ['c4', '--embed-certs', `--certificate-authority=${ca}`], ['c5', '--embed-certs'],
    ['c1', `--certificate-authority=${ca}`, '--insecure-skip-tls-verify'], ['c1', '--certificate-authority=/nope', '--embed-certs'],
    ['c6', '--certificate-authority=/etc/hosts'], ['c3', '--server=x'], ['c3', '--certificate-authority=../x.pem'], [], [''], ['a', 'b'],
  ])('config set-cluster %s …', async (...args: string[]) => {
    await compare('single', ['config', 'set-cluster', ...args]);
  });

  it.each([
    ['u1', '--token=t2'], ['u9', '--token=tt', '--username=a'], ['u3', '--token=t2'], ['u1', '--username=a', '--password=b'],
    ['u4', '--exec-command=cmd', '--exec-arg=a1,a2', '--exec-env=A=1', '--exec-api-version=client.authentication.k8s.io/v1', '--exec-interactive-mode=Never', '--exec-provide-cluster-info'],
    ['u2', '--exec-command=other'], ['u2', '--exec-env=A-', '--exec-env=B=2'], ['u2', '--exec-arg=y'],
    ['u5', '--auth-provider=gcp', '--auth-provider-arg=k=v'], ['u3', '--auth-provider-arg=k-', '--auth-provider-arg=n=m'], ['u3', '--auth-provider=gcp'], ['u6', '--auth-provider=gcp'],
    ['u1', `--client-certificate=${ca}`, `--client-key=${ca}`, '--embed-certs'], ['u1', `--client-certificate=${ca}`], ['u1', '--client-key=/etc/hosts'],
    ['u4', '--token=x'], ['u9', '--exec-command=./bin/x'], ['u9', '--exec-command=../bin/x'], ['u9', '--exec-command=x'],
    [], ['a', 'b'], ['u', '--embed-certs'], ['u', '--embed-certs', '--client-key=/nope'], ['u', '--exec-interactive-mode=bad'],
    ['u', '--exec-env=bad'], ['u', '--auth-provider-arg=bad'], [''],
  ])('config set-credentials %s …', async (...args: string[]) => {
    await compare('single', ['config', 'set-credentials', ...args]);
  });

  it.each([
    ['clusters.c1.server', 'http://y'], ['clusters.10.0.0.1.server', 'http://z'], ['clusters.new.insecure-skip-tls-verify', 'true'],
    ['clusters.c1.certificate-authority-data', 'aGVsbG8='], ['users.u1.client-key-data', 'raw', '--set-raw-bytes'],
    ['users.u1.client-key-data', 'raw', '--set-raw-bytes=false'], ['clusters.c1.certificate-authority-data', 'abc'],
    ['clusters.c1.certificate-authority-data', 'YW Jj'], ['clusters.c1.certificate-authority-data', '!!'], ['clusters.c1.insecure-skip-tls-verify', 'maybe'],
    ['clusters.c1.insecure-skip-tls-verify', 'F'], ['users.u1.token', ''], ['current-context', 'b'], ['current-context', 'a'], ['preferences.colors', 'true'],
    ['contexts.new.namespace', 'n'], ['contexts.a.cluster', 'c9'], ['users.u1.act-as', 'bob'], ['users.u1.as', 'bob'], ['users.u1.act-as-groups', 'g'],
    ['users.u1.act-as-user-extra', 'x'], ['users.u1.act-as-user-extra.k', 'v'], ['users.u2.exec.command', 'x'], ['clusters.c1.server.x', '1'],
    ['clusters.c1.bogus', '1'], ['contexts.a.bogus.x', '1'], ['users', '1'], ['nope.x', '1'], ['preferences.bogus', '1'], ['preferences', 'x'],
    ['kind', 'x'], ['apiVersion', 'v2'], ['a'], ['a', 'b', 'c'], [], ['clusters.c1.-', path.join(dir, 'moved')], ['contexts.a.extensions', 'x'],
    ['clusters.c1.extensions.foo', 'x'], ['users.u1.exec', 'x'], ['users.u1.auth-provider', 'x'], ['preferences.extensions.x', 'y'], ['extensions.x', 'y'],
    ['users.u1.client-key-data', 'YWJj\nZA=='], ['clusters.c1.disable-compression', 'true'], ['users.u1.tokenFile', '/tmp/x'], ['clusters.c1', 'x'],
  ])('config set %s …', async (...args: string[]) => {
    await compare('single', ['config', 'set', ...args]);
  });

  it.each([
    ['users.u1.token'], ['users.u3.password'], ['contexts.zz'], ['contexts.zz.namespace'], ['contexts.a.namespace'], ['contexts.a.bogus'], ['current-context'],
    ['preferences.colors'], ['preferences'], ['clusters'], ['users.u1'], ['users.u1.act-as-groups'], ['clusters.c1.certificate-authority'], ['nope'], [], ['a', 'b'],
    ['contexts.a.extensions'], ['users.u1.extensions'], ['preferences.extensions'], ['extensions'], ['users.u1.exec.command'],
    ['users.u1.act-as-user-extra.k'], ['clusters.c1.server'],
  ])('config unset %s', async (...args: string[]) => {
    await compare('single', ['config', 'unset', ...args]);
  });

  it.each([
    ['get-clusters'], ['get-users'], ['delete-cluster', 'ca'], ['delete-cluster', 'cb'], ['delete-context', 'yy'], ['delete-context', 'x'], ['delete-user', 'ub'],
    ['rename-context', 'yy', 'z'], ['rename-context', 'x', 'z'], ['set-cluster', 'new', '--server=s'], ['set-cluster', 'cb', '--server=s2'],
    ['set-cluster', 'ca', `--certificate-authority=${ca}`], ['set-credentials', 'ub', '--token=t2'], ['set-credentials', 'un', '--token=t2'],
    ['set', 'current-context', 'x'], ['unset', 'current-context'], ['use-context', 'x'], ['set', 'preferences.colors', 'false'], ['unset', 'preferences'],
    ['set', 'contexts.q.cluster', 'cb'], ['unset', 'users'], ['set', 'clusters.ca.server', 'https://z'], ['set-context', 'new2', '--cluster=ca'],
    ['set-context', '--current', '--namespace=q'], ['view'], ['unset', 'clusters'], ['unset', 'preferences.colors'], ['set', 'contexts.x.-', path.join(dir, 'moved', 'f')],
  ])('config %s … on a three-file KUBECONFIG', async (...args: string[]) => {
    await compare('chain', ['config', ...args]);
  });

  it.each([
    ['set-cluster', 'c', '--server=s'], ['set-credentials', 'u', '--token=t'], ['set-context', 'x', '--cluster=c'], ['set', 'current-context', 'x'],
    ['set', 'preferences.colors', 'true'], ['get-clusters'], ['view'], ['get-contexts'], ['current-context'], ['delete-context', 'x'], ['unset', 'current-context'],
  ])('config %s … with no file yet (KUBECONFIG and a missing --kubeconfig)', async (...args: string[]) => {
    await compare('none', ['config', ...args]);
    await compare('missing', ['config', ...args]);
  });

  it.each([
    ['set-cluster', 'c1', '--server=x'], ['delete-context', 'a'], ['set', 'current-context', 'b'], ['unset', 'nope'], ['use-context', 'b'], ['get-clusters'],
  ])('config %s … while the file is locked', async (...args: string[]) => {
    await compare('locked', ['config', ...args]);
  });

  it.each([
    ['delete-context', 'a'], ['delete-user', 'zz'], ['rename-context', 'a', 'q'], ['set-cluster', 'c1', `--certificate-authority=${ca}`],
    ['set-credentials', 'u1', `--client-key=${path.relative(process.cwd(), ca)}`], ['use-context', 'b'],
  ])('config %s … on a KUBECONFIG given as a relative path', async (...args: string[]) => {
    await compare('relative', ['config', ...args]);
  });

  it.each([['set-cluster', 'c1', '--server=x'], ['delete-context', 'a'], ['set', 'current-context', 'b'], ['get-users']])('config %s … on a file kubectl cannot load', async (...args: string[]) => {
    await compare('invalid', ['config', ...args]);
  });

  // set-cluster's and set-credentials' own flags share names with kubectl's global ones, wherever they are written.
  it.each([
    ['--token=abc', 'config', 'set-credentials', 'u1'], ['--server=https://s', 'config', 'set-cluster', 'c1'], ['--insecure-skip-tls-verify', 'config', 'set-cluster', 'c1'],
    ['--username=a', '--password=b', 'config', 'set-credentials', 'u1'], ['config', 'set-cluster', 'c1', '-s', 'https://q'], ['-s', 'https://q', 'config', 'set-cluster', 'c1'],
    ['config', 'set-cluster', 'c1', '--namespace=x', '--server=q'], ['--namespace=web', 'config', 'set-context', 'a'],
  ])('%s … with global flags', async (...args: string[]) => {
    await compare('single', args);
  });

  it('a sequence of edits leaves the same file', async () => {
    const steps = [
      ['set-cluster', 'e2e', '--server=https://1.2.3.4', `--certificate-authority=${ca}`], ['set-credentials', 'admin', '--token=abc'],
      ['set-context', 'e2e', '--cluster=e2e', '--user=admin'], ['use-context', 'e2e'], ['rename-context', 'e2e', 'prod'],
      ['set', 'contexts.prod.namespace', 'web'], ['delete-user', 'admin'], ['unset', 'contexts.prod.user'], ['delete-context', 'prod'], ['view', '--raw'],
    ];
    const run = async (who: 'ours' | 'real') => {
      reset('none');
      const out: unknown[] = [];
      for (const s of steps) {
        const argv = ['config', ...s];
        out.push(scrub(who === 'real' ? await runReal(argv, envFor('none'), cacheDir) : await runOurs(argv, envFor('none'))));
      }
      return { out, files: files() };
    };
    const real = await run('real');
    expect(await run('ours')).toEqual(real);
  });
});
