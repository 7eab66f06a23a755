import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, type Container, type Pod } from '@k8ts/api';
import { ProbeManager, runProbe, type Probe } from './probes.js';
import type { ContainerRuntime, ExecResult } from './runtime.js';

/** A runtime whose exec answers from `exitCodes[containerId + ' ' + command]` (0 when unset). */
function fakeRuntime() {
  const exitCodes = new Map<string, number | 'hang' | 'error'>();
  const calls: string[] = [];
  const runtime = {
    async exec(id: string, command: string[]): Promise<ExecResult> {
      const key = `${id} ${command.join(' ')}`;
      calls.push(key);
      const code = exitCodes.get(key) ?? 0;
      if (code === 'hang') return new Promise(() => {});
      if (code === 'error') throw new Error('no such container');
      return { exitCode: code, stdout: code ? 'unhealthy\n' : 'ok\n', stderr: '' };
    },
  } as unknown as ContainerRuntime;
  return { runtime, exitCodes, calls };
}

const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

function setup() {
  const clock = new FakeClock();
  const fake = fakeRuntime();
  const changes: string[] = [];
  const manager = new ProbeManager({
    runtime: fake.runtime, clock, onChange: (uid, name, kind, result, message) => changes.push(`${uid}/${name} ${kind}=${result} ${message.trim()}`),
  });
  /** Moves the clock one second at a time, letting each probe finish before the next tick. */
  const seconds = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) { clock.advance(1000); await flush(); }
  };
  const started = (agoSeconds = 0) => new Date(clock.now() - agoSeconds * 1000).toISOString();
  return { clock, manager, changes, seconds, started, ...fake };
}

const exec = (command: string, extra: Partial<Probe> = {}): Probe => ({ exec: { command: [command] }, periodSeconds: 1, ...extra });
const pod = (containers: Container[], uid = 'u1'): Pod =>
  ({ metadata: { uid, name: 'web', namespace: 'default' }, spec: { containers }, status: { podIP: '127.0.0.1' } });

