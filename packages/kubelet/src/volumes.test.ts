import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, Container, PersistentVolume, PersistentVolumeClaim, Pod, Secret } from '@k8ts/api';
import type { ObjectSource } from './env.js';
import { VolumeError, VolumeManager } from './volumes.js';

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

/** A mutable store of ConfigMaps and Secrets in namespace `ns`. */
class FakeSource implements ObjectSource {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  claims = new Map<string, PersistentVolumeClaim>();
  volumes = new Map<string, PersistentVolume>();
  async persistentVolumeClaim(ns: string, name: string) { return ns === 'ns' ? structuredClone(this.claims.get(name)) : undefined; }
  async persistentVolume(name: string) { return structuredClone(this.volumes.get(name)); }
  async configMap(ns: string, name: string) { return ns === 'ns' ? structuredClone(this.configMaps.get(name)) : undefined; }
  async secret(ns: string, name: string) { return ns === 'ns' ? structuredClone(this.secrets.get(name)) : undefined; }
  setConfigMap(name: string, data: Record<string, string>, binaryData?: Record<string, string>) {
    this.configMaps.set(name, { metadata: { name, namespace: 'ns' }, data, binaryData });
  }
}

let tmp: string;
let src: FakeSource;
let vm: VolumeManager;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'k8ts-volumes-'));
  src = new FakeSource();
  vm = new VolumeManager({ rootDir: path.join(tmp, 'root'), source: src });
});
afterEach(async () => { await rm(tmp, { recursive: true, force: true }); });

function podWith(volumes: Volume[], containers: Container[] = [], uid = 'uid-1'): Pod {
  return { metadata: { name: 'web', namespace: 'ns', uid, labels: { app: 'web' } }, spec: { volumes, containers } };
}
const volDir = (plugin: string, name: string, uid = 'uid-1') => path.join(tmp, 'root', 'pods', uid, 'volumes', plugin, name);
const mode = async (p: string) => (await stat(p)).mode & 0o777;
/** Names in a volume directory, the writer's `..` entries collapsed to their role. */
const listing = async (dir: string) => (await readdir(dir)).map((n) => (/^\.\.\d{4}_/.test(n) ? '..<ts>' : n)).sort();

