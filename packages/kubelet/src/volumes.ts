import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger, type Container, type Logger, type Pod } from '@k8ts/api';
import { metadataFieldValue, resourceFieldValue, type ObjectSource } from './env.js';
import type { Mount } from './runtime.js';

export interface VolumeManagerOptions {
  /** The kubelet's state directory; volumes live under `<rootDir>/pods/<uid>/volumes`. */
  rootDir: string;
  source: ObjectSource;
  log?: Logger;
}

/** A volume cannot be set up; the pod's containers wait (ContainerCreating) and the sync is retried. */
export class VolumeError extends Error {
  readonly reason = 'FailedMount' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VolumeError';
  }
}

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];
type KeyToPath = NonNullable<NonNullable<Volume['configMap']>['items']>[number];

/** A volume's directory name per plugin, as upstream escapes `kubernetes.io/empty-dir`. */
const PLUGINS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
} as const;

/** Volumes whose content the kubelet owns: always mounted read-only, as upstream. */
const READ_ONLY = new Set(['configMap', 'secret', 'downwardAPI']);

/** Files of a configMap/secret/downwardAPI volume, by path inside the volume. */
type Payload = Map<string, { data: Buffer; mode: number }>;

/** Materializes a pod's volumes under `<rootDir>/pods/<uid>/volumes/<plugin>/<name>` and answers the mounts per container. */
export class VolumeManager {
  private readonly root: string;
  private readonly log: Logger;
  /** Where each pod's persistentVolumeClaim volumes live (`<pod uid>/<volume>` → the bound volume's path). */
  private readonly claimPaths = new Map<string, string>();

  constructor(private readonly opts: VolumeManagerOptions) {
    // Docker takes absolute bind sources only.
    this.root = path.resolve(opts.rootDir);
    this.log = opts.log ?? silentLogger;
  }