describe('ProbeManager', () => {
  it('keeps readiness failing until the first success after initialDelaySeconds from container start', async () => {
    const t = setup();
    const p = pod([{ name: 'app', readinessProbe: exec('ready', { initialDelaySeconds: 5 }) }]);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started(1) }]);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('failure');
    expect(t.manager.result('u1', 'app', 'liveness')).toBeUndefined();
    await t.seconds(3);
    expect(t.calls).toEqual([]);
    await t.seconds(1);
    expect(t.calls).toEqual(['c1 ready']);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('success');
    expect(t.changes).toEqual(['u1/app readiness=success ok']);
    await t.seconds(3);
    expect(t.calls).toHaveLength(4);
    expect(t.changes).toHaveLength(1);
    t.manager.stop();
  });

  it('starts liveness at success, fails it once at failureThreshold, holds until a new container resets it', async () => {
    const t = setup();
    const p = pod([{ name: 'app', livenessProbe: exec('live', { failureThreshold: 3, periodSeconds: 2 }) }]);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    expect(t.manager.result('u1', 'app', 'liveness')).toBe('success');
    await t.seconds(1);
    t.exitCodes.set('c1 live', 1);
    await t.seconds(4);
    expect(t.calls).toHaveLength(3);
    expect(t.changes).toEqual([]);
    await t.seconds(2);
    expect(t.changes).toEqual(['u1/app liveness=failure unhealthy']);
    expect(t.manager.result('u1', 'app', 'liveness')).toBe('failure');
    await t.seconds(10);
    expect(t.calls).toHaveLength(4); // on hold: no probing of a container about to be restarted

    t.manager.sync(p, [{ name: 'app', containerId: 'c2', startedAt: t.started() }]);
    expect(t.manager.result('u1', 'app', 'liveness')).toBe('success');
    await t.seconds(1);
    expect(t.calls.at(-1)).toBe('c2 live');
    expect(t.changes).toHaveLength(1);
    t.manager.stop();
  });

  it('needs successThreshold/failureThreshold consecutive results and reports each transition once', async () => {
    const t = setup();
    const p = pod([{ name: 'app', readinessProbe: exec('ready', { successThreshold: 2, failureThreshold: 2 }) }]);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    await t.seconds(1);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('failure');
    await t.seconds(1);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('success');
    t.exitCodes.set('c1 ready', 1);
    await t.seconds(1);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('success');
    t.exitCodes.set('c1 ready', 0);
    await t.seconds(1); // a lone failure resets the run
    t.exitCodes.set('c1 ready', 1);
    await t.seconds(4);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('failure');
    expect(t.changes).toEqual(['u1/app readiness=success ok', 'u1/app readiness=failure unhealthy']);
    t.manager.stop();
  });

  it('gates liveness and readiness behind the startup probe, then probes readiness at once', async () => {
    const t = setup();
    const p = pod([{
      name: 'app', startupProbe: exec('start', { failureThreshold: 10 }),
      livenessProbe: exec('live', { periodSeconds: 5 }), readinessProbe: exec('ready', { periodSeconds: 5 }),
    }]);
    t.exitCodes.set('c1 start', 1);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    expect(t.manager.result('u1', 'app', 'startup')).toBe('failure');
    await t.seconds(4);
    expect(t.calls.every((c) => c === 'c1 start')).toBe(true);
    t.exitCodes.set('c1 start', 0);
    await t.seconds(1);
    expect(t.changes).toEqual(['u1/app startup=success ok', 'u1/app readiness=success ok']);
    const probed = t.calls.length;
    await t.seconds(5);
    expect(t.calls.slice(probed).sort()).toEqual(['c1 live', 'c1 ready']); // startup no longer runs
    t.manager.stop();
  });

  it('fails startup at its threshold and holds it', async () => {
    const t = setup();
    const p = pod([{ name: 'app', startupProbe: exec('start', { failureThreshold: 2 }), livenessProbe: exec('live') }]);
    t.exitCodes.set('c1 start', 1);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    await t.seconds(5);
    expect(t.changes).toEqual(['u1/app startup=failure unhealthy']);
    expect(t.calls).toEqual(['c1 start', 'c1 start']);
    t.manager.stop();
  });

  it('times out exec probes, and throws away probes that errored', async () => {
    const t = setup();
    const p = pod([{ name: 'app', livenessProbe: exec('live', { failureThreshold: 1, periodSeconds: 1 }) }]);
    t.exitCodes.set('c1 live', 'error');
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    await t.seconds(3);
    expect(t.calls).toHaveLength(3);
    expect(t.changes).toEqual([]);
    t.manager.stop();

    const fake = fakeRuntime();
    fake.exitCodes.set('c1 sleep', 'hang');
    const at = Date.now();
    const out = await runProbe(exec('sleep', { timeoutSeconds: 1 }), { podIP: '', containerId: 'c1', container: { name: 'app' }, runtime: fake.runtime });
    expect(out).toEqual({ result: 'failure', message: 'command "sleep" timed out' });
    expect(Date.now() - at).toBeGreaterThanOrEqual(990);
  });

  it('idles workers of stopped containers, restarts them for new ids, and stops on remove/stop', async () => {
    const t = setup();
    const p = pod([{ name: 'app', readinessProbe: exec('ready'), livenessProbe: exec('live') }, { name: 'sidecar' }]);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    await t.seconds(1);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('success');
    expect(t.manager.result('u1', 'sidecar', 'readiness')).toBeUndefined();

    t.manager.sync(p, []);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('failure');
    const probed = t.calls.length;
    await t.seconds(3);
    expect(t.calls).toHaveLength(probed);

    t.manager.sync(p, [{ name: 'app', containerId: 'c2', startedAt: t.started() }]);
    await t.seconds(1);
    expect(t.manager.result('u1', 'app', 'readiness')).toBe('success');
    expect(t.calls.slice(probed).sort()).toEqual(['c2 live', 'c2 ready']);

    t.manager.sync(pod([{ name: 'app', readinessProbe: exec('ready') }], 'u2'), [{ name: 'app', containerId: 'c3', startedAt: t.started() }]);
    t.manager.remove('u1');
    expect(t.manager.result('u1', 'app', 'readiness')).toBeUndefined();
    expect(t.clock.pending()).toBe(1);
    t.manager.stop();
    expect(t.clock.pending()).toBe(0);
    expect(t.manager.result('u2', 'app', 'readiness')).toBeUndefined();
  });

  it('runs httpGet probes on named ports at the pod IP', async () => {
    const server = http.createServer((_req, res) => res.end('fine'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const t = setup();
    const p = pod([{ name: 'app', ports: [{ name: 'http', containerPort: port }], readinessProbe: { httpGet: { path: '/', port: 'http' } } }]);
    t.manager.sync(p, [{ name: 'app', containerId: 'c1', startedAt: t.started() }]);
    t.clock.advance(0);
    await expect.poll(() => t.changes).toEqual(['u1/app readiness=success fine']);
    t.manager.stop();
    server.close();
  });
});