describe('configMap and secret volumes', () => {
  it('writes one file per key (data and binaryData) with defaultMode behind the ..data symlink', async () => {
    src.setConfigMap('app', { 'app.conf': 'port=80\n', empty: '' }, { 'logo.bin': Buffer.from([0, 1, 255]).toString('base64') });
    await vm.prepare(podWith([{ name: 'cfg', configMap: { name: 'app', defaultMode: 0o640 } }]));
    const dir = volDir('kubernetes.io~configmap', 'cfg');
    expect(await listing(dir)).toEqual(['..<ts>', '..data', 'app.conf', 'empty', 'logo.bin']);
    expect(await readFile(path.join(dir, 'app.conf'), 'utf8')).toBe('port=80\n');
    expect(await readFile(path.join(dir, 'empty'), 'utf8')).toBe('');
    expect([...await readFile(path.join(dir, 'logo.bin'))]).toEqual([0, 1, 255]);
    expect(await readlink(path.join(dir, 'app.conf'))).toBe(path.join('..data', 'app.conf'));
    expect(await readlink(path.join(dir, '..data'))).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/);
    expect(await mode(path.join(dir, 'app.conf'))).toBe(0o640);
  });

  it('projects only items, to their paths and modes (nested paths get one top-level link)', async () => {
    src.setConfigMap('app', { a: 'A', b: 'B', c: 'C' });
    await vm.prepare(podWith([{ name: 'cfg', configMap: { name: 'app', items: [
      { key: 'a', path: 'conf/a.txt', mode: 0o600 },
      { key: 'b', path: 'conf/sub/b.txt' },
      { key: 'c', path: 'c-renamed' },
    ] } }]));
    const dir = volDir('kubernetes.io~configmap', 'cfg');
    expect(await listing(dir)).toEqual(['..<ts>', '..data', 'c-renamed', 'conf']);
    expect(await readlink(path.join(dir, 'conf'))).toBe(path.join('..data', 'conf'));
    expect(await readFile(path.join(dir, 'conf/a.txt'), 'utf8')).toBe('A');
    expect(await readFile(path.join(dir, 'conf/sub/b.txt'), 'utf8')).toBe('B');
    expect(await mode(path.join(dir, 'conf/a.txt'))).toBe(0o600);
    expect(await mode(path.join(dir, 'c-renamed'))).toBe(0o644);
  });

  it('decodes secret data', async () => {
    src.secrets.set('creds', { metadata: { name: 'creds' }, data: { user: Buffer.from('admin').toString('base64'), 'tls.key': Buffer.from('-----KEY-----\n').toString('base64') } });
    await vm.prepare(podWith([{ name: 's', secret: { secretName: 'creds', defaultMode: 0o400 } }]));
    const dir = volDir('kubernetes.io~secret', 's');
    expect(await readFile(path.join(dir, 'user'), 'utf8')).toBe('admin');
    expect(await readFile(path.join(dir, 'tls.key'), 'utf8')).toBe('-----KEY-----\n');
    expect(await mode(path.join(dir, 'user'))).toBe(0o400);
  });

  it.each<[string, Volume, string]>([
    ['a missing configmap', { name: 'cfg', configMap: { name: 'gone' } }, 'MountVolume.SetUp failed for volume "cfg" : configmap "gone" not found'],
    ['a missing secret', { name: 's', secret: { secretName: 'gone' } }, 'MountVolume.SetUp failed for volume "s" : secret "gone" not found'],
    ['a missing configmap key', { name: 'cfg', configMap: { name: 'app', items: [{ key: 'nope', path: 'x' }] } }, 'MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: nope'],
    ['a missing secret key', { name: 's', secret: { secretName: 'creds', items: [{ key: 'nope', path: 'x' }] } }, 'MountVolume.SetUp failed for volume "s" : secret references non-existent secret key: nope'],
    ['an item path escaping the volume', { name: 'cfg', configMap: { name: 'app', items: [{ key: 'a', path: '../evil' }] } }, 'MountVolume.SetUp failed for volume "cfg" : invalid path "../evil": must be relative, without \'..\' and not start with \'..\''],
    ['an unsupported volume type', { name: 'data', nfs: { server: 'x', path: '/' } }, 'MountVolume.SetUp failed for volume "data" : nfs volumes are not supported by k8ts (only emptyDir, hostPath, configMap, secret, downwardAPI)'],
    ['a missing claim', { name: 'data', persistentVolumeClaim: { claimName: 'gone' } }, 'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: error processing PVC ns/gone: failed to fetch PVC from API server: persistentvolumeclaims "gone" not found'],
    ['an unbound claim', { name: 'data', persistentVolumeClaim: { claimName: 'pending' } }, 'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: error processing PVC ns/pending: PVC is not bound'],
  ])('fails with FailedMount for %s', async (_, volume, message) => {
    src.setConfigMap('app', { a: 'A' });
    src.secrets.set('creds', { metadata: { name: 'creds' }, data: {} });
    src.claims.set('pending', { metadata: { name: 'pending', namespace: 'ns', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } });
    const err = await vm.prepare(podWith([volume])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect(err).toMatchObject({ reason: 'FailedMount', message });
  });

  it('sets up optional volumes whose object or keys are missing, empty', async () => {
    src.setConfigMap('app', { a: 'A' });
    await vm.prepare(podWith([
      { name: 'none', configMap: { name: 'gone', optional: true } },
      { name: 'some', configMap: { name: 'app', optional: true, items: [{ key: 'a', path: 'a' }, { key: 'nope', path: 'b' }] } },
      { name: 's', secret: { secretName: 'gone', optional: true } },
    ]));
    expect(await listing(volDir('kubernetes.io~configmap', 'none'))).toEqual(['..<ts>', '..data']);
    expect(await listing(volDir('kubernetes.io~configmap', 'some'))).toEqual(['..<ts>', '..data', 'a']);
    expect(await listing(volDir('kubernetes.io~secret', 's'))).toEqual(['..<ts>', '..data']);
  });

  it('swaps ..data to a new directory on change: new content, removed keys gone, old directory removed', async () => {
    src.setConfigMap('app', { keep: 'v1', drop: 'x' });
    const pod = podWith([{ name: 'cfg', configMap: { name: 'app' } }]);
    await vm.prepare(pod);
    const dir = volDir('kubernetes.io~configmap', 'cfg');
    const before = await readlink(path.join(dir, '..data'));

    src.setConfigMap('app', { keep: 'v2', added: 'new' });
    await vm.prepare(pod);
    const after = await readlink(path.join(dir, '..data'));
    expect(after).not.toBe(before);
    expect(existsSync(path.join(dir, before))).toBe(false);
    expect(await readFile(path.join(dir, 'keep'), 'utf8')).toBe('v2');
    expect(await readFile(path.join(dir, 'added'), 'utf8')).toBe('new');
    expect(await listing(dir)).toEqual(['..<ts>', '..data', 'added', 'keep']);
  });

  it('rewrites nothing when the content is unchanged', async () => {
    src.setConfigMap('app', { k: 'v' });
    const pod = podWith([{ name: 'cfg', configMap: { name: 'app' } }]);
    await vm.prepare(pod);
    const dir = volDir('kubernetes.io~configmap', 'cfg');
    const link = await readlink(path.join(dir, '..data'));
    const file = await stat(path.join(dir, 'k'));
    await vm.prepare(pod);
    expect(await readlink(path.join(dir, '..data'))).toBe(link);
    expect((await stat(path.join(dir, 'k'))).ino).toBe(file.ino);
    expect(await listing(dir)).toEqual(['..<ts>', '..data', 'k']);
  });

  it('cleans up a directory left by an interrupted write on the next change', async () => {
    src.setConfigMap('app', { k: 'v1' });
    const pod = podWith([{ name: 'cfg', configMap: { name: 'app' } }]);
    await vm.prepare(pod);
    const dir = volDir('kubernetes.io~configmap', 'cfg');
    await mkdir(path.join(dir, '..2000_01_01_00_00_00.crash'));
    src.setConfigMap('app', { k: 'v2' });
    await vm.prepare(pod);
    expect(await listing(dir)).toEqual(['..<ts>', '..data', 'k']);
  });
});

