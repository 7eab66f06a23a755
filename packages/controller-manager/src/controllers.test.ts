import { describe, expect, it } from 'vitest';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import { silentLogger } from '@k8ts/api';
import { CONTROLLERS, enabledControllers, type ControllerContext } from './controllers.js';

const ctx = (options: Record<string, string> = {}): ControllerContext => ({
  client: new RecordingClient(), informers: new FakeInformerFactory(), log: silentLogger, workers: () => 1, option: (f) => options[f],
});

describe('the controller list', () => {
  it('has upstream\'s names, and --controllers picks from them', () => {
    expect(CONTROLLERS.map((c) => c.name)).toEqual(expect.arrayContaining(['replicaset', 'daemonset', 'statefulset', 'garbagecollector', 'namespace', 'podgc', 'serviceaccount']));
    expect(enabledControllers('*,-garbagecollector').map((c) => c.name)).not.toContain('garbagecollector');
    expect(enabledControllers('namespace').map((c) => c.name)).toEqual(['namespace']);
  });

  it('names the worker flags as upstream: --concurrent-gc-syncs, none for podgc and serviceaccount', () => {
    const flags = Object.fromEntries(CONTROLLERS.map((c) => [c.name, c.syncsFlag === null ? null : `--concurrent-${c.syncsFlag ?? c.name}-syncs`]));
    expect(flags).toMatchObject({
      garbagecollector: '--concurrent-gc-syncs', namespace: '--concurrent-namespace-syncs', podgc: null, serviceaccount: null,
      daemonset: '--concurrent-daemonset-syncs', statefulset: '--concurrent-statefulset-syncs',
      endpoint: '--concurrent-endpoint-syncs', endpointslice: '--concurrent-service-endpoint-syncs',
      job: '--concurrent-job-syncs', cronjob: '--concurrent-cron-job-syncs', 'ttl-after-finished': '--concurrent-ttl-after-finished-syncs',
    });
    // on by default, as upstream
    expect(enabledControllers('*').map((c) => c.name)).toEqual(expect.arrayContaining(['job', 'cronjob', 'ttl-after-finished']));
    expect(CONTROLLERS.find((c) => c.name === 'podgc')!.options).toEqual([expect.objectContaining({ flag: 'terminated-pod-gc-threshold', default: '12500' })]);
  });

  it('refuses a bad --terminated-pod-gc-threshold', () => {
    const podgc = CONTROLLERS.find((c) => c.name === 'podgc')!;
    expect(() => podgc.build(ctx({ 'terminated-pod-gc-threshold': 'lots' }))).toThrow(/non-negative integer/);
    expect(() => podgc.build(ctx({ 'terminated-pod-gc-threshold': '0' }))).not.toThrow();
  });

  it('refuses a --max-endpoints-per-slice outside 1..1000', () => {
    const slices = CONTROLLERS.find((c) => c.name === 'endpointslice')!;
    expect(() => slices.build(ctx({ 'max-endpoints-per-slice': '0' }))).toThrow(/1 to 1000/);
    expect(() => slices.build(ctx({ 'max-endpoints-per-slice': '1001' }))).toThrow(/1 to 1000/);
    expect(() => slices.build(ctx({ 'max-endpoints-per-slice': '50' }))).not.toThrow();
  });
});
