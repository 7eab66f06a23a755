import { describe, expect, it } from 'vitest';
import type { Pod } from '@k8ts/api';
import type { ContainerRuntime, RuntimeContainer } from './runtime.js';
import { buildKubeletServer } from './server.js';

const POD: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } };

function container(id: string): RuntimeContainer {
  return {
    id, name: 'app', pod: { uid: 'uid-web', name: 'web', namespace: 'default' }, sandbox: false, init: false, restartCount: 0,
    hash: '', image: 'busybox', imageID: '', state: 'exited', createdAt: '2026-12-01T00:00:00Z', startedAt: '2026-12-01T00:00:01Z',
    finishedAt: '2026-12-01T00:00:02Z', exitCode: 0, reason: '', labels: {},
  };
}

describe('the kubelet server: /containerLogs', () => {
  it('answers 400 with the runtime\'s message when the container goes before its log is read, as upstream', async () => {
    const runtime = {
      listContainers: async () => [container('gone')],
      logs: async (id: string) => { throw new Error(`No such container: ${id}`); },
    } as unknown as ContainerRuntime;
    const app = buildKubeletServer({ runtime, pod: (key) => (key === 'default/web' ? POD : undefined), nodeName: 'node-1' });
    try {
      const res = await app.inject({ method: 'GET', url: '/containerLogs/default/web/app' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest',
        message: 'failed to get the logs of container "app" in pod "web": No such container: gone' });
      expect((await app.inject({ method: 'GET', url: '/containerLogs/default/other/app' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
