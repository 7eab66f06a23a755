// scripts/cluster end to end: up --detach, status, env, /readyz, down, and up again resuming the same etcd data.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const clusterScript = path.join(root, 'scripts/cluster');
const built = existsSync(path.join(root, 'packages/apiserver/dist/main.js'));
if (!built) console.warn('skipping scripts/cluster tests: packages/apiserver/dist/main.js does not exist (run `npm run build`)');

interface Run { code: number; stdout: string; stderr: string }

describe.skipIf(!built)('scripts/cluster (skipped when packages/apiserver/dist/main.js is missing: npm run build)', () => {
  let stateDir: string;

  // --no-build: tests use the build they were given rather than rebuilding under other tests' feet.
  const cluster = (...args: string[]) => new Promise<Run>((resolve) => {
    execFile(clusterScript, args, { env: { ...process.env, K8TS_STATE_DIR: stateDir }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
  const recorded = () => JSON.parse(readFileSync(path.join(stateDir, 'pids.json'), 'utf8')) as {
    components: { name: string; pid: number; url: string }[];
  };
  const apiserverUrl = () => recorded().components.find((c) => c.name === 'apiserver')!.url;
  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
    } catch {
      return false;
    }
  };

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'k8ts-cluster-test-'));
  });

  afterAll(async () => {
    await cluster('down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('comes up detached and reports itself healthy', async () => {
    const up = await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '0');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain(`export KUBECONFIG=${stateDir}/kubeconfig`);

    const status = await cluster('status');
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toMatch(/^etcd\s+\d+\s+http:\/\/127\.0\.0\.1:\d+\s+yes$/m);
    expect(status.stdout).toMatch(/^apiserver\s+\d+\s+http:\/\/127\.0\.0\.1:\d+\s+yes$/m);

    // The hints name the state directory before the command, and that works as printed.
    expect(up.stdout).toContain(`scripts/cluster --state-dir ${stateDir} down`);
    const hinted = await new Promise<Run>((resolve) => {
      const { K8TS_STATE_DIR: _, ...rest } = process.env;
      execFile(clusterScript, ['--state-dir', stateDir, 'status'], { env: rest, timeout: 90_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
    });
    expect(hinted.code, hinted.stdout + hinted.stderr).toBe(0);
    expect(hinted.stdout).toBe(status.stdout);

    const env = await cluster('env');
    expect(env.stdout).toBe(`export KUBECONFIG=${stateDir}/kubeconfig\n`);
    const kubeconfig = readFileSync(path.join(stateDir, 'kubeconfig'), 'utf8');
    expect(kubeconfig).toContain(`server: "${apiserverUrl()}"`);
    expect(kubeconfig).toContain('current-context: k8ts');

    const readyz = await fetch(`${apiserverUrl()}/readyz`);
    expect(readyz.status).toBe(200);
    await readyz.body?.cancel();

    const again = await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '0');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already up');
  });

  it('keeps the cluster state across down and up', async () => {
    const created = await fetch(`${apiserverUrl()}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'survivor' }, data: { k: 'v' } }),
    });
    expect(created.status, await created.text()).toBe(201);

    const pids = recorded().components.map((c) => c.pid);
    const down = await cluster('down');
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(path.join(stateDir, 'pids.json'))).toBe(false);
    expect((await cluster('status')).code).toBe(3);

    const up = await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '0');
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const res = await fetch(`${apiserverUrl()}/api/v1/namespaces/default/configmaps/survivor`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ metadata: { name: 'survivor' }, data: { k: 'v' } });

    expect((await cluster('down')).code).toBe(0);
    expect((await cluster('status')).code).toBe(3);
  });
});