describe('downwardAPI volumes', () => {
  it('renders metadata as upstream and follows label changes', async () => {
    const pod = podWith([{ name: 'info', downwardAPI: { items: [
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'meta/namespace', fieldRef: { fieldPath: 'metadata.namespace' } },
      { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' }, mode: 0o600 },
      { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" } },
      { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
    ] } }], [{ name: 'c', image: 'img', resources: { limits: { memory: '64Mi' } } }]);
    pod.metadata!.labels = { zone: 'eu', app: 'web', quote: 'a"b' };
    pod.metadata!.annotations = { 'k8ts.io/note': 'hi' };
    await vm.prepare(pod);
    const dir = volDir('kubernetes.io~downward-api', 'info');
    const read = (p: string) => readFile(path.join(dir, p), 'utf8');
    expect(await read('labels')).toBe('app="web"\nquote="a\\"b"\nzone="eu"');
    expect(await read('annotations')).toBe('k8ts.io/note="hi"');
    expect(await read('name')).toBe('web');
    expect(await read('meta/namespace')).toBe('ns');
    expect(await read('uid')).toBe('uid-1');
    expect(await read('app')).toBe('web');
    expect(await read('mem')).toBe('64');
    expect(await mode(path.join(dir, 'uid'))).toBe(0o600);
    expect(await mode(path.join(dir, 'name'))).toBe(0o644);

    pod.metadata!.labels = { app: 'api' };
    await vm.prepare(pod);
    expect(await read('labels')).toBe('app="api"');
    expect(await read('app')).toBe('api');
  });
});

describe('hostPath volumes', () => {
  it.each<[string, string, (p: string) => Promise<unknown>, string | undefined]>([
    ['no type, nothing there', '', async () => undefined, undefined],
    ['DirectoryOrCreate, missing', 'DirectoryOrCreate', async () => undefined, undefined],
    ['Directory, present', 'Directory', (p) => mkdir(p), undefined],
    ['Directory, missing', 'Directory', async () => undefined, 'is not a directory'],
    ['Directory, a file', 'Directory', (p) => writeFile(p, ''), 'is not a directory'],
    ['File, present', 'File', (p) => writeFile(p, 'x'), undefined],
    ['File, a directory', 'File', (p) => mkdir(p), 'is not a file'],
    ['FileOrCreate, missing', 'FileOrCreate', async () => undefined, undefined],
    ['DirectoryOrCreate, a file', 'DirectoryOrCreate', (p) => writeFile(p, ''), 'is not a directory'],
    ['Socket, a file', 'Socket', (p) => writeFile(p, ''), 'is not a socket file'],
  ])('%s', async (_, type, setup, failure) => {
    const hostPath = path.join(tmp, 'host');
    await setup(hostPath);
    const result = await vm.prepare(podWith([{ name: 'h', hostPath: { path: hostPath, type } }])).catch((e: unknown) => e);
    if (failure) {
      expect(result).toMatchObject({ reason: 'FailedMount', message: `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${hostPath} ${failure}` });
    } else {
      expect(result).toBeUndefined();
    }
  });

  it('creates what the *OrCreate types ask for', async () => {
    const dir = path.join(tmp, 'a', 'b');
    const file = path.join(tmp, 'f.log');
    await vm.prepare(podWith([
      { name: 'd', hostPath: { path: dir, type: 'DirectoryOrCreate' } },
      { name: 'f', hostPath: { path: file, type: 'FileOrCreate' } },
    ]));
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('refuses a relative path', async () => {
    await expect(vm.prepare(podWith([{ name: 'h', hostPath: { path: 'rel/dir' } }]))).rejects.toThrow('hostPath rel/dir must be an absolute path');
  });
});

describe('mounts', () => {
  it('gives two containers the same world-writable emptyDir, honouring readOnly', async () => {
    const pod = podWith([{ name: 'scratch', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory' } }], [
      { name: 'writer', image: 'img', volumeMounts: [{ name: 'scratch', mountPath: '/out' }, { name: 'mem', mountPath: '/mem' }] },
      { name: 'reader', image: 'img', volumeMounts: [{ name: 'scratch', mountPath: '/in', readOnly: true }] },
    ]);
    await vm.prepare(pod);
    const dir = volDir('kubernetes.io~empty-dir', 'scratch');
    expect(vm.mounts(pod, pod.spec!.containers[0])).toEqual([
      { hostPath: dir, containerPath: '/out', readOnly: false },
      { hostPath: volDir('kubernetes.io~empty-dir', 'mem'), containerPath: '/mem', readOnly: false },
    ]);
    expect(vm.mounts(pod, pod.spec!.containers[1])).toEqual([{ hostPath: dir, containerPath: '/in', readOnly: true }]);
    expect(await mode(dir)).toBe(0o777);
    expect((await stat(volDir('kubernetes.io~empty-dir', 'mem'))).isDirectory()).toBe(true);
  });

  it('hands Docker absolute paths even for a relative rootDir', async () => {
    const rel = path.relative(process.cwd(), path.join(tmp, 'relroot'));
    const manager = new VolumeManager({ rootDir: rel, source: src });
    const pod = podWith([{ name: 'v', emptyDir: {} }], [{ name: 'c', image: 'img', volumeMounts: [{ name: 'v', mountPath: '/v' }] }]);
    await manager.prepare(pod);
    expect(manager.mounts(pod, pod.spec!.containers[0])[0].hostPath).toBe(path.join(tmp, 'relroot', 'pods', 'uid-1', 'volumes', 'kubernetes.io~empty-dir', 'v'));
  });

  it('mounts configMap, secret and downwardAPI volumes read-only whatever the mount says', async () => {
    src.setConfigMap('app', { k: 'v' });
    src.secrets.set('creds', { metadata: { name: 'creds' }, data: {} });
    const hostDir = path.join(tmp, 'host');
    const pod = podWith([
      { name: 'cfg', configMap: { name: 'app' } },
      { name: 's', secret: { secretName: 'creds' } },
      { name: 'info', downwardAPI: { items: [] } },
      { name: 'h', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
    ], [{ name: 'c', image: 'img', volumeMounts: [
      { name: 'cfg', mountPath: '/cfg', readOnly: false },
      { name: 's', mountPath: '/s' },
      { name: 'info', mountPath: '/info' },
      { name: 'h', mountPath: '/h' },
    ] }]);
    await vm.prepare(pod);
    expect(vm.mounts(pod, pod.spec!.containers[0]).map((m) => [m.containerPath, m.readOnly, m.hostPath])).toEqual([
      ['/cfg', true, volDir('kubernetes.io~configmap', 'cfg')],
      ['/s', true, volDir('kubernetes.io~secret', 's')],
      ['/info', true, volDir('kubernetes.io~downward-api', 'info')],
      ['/h', false, hostDir],
    ]);
  });

  it('mounts subPaths: a configMap key as a file, a created directory in an emptyDir', async () => {
    src.setConfigMap('app', { 'nginx.conf': 'events {}' });
    const pod = podWith([{ name: 'cfg', configMap: { name: 'app' } }, { name: 'data', emptyDir: {} }], [{ name: 'c', image: 'img', volumeMounts: [
      { name: 'cfg', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf' },
      { name: 'data', mountPath: '/var/lib/db', subPath: 'db/main' },
    ] }]);
    await vm.prepare(pod);
    const [conf, data] = vm.mounts(pod, pod.spec!.containers[0]);
    expect(conf).toEqual({ hostPath: path.join(volDir('kubernetes.io~configmap', 'cfg'), 'nginx.conf'), containerPath: '/etc/nginx/nginx.conf', readOnly: true });
    expect(await readFile(conf.hostPath, 'utf8')).toBe('events {}');
    expect(data).toEqual({ hostPath: path.join(volDir('kubernetes.io~empty-dir', 'data'), 'db', 'main'), containerPath: '/var/lib/db', readOnly: false });
    expect((await stat(data.hostPath)).isDirectory()).toBe(true);
  });

  it.each([
    ['an absolute subPath', '/etc', 'volume "data": subPath "/etc" must be a relative path without \'..\''],
    ['a subPath with ..', 'a/../../x', 'volume "data": subPath "a/../../x" must be a relative path without \'..\''],
    ['a symlink out of the volume', 'escape', 'volume "data": subPath "escape" resolves outside the volume'],
  ])('refuses %s', async (_, subPath, message) => {
    const hostDir = path.join(tmp, 'host');
    await mkdir(hostDir);
    await symlink('/etc', path.join(hostDir, 'escape'));
    const pod = podWith([{ name: 'data', hostPath: { path: hostDir } }], [{ name: 'c', image: 'img', volumeMounts: [{ name: 'data', mountPath: '/d', subPath }] }]);
    await expect(vm.prepare(pod)).rejects.toMatchObject({ reason: 'FailedMount', message });
  });

  it('refuses a mount of a volume the pod does not have', async () => {
    const pod = podWith([], [{ name: 'c', image: 'img', volumeMounts: [{ name: 'ghost', mountPath: '/g' }] }]);
    await expect(vm.prepare(pod)).rejects.toMatchObject({ reason: 'FailedMount', message: 'container "c" mounts volume "ghost", which the pod does not have' });
  });
});

describe('cleanup and podsOnDisk', () => {
  it('lists pods with a directory and removes one pod tree, leaving hostPaths alone', async () => {
    expect(await vm.podsOnDisk()).toEqual([]);
    src.setConfigMap('app', { k: 'v' });
    const hostDir = path.join(tmp, 'host');
    await vm.prepare(podWith([{ name: 'cfg', configMap: { name: 'app' } }, { name: 'h', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }], [], 'uid-1'));
    await vm.prepare(podWith([{ name: 'scratch', emptyDir: {} }], [], 'uid-2'));
    expect((await vm.podsOnDisk()).sort()).toEqual(['uid-1', 'uid-2']);

    await vm.cleanup('uid-1');
    expect(await vm.podsOnDisk()).toEqual(['uid-2']);
    expect((await lstat(hostDir)).isDirectory()).toBe(true);
    await vm.cleanup('uid-1'); // already gone: no error
  });

  it('refuses a uid that would name a path outside pods/', async () => {
    await expect(vm.cleanup('../..')).rejects.toThrow('invalid pod uid');
    await expect(vm.cleanup('')).rejects.toThrow('invalid pod uid');
    await expect(vm.cleanup('.')).rejects.toThrow('invalid pod uid');
  });
});

describe('VolumeManager persistentVolumeClaim volumes', () => {
  const bind = (hostPath: string) => {
    src.claims.set('data', { metadata: { name: 'data', namespace: 'ns', uid: 'c1' }, spec: { volumeName: 'pv1' }, status: { phase: 'Bound' } });
    src.volumes.set('pv1', {
      metadata: { name: 'pv1' },
      spec: { hostPath: { path: hostPath, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'ns', name: 'data', uid: 'c1' } },
    });
  };

  it('mounts the bound volume\'s hostPath (created for DirectoryOrCreate), read-only when the volume says so', async () => {
    const dir = path.join(tmp, 'local-path', 'pvc-c1');
    bind(dir);
    const pod = podWith([{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }, { name: 'ro', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
      [{ name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/data' }, { name: 'ro', mountPath: '/ro' }] }]);
    await vm.prepare(pod);
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect(vm.mounts(pod, pod.spec!.containers[0])).toEqual([
      { hostPath: dir, containerPath: '/data', readOnly: false }, { hostPath: dir, containerPath: '/ro', readOnly: true },
    ]);
    await vm.cleanup('uid-1');
    expect(existsSync(dir)).toBe(true);
  });

  it('refuses a volume whose claimRef names another claim', async () => {
    bind(path.join(tmp, 'x'));
    src.volumes.get('pv1')!.spec!.claimRef = { namespace: 'ns', name: 'data', uid: 'other' };
    await expect(vm.prepare(podWith([{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }]))).rejects.toThrow('PV pv1 is not bound to claim ns/data');
  });
});
