/** A ContainerRuntime in memory, for unit tests of the pod syncer and the kubelet (STYLE §4). */
import type { FakeClock } from '@k8ts/api';
import { ImagePullError, type ContainerConfig, type ContainerRuntime, type RuntimeContainer, type SandboxConfig } from '../src/runtime.js';

/**
 * An in-memory runtime: containers "run" until the test makes them exit. Like one Docker engine shared by every node,
 * it lists every container it holds, whichever node made it: the kubelet must never act on another node's.
 */
export class FakeRuntime implements ContainerRuntime {
  containers: RuntimeContainer[] = [];
  calls: string[] = [];
  missingImages = new Set<string>();
  /** The configs the syncer asked for, newest last. */
  sandboxConfigs: SandboxConfig[] = [];
  containerConfigs: ContainerConfig[] = [];
  private seq = 0;
  constructor(private readonly clock: FakeClock) {}
  private iso() { return new Date(this.clock.now()).toISOString(); }
  async version() { return { runtimeName: 'fake', runtimeVersion: '1' }; }
  async listContainers(uid?: string) { return structuredClone(this.containers.filter((c) => !uid || c.pod.uid === uid)); }
  async inspect(id: string) { return this.containers.find((c) => c.id === id); }
  async ensureImage(image: string) {
    if (this.missingImages.has(image)) throw new ImagePullError(`pull access denied for ${image}`, 'ErrImagePull');
    return { imageID: `sha256:${image}`, pulled: false };
  }
  async runSandbox(config: SandboxConfig) {
    const id = `sb${++this.seq}`;
    this.sandboxConfigs.push(structuredClone(config));
    this.containers.push(this.make(id, 'POD', config.pod, { sandbox: true, state: 'running', startedAt: this.iso(), ip: '10.0.0.5', labels: { ...config.labels } }));
    this.calls.push(`sandbox ${id}`);
    return { id, ip: '10.0.0.5' };
  }
  async createContainer(_sb: string, cfg: ContainerConfig) {
    const id = `c${++this.seq}`;
    this.containerConfigs.push(structuredClone(cfg));
    this.containers.push(this.make(id, cfg.name, cfg.pod, { init: cfg.init, ...(cfg.ephemeral ? { ephemeral: true } : {}), restartCount: cfg.restartCount, hash: cfg.hash, state: 'created', labels: { ...cfg.labels } }));
    this.calls.push(`create ${cfg.name}#${cfg.restartCount}`);
    return id;
  }
  async startContainer(id: string) { Object.assign(this.containers.find((c) => c.id === id)!, { state: 'running', startedAt: this.iso() }); }
  async stopContainer(id: string) {
    const c = this.containers.find((x) => x.id === id);
    if (c?.state === 'running') Object.assign(c, { state: 'exited', exitCode: 137, reason: 'Error', finishedAt: this.iso() });
    this.calls.push(`stop ${c?.name}`);
  }
  async removeContainer(id: string) { this.containers = this.containers.filter((c) => c.id !== id); }
  async exec() { return { exitCode: 0, stdout: '', stderr: '' }; }
  async logs(): Promise<never> { throw new Error('no logs'); }
  async stats() { return { cpuCoreNanoSeconds: 0, memoryWorkingSetBytes: 0, timestamp: this.iso() }; }
  /** The test's hand: the running instance of `name` exits with `code`. */
  exit(name: string, code: number) {
    const c = this.containers.find((x) => x.name === name && x.state === 'running')!;
    Object.assign(c, { state: 'exited', exitCode: code, reason: code ? 'Error' : 'Completed', finishedAt: this.iso() });
  }
  /** The test's hand: a container another node's kubelet (or an older kubelet, with no node label) made. */
  add(pod: RuntimeContainer['pod'], name: string, labels: Record<string, string>, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
    const c = this.make(`x${++this.seq}`, name, pod, { state: 'running', startedAt: this.iso(), labels, ...o });
    this.containers.push(c);
    return c;
  }
  private make(id: string, name: string, pod: RuntimeContainer['pod'], o: Partial<RuntimeContainer>): RuntimeContainer {
    return {
      id, name, pod, sandbox: false, init: false, restartCount: 0, hash: '', image: 'img', imageID: 'sha256:img', state: 'created',
      createdAt: `${this.iso()}#${String(this.seq).padStart(4, '0')}`, startedAt: '', finishedAt: '', exitCode: 0, reason: '', labels: {}, ...o,
    };
  }
}