describe('runProbe', () => {
  let server: http.Server;
  let port: number;
  let closedPort: number;
  const seen: http.IncomingHttpHeaders[] = [];
  const container: Container = { name: 'app', ports: [{ name: 'web', containerPort: 0 }] };
  const run = (probe: Probe) => runProbe(probe, { podIP: '127.0.0.1', containerId: 'c1', container, runtime: fakeRuntime().runtime });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/hang') return;
      const status = Number(req.url?.slice(1)) || 200;
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {}).end(`status ${status}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    container.ports![0].containerPort = port;
    const spare = net.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
  });
  afterAll(() => { server.closeAllConnections(); server.close(); });

  it('counts 2xx and 3xx (redirects not followed) as success and others as failure', async () => {
    expect(await run({ httpGet: { path: '/200', port } })).toEqual({ result: 'success', message: 'status 200' });
    expect(await run({ httpGet: { path: '/302', port: 'web' } })).toEqual({ result: 'success', message: 'status 302' });
    expect(await run({ httpGet: { path: '/500', port: String(port) } })).toEqual({ result: 'failure', message: 'HTTP probe failed with statuscode: 500' });
  });

  it('sends upstream default headers unless httpHeaders override them', async () => {
    seen.length = 0;
    await run({ httpGet: { path: '/', port, httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } });
    await run({ httpGet: { path: '/', port, httpHeaders: [{ name: 'User-Agent', value: 'mine' }, { name: 'Accept', value: '' }] } });
    expect(seen[0]).toMatchObject({ 'user-agent': 'kube-probe/1.32', accept: '*/*', 'x-probe': 'yes' });
    expect(seen[1]['user-agent']).toBe('mine');
    expect(seen[1].accept).toBeUndefined();
  });

  it('fails on timeouts and refused connections', async () => {
    const slow = await run({ httpGet: { path: '/hang', port, host: '127.0.0.1' }, timeoutSeconds: 1 });
    expect(slow.result).toBe('failure');
    expect(slow.message).toContain(`Get "http://127.0.0.1:${port}/hang": context deadline exceeded`);
    const refused = await run({ httpGet: { path: '/', port: closedPort } });
    expect(refused.result).toBe('failure');
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('connects tcpSocket probes within the timeout', async () => {
    expect(await run({ tcpSocket: { port: 'web' } })).toEqual({ result: 'success', message: '' });
    const refused = await run({ tcpSocket: { port: closedPort } });
    expect(refused.result).toBe('failure');
    expect(refused.message).toMatch(new RegExp(`^dial tcp 127.0.0.1:${closedPort}: .*ECONNREFUSED`));
  });

  it('reports exec exit codes with their output, refuses grpc, and rejects unknown named ports', async () => {
    const fake = fakeRuntime();
    fake.exitCodes.set('c1 check', 2);
    const ctx = { podIP: '', containerId: 'c1', container, runtime: fake.runtime };
    expect(await runProbe({ exec: { command: ['check'] } }, ctx)).toEqual({ result: 'failure', message: 'unhealthy\n' });
    expect(await runProbe({ exec: { command: ['other'] } }, ctx)).toEqual({ result: 'success', message: 'ok\n' });
    expect(await run({ grpc: { port } })).toEqual({ result: 'failure', message: 'grpc probes are not supported' });
    await expect(run({ tcpSocket: { port: 'nope' } })).rejects.toThrow('port "nope" not found');
  });
});