  /**
   * Creates or refreshes every volume of the pod; idempotent and cheap when nothing changed (content is compared,
   * files are rewritten only on change), so the kubelet calls it on every sync. Also creates missing subPaths.
   * Throws VolumeError (reason FailedMount) naming the volume.
   */
  async prepare(pod: Pod): Promise<void> {
    const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    for (const vol of volumes.values()) {
      try {
        await this.setUp(pod, vol);
      } catch (err) {
        if (err instanceof VolumeError && vol.persistentVolumeClaim) throw err;
        throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${(err as Error).message}`, { cause: err });
      }
    }
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const m of c.volumeMounts ?? []) {
        const vol = volumes.get(m.name);
        if (!vol) throw new VolumeError(`container "${c.name}" mounts volume "${m.name}", which the pod does not have`);
        if (m.subPath) await this.prepareSubPath(this.volumePath(pod, vol), m.subPath, vol.name);
      }
    }
  }

  /** Bind mounts for a container's volumeMounts (after `prepare`): absolute host paths, subPath applied. */
  mounts(pod: Pod, container: Container): Mount[] {
    const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    return (container.volumeMounts ?? []).flatMap((m) => {
      const vol = volumes.get(m.name);
      if (!vol) return []; // prepare has refused this pod already
      const base = this.volumePath(pod, vol);
      return [{
        hostPath: m.subPath ? path.join(base, m.subPath) : base,
        containerPath: m.mountPath,
        readOnly: READ_ONLY.has(sourceOf(vol)) || (m.readOnly ?? false) || (vol.persistentVolumeClaim?.readOnly ?? false),
      }];
    });
  }

  /** Removes the pod's directory tree (after its containers are gone). hostPath and persistent volumes are left alone. */
  async cleanup(podUid: string): Promise<void> {
    for (const key of this.claimPaths.keys()) if (key.startsWith(`${podUid}/`)) this.claimPaths.delete(key);
    await rm(this.podDir(podUid), { recursive: true, force: true });
  }

  /** UIDs of pods with a directory on disk (for orphan cleanup after a restart). */
  async podsOnDisk(): Promise<string[]> {
    const entries = await readdir(path.join(this.root, 'pods'), { withFileTypes: true }).catch(ifMissing([]));
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  private podDir(uid: string): string {
    // The uid comes from container labels too: never let it name a path outside pods/.
    if (!uid || uid !== path.basename(uid) || uid === '.' || uid === '..') throw new Error(`invalid pod uid ${JSON.stringify(uid)}`);
    return path.join(this.root, 'pods', uid);
  }

  /** Where a volume lives on the host: a hostPath's own path, else its directory under the pod's. */
  private volumePath(pod: Pod, vol: Volume): string {
    const source = sourceOf(vol);
    if (source === 'hostPath') return vol.hostPath!.path;
    if (source === 'persistentVolumeClaim') {
      const p = this.claimPaths.get(`${pod.metadata!.uid}/${vol.name}`);
      if (!p) throw new VolumeError(`volume "${vol.name}": its claim has not been resolved`);
      return p;
    }
    const plugin = PLUGINS[source as keyof typeof PLUGINS];
    if (!plugin) throw new VolumeError(`${source} volumes are not supported by k8ts (only emptyDir, hostPath, configMap, secret, downwardAPI)`);
    return path.join(this.podDir(pod.metadata!.uid!), 'volumes', plugin, vol.name);
  }

  private async setUp(pod: Pod, vol: Volume): Promise<void> {
    if (vol.persistentVolumeClaim) return this.setUpClaim(pod, vol);
    const dir = this.volumePath(pod, vol);
    const log = { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, volume: vol.name };
    if (vol.hostPath) return checkHostPath(dir, vol.hostPath.type ?? '');
    if (sourceOf(vol) === 'emptyDir') {
      if (await mkdir(dir, { recursive: true })) {
        // World-writable like upstream, so containers running as any user can share it.
        await chmod(dir, 0o777);
        if (vol.emptyDir?.medium === 'Memory') this.log.info(log, 'emptyDir medium Memory is a plain directory in k8ts (no tmpfs)');
      }
      return;
    }
    if (await writeAtomically(dir, await this.payload(pod, vol))) this.log.info(log, 'wrote volume files');
  }

  /**
   * A persistentVolumeClaim volume: the claim's bound volume's hostPath (type-checked, created for DirectoryOrCreate)
   * or local path. An unbound or missing claim fails as upstream's volume manager reports it (FailedMount).
   */
  private async setUpClaim(pod: Pod, vol: Volume): Promise<void> {
    const ns = pod.metadata?.namespace ?? 'default';
    const claimName = vol.persistentVolumeClaim!.claimName;
    const fail = (why: string) => new VolumeError(
      `Unable to attach or mount volumes: unmounted volumes=[${vol.name}], unattached volumes=[${vol.name}]: error processing PVC ${ns}/${claimName}: ${why}`);
    const source = this.opts.source;
    if (!source.persistentVolumeClaim || !source.persistentVolume) throw fail('persistent volumes are not available to this kubelet');
    const claim = await source.persistentVolumeClaim(ns, claimName);
    if (!claim) throw fail(`failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
    if (claim.metadata?.deletionTimestamp) throw fail('can\'t start pod because PVC is being deleted');
    const volumeName = claim.spec?.volumeName;
    if (!volumeName || claim.status?.phase !== 'Bound') throw fail('PVC is not bound');
    const pv = await source.persistentVolume(volumeName);
    if (!pv) throw fail(`failed to fetch PV ${volumeName} from API server: persistentvolumes "${volumeName}" not found`);
    const ref = pv.spec?.claimRef;
    if (!ref || ref.uid !== claim.metadata?.uid) throw fail(`PV ${volumeName} is not bound to claim ${ns}/${claimName}`);
    let dir: string;
    try {
      if (pv.spec?.hostPath) {
        dir = pv.spec.hostPath.path;
        await checkHostPath(dir, pv.spec.hostPath.type ?? '');
      } else if (pv.spec?.local) {
        dir = pv.spec.local.path;
        if (!(await stat(dir).catch(ifMissing(undefined)))?.isDirectory()) throw new Error(`path "${dir}" does not exist`);
      } else {
        throw new Error('only hostPath and local persistent volumes are supported by k8ts');
      }
    } catch (err) {
      throw new VolumeError(`MountVolume.SetUp failed for volume "${volumeName}" : ${(err as Error).message}`, { cause: err });
    }
    this.claimPaths.set(`${pod.metadata!.uid}/${vol.name}`, dir);
  }

  /** The files of a configMap, secret or downwardAPI volume (upstream's MakePayload / CollectData). */
  private async payload(pod: Pod, vol: Volume): Promise<Payload> {
    const ns = pod.metadata?.namespace ?? 'default';
    if (vol.configMap) {
      const src = vol.configMap;
      const cm = await this.opts.source.configMap(ns, src.name ?? '');
      if (!cm && !src.optional) throw new Error(`configmap "${src.name}" not found`);
      const data = new Map([
        ...Object.entries(cm?.data ?? {}).map(([k, v]) => [k, Buffer.from(v)] as const),
        ...Object.entries(cm?.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const),
      ]);
      return keyPayload(data, src.items, src.defaultMode, src.optional, 'configmap references non-existent config key');
    }
    if (vol.secret) {
      const src = vol.secret;
      const secret = await this.opts.source.secret(ns, src.secretName ?? '');
      if (!secret && !src.optional) throw new Error(`secret "${src.secretName}" not found`);
      const data = new Map(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
      return keyPayload(data, src.items, src.defaultMode, src.optional, 'secret references non-existent secret key');
    }
    const src = vol.downwardAPI!;
    const payload: Payload = new Map();
    for (const item of src.items ?? []) {
      const value = item.fieldRef ? metadataFieldValue(pod, item.fieldRef.fieldPath)
        : item.resourceFieldRef ? resourceFieldValue(pod, item.resourceFieldRef) : '';
      payload.set(item.path, { data: Buffer.from(value), mode: item.mode ?? src.defaultMode ?? 0o644 });
    }
    return payload;
  }

  /** Creates a missing subPath (as upstream, a directory) and refuses one that leaves its volume. */
  private async prepareSubPath(base: string, subPath: string, volume: string): Promise<void> {
    if (path.isAbsolute(subPath) || subPath.split('/').includes('..')) {
      throw new VolumeError(`volume "${volume}": subPath "${subPath}" must be a relative path without '..'`);
    }
    const full = path.join(base, subPath);
    if (!await lstat(full).catch(ifMissing(undefined))) await mkdir(full, { recursive: true, mode: (await stat(base)).mode & 0o7777 });
    const [realBase, realFull] = await Promise.all([realpath(base), realpath(full)]);
    if (realFull !== realBase && !realFull.startsWith(realBase + path.sep)) {
      throw new VolumeError(`volume "${volume}": subPath "${subPath}" resolves outside the volume`);
    }
  }
}

/** The volume source's field name (`emptyDir`, `configMap`, …). */
function sourceOf(vol: Volume): string {
  return Object.keys(vol).find((k) => k !== 'name' && vol[k as keyof Volume] != null) ?? 'emptyDir';
}

/** Upstream's MakePayload for configMap and secret: every key, or just `items` (key → path, mode). */
function keyPayload(data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode = 0o644, optional = false, missing: string): Payload {
  if (!items?.length) return new Map([...data].map(([key, bytes]) => [key, { data: bytes, mode: defaultMode }]));
  const payload: Payload = new Map();
  for (const item of items) {
    const bytes = data.get(item.key);
    if (bytes) payload.set(item.path, { data: bytes, mode: item.mode ?? defaultMode });
    else if (!optional) throw new Error(`${missing}: ${item.key}`);
  }
  return payload;
}

const HOST_PATH_TYPES: Record<string, [is: (s: Stats) => boolean, what: string]> = {
  DirectoryOrCreate: [(s) => s.isDirectory(), 'a directory'],
  Directory: [(s) => s.isDirectory(), 'a directory'],
  FileOrCreate: [(s) => s.isFile(), 'a file'],
  File: [(s) => s.isFile(), 'a file'],
  Socket: [(s) => s.isSocket(), 'a socket file'],
  CharDevice: [(s) => s.isCharacterDevice(), 'a character device'],
  BlockDevice: [(s) => s.isBlockDevice(), 'a block device'],
};

/** Upstream's hostPath type check: the *OrCreate types create what is missing (a file's parent must exist). */
async function checkHostPath(p: string, type: string): Promise<void> {
  if (!path.isAbsolute(p)) throw new Error(`hostPath ${p} must be an absolute path`);
  if (!type) return;
  const check = HOST_PATH_TYPES[type];
  if (!check) throw new Error(`invalid HostPath type ${type}`);
  const st = await stat(p).catch(ifMissing(undefined));
  if (!st && type === 'DirectoryOrCreate') await mkdir(p, { recursive: true, mode: 0o755 });
  else if (!st && type === 'FileOrCreate') await writeFile(p, '', { flag: 'a', mode: 0o644 });
  else if (!st || !check[0](st)) throw new Error(`hostPath type check failed: ${p} is not ${check[1]}`);
}

/** Upstream's validatePath: payload paths stay inside the volume and away from the writer's `..` names. */
function validatePath(p: string): void {
  const parts = p.split('/');
  if (!p || path.isAbsolute(p) || parts.includes('..') || parts[0].startsWith('..') || p.length > 4096) {
    throw new Error(`invalid path ${JSON.stringify(p)}: must be relative, without '..' and not start with '..'`);
  }
}

/**
 * Upstream's AtomicWriter. Files live in a timestamped `..<time>.<random>` directory that the `..data` symlink
 * names; each top-level name is a symlink through `..data`. A new payload is written to a fresh directory and
 * `..data` is swapped by rename, so a container sees every file change at once, never a mix. Returns false,
 * touching nothing, when the files on disk already match.
 */
async function writeAtomically(dir: string, payload: Payload): Promise<boolean> {
  const files = new Map([...payload].map(([p, f]) => [path.posix.normalize(p).replace(/\/+$/, ''), f]));
  for (const p of files.keys()) validatePath(p);
  await mkdir(dir, { recursive: true });
  const dataLink = path.join(dir, '..data');
  const current = await readlink(dataLink).catch(ifMissing(undefined));
  if (current !== undefined && await matches(path.join(dir, current), files)) return false;

  const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '_');
  const tsDir = await mkdtemp(path.join(dir, `..${stamp}.`));
  await chmod(tsDir, 0o755);
  for (const [p, f] of files) {
    const file = path.join(tsDir, p);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.data);
    await chmod(file, f.mode); // writeFile's mode would be cut by the umask
  }
  const visible = new Set([...files.keys()].map((p) => p.split('/')[0]));
  for (const name of visible) {
    await symlink(path.join('..data', name), path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  const tmpLink = path.join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(path.basename(tsDir), tmpLink);
  await rename(tmpLink, dataLink);

  // Now nothing points into the old directories: drop them (and any left by a crash) and names no longer served.
  for (const name of await readdir(dir)) {
    const entry = path.join(dir, name);
    if (name.startsWith('..')) {
      if (name !== '..data' && name !== path.basename(tsDir)) await rm(entry, { recursive: true, force: true });
    } else if (!visible.has(name) && (await lstat(entry)).isSymbolicLink()) {
      await rm(entry);
    }
  }
  return true;
}

/** Whether `tsDir` holds exactly these files with this content. */
async function matches(tsDir: string, files: Payload): Promise<boolean> {
  const entries = await readdir(tsDir, { recursive: true, withFileTypes: true }).catch(ifMissing(undefined));
  if (!entries || entries.filter((e) => e.isFile()).length !== files.size) return false;
  for (const [p, f] of files) {
    const onDisk = await readFile(path.join(tsDir, p)).catch(ifMissing(undefined));
    if (!onDisk?.equals(f.data)) return false;
  }
  return true;
}

/** A catch handler turning ENOENT (and ENOTDIR) into `fallback`; anything else still throws. */
function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return fallback;
    throw err;
  };
}
