import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with scripts/
import { freePort } from '../scripts/lib/processes.mjs';
import { eventually } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const built = existsSync(path.join(ROOT, 'packages/controller-manager/dist/main.js')) && existsSync(path.join(ROOT, 'packages/kubelet/dist/main.js'));
const NS = 'batch';

const job = (name: string, spec: string, command: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${spec}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: k8ts/busybox:latest
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", ${JSON.stringify(command)}]
`;

/**
 * `scripts/cluster up --nodes 2`, then Jobs and a CronJob driven with the real kubectl: the controller manager's
 * Job, CronJob and TTL controllers with real kubelets running real busybox containers.
 */
describe.skipIf(!built)('Jobs and CronJobs on a 2-node local cluster with the real kubectl', { timeout: 240_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const state = () => path.join(dir, 'state');
  const cluster = (...args: string[]) => run(path.join(ROOT, 'scripts/cluster'), [...args, '--state-dir', state()], { timeout: 300_000 });
  const kubectl = async (...args: string[]) => (await run('kubectl', [`--cache-dir=${dir}/kc`, '-n', NS, ...args], { env, timeout: 200_000 })).stdout;
  const apply = async (name: string, text: string) => { writeFileSync(path.join(dir, name), text); return kubectl('apply', '-f', path.join(dir, name)); };
  const until = <T>(fn: () => Promise<T>, what: string, ms = 90_000) => eventually(async () => {
    const v = await fn();
    if (!v) await new Promise((r) => setTimeout(r, 500));
    return v;
  }, what, ms);
  const cronJobs = async () => (await kubectl('get', 'jobs', '-o', 'jsonpath={range .items[*]}{.metadata.name}|{.metadata.ownerReferences[0].name}|{.status.conditions[?(@.type=="Complete")].status}{"\\n"}{end}'))
    .split('\n').filter(Boolean).map((l) => l.split('|')).filter(([, owner]) => owner === 'tick').map(([name, , complete]) => ({ name, complete: complete === 'True' }));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'k8ts-batch-'));
    await cluster('up', '--detach', '--no-build', '--port', '0', '--nodes', '2', '--kubelet-port', String(await freePort('127.0.1.1')));
    env = { ...process.env, KUBECONFIG: path.join(state(), 'kubeconfig'), HOME: dir };
    await until(async () => { const o = await kubectl('get', 'nodes'); return /node-1\s+Ready/.test(o) && /node-2\s+Ready/.test(o); }, 'two Ready nodes', 60_000);
    writeFileSync(path.join(dir, 'ns.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await kubectl('apply', '-f', path.join(dir, 'ns.yaml'));
    // The CronJob first: its minutes pass while the Jobs run.
    expect(await apply('tick.yaml', `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "*/1 * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: k8ts/busybox:latest
            imagePullPolicy: IfNotPresent
            command: ["sh", "-c", "echo tick"]
`)).toBe('cronjob.batch/tick created\n');
    // As if the controller had been down for two minutes: one missed start is made up at once (only the latest).
    const past = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString().replace('.000Z', 'Z');
    await kubectl('patch', 'cronjob', 'tick', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { lastScheduleTime: past } }));
  }, 600_000);

  afterAll(async () => {
    if (!dir) return;
    await kubectl('delete', 'namespace', NS, '--ignore-not-found', '--timeout=60s').catch(() => undefined);
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  it('a Job with completions 4 / parallelism 2 completes; a failing one ends Failed/BackoffLimitExceeded', async () => {
    expect(await apply('four.yaml', job('four', '  completions: 4\n  parallelism: 2', 'echo done on $HOSTNAME'))).toBe('job.batch/four created\n');
    expect(await apply('bad.yaml', job('bad', '  backoffLimit: 1', 'exit 1'))).toBe('job.batch/bad created\n');
    // At most two at a time: watch the pods while it runs.
    let most = 0;
    const watching = until(async () => {
      const out = await kubectl('get', 'pods', '-l', 'job-name=four', '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}');
      most = Math.max(most, out.split('\n').filter((p) => p === 'Running' || p === 'Pending').length);
      return out.split('\n').filter((p) => p === 'Succeeded').length >= 4;
    }, 'four succeeded pods', 150_000);
    expect(await kubectl('wait', '--for=condition=complete', 'job/four', '--timeout=150s')).toBe('job.batch/four condition met\n');
    await watching;
    expect(most).toBeLessThanOrEqual(2);
    expect((await kubectl('get', 'job', 'four', '--no-headers')).split(/\s+/).slice(0, 3)).toEqual(['four', 'Complete', '4/4']);
    const pod = (await kubectl('get', 'pods', '-l', 'job-name=four', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    expect(await kubectl('logs', pod)).toBe(`done on ${pod}\n`);
    expect(await kubectl('get', 'pods', '-l', 'job-name=four', '-o', 'jsonpath={.items[*].metadata.finalizers}')).toBe('');

    expect(await kubectl('wait', '--for=condition=failed', 'job/bad', '--timeout=120s')).toBe('job.batch/bad condition met\n');
    expect(await kubectl('get', 'job', 'bad', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}|{.status.failed}')).toBe('BackoffLimitExceeded|2');
    expect((await kubectl('get', 'job', 'bad', '--no-headers')).split(/\s+/).slice(0, 3)).toEqual(['bad', 'Failed', '0/1']);
  });

  it('a CronJob every minute creates Jobs and keeps its history limit of one', async () => {
    // The missed start made up at once, then the next minute's.
    const first = await until(async () => (await cronJobs()).find((j) => j.complete), 'the first job completes', 60_000);
    expect(first.name).toMatch(/^tick-\d{8}$/);
    const second = await until(async () => (await cronJobs()).find((j) => j.complete && j.name !== first.name), 'the next minute\'s job completes', 100_000);
    expect(Number(second.name.slice(5))).toBeGreaterThan(Number(first.name.slice(5)));
    await until(async () => { const left = await cronJobs(); return left.length === 1 && left[0].name === second.name; }, 'only one job kept');
    const table = (await kubectl('get', 'cronjob', 'tick')).trim().split('\n');
    expect(table[0].split(/\s{2,}/)).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(await kubectl('get', 'cronjob', 'tick', '-o', 'jsonpath={.status.lastSuccessfulTime}')).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
