import {
  ApiError, NODES, objectKey, realClock, runWorkers, SERVICES, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Logger, type Node, type Service, type SharedInformer,
} from '@k8ts/api';

type Ingress = NonNullable<NonNullable<NonNullable<Service['status']>['loadBalancer']>['ingress']>[number];

export interface ServiceLBControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
}

const nodeReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The address a node serves load-balanced traffic on: its ExternalIP, else its InternalIP (as k3s's servicelb). */
export function nodeIngressIP(node: Node): string | undefined {
  const addrs = node.status?.addresses ?? [];
  return addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'InternalIP')?.address;
}

/** The ingress of a LoadBalancer Service: every Ready node's address, sorted (ServiceLB puts a listener on each). */
export function loadBalancerIngress(nodes: readonly Node[]): Ingress[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const ip = nodeReady(n) && !n.spec?.unschedulable ? nodeIngressIP(n) : undefined;
    if (ip) ips.add(ip);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}

/**
 * The service load balancer of a cluster without a cloud (k3s's ServiceLB, in the place of upstream's cloud
 * service-lb-controller): a LoadBalancer Service behaves as a NodePort one, and its `status.loadBalancer.ingress`
 * lists the nodes' addresses. Services with a `loadBalancerClass` are another implementation's; a Service that
 * stops being a LoadBalancer gets its ingress cleared.
 */
export class ServiceLBController {
  readonly queue: WorkQueue<string>;
  private readonly services: SharedInformer<Service>;
  private readonly nodes: SharedInformer<Node>;
  private readonly log: Logger;

  constructor(private readonly deps: ServiceLBControllerDeps) {
    const clock = deps.clock ?? realClock;
    this.log = (deps.log ?? silentLogger).child({ controller: 'service-lb-controller' });
    this.queue = new WorkQueue<string>({ clock });
    this.services = deps.informers.informerFor<Service>(SERVICES);
    this.nodes = deps.informers.informerFor<Node>(NODES);
    this.services.addHandler({
      onAdd: (s) => this.queue.add(objectKey(s)),
      onUpdate: (_o, s) => this.queue.add(objectKey(s)),
    });
    // A node coming, going, or changing address or readiness changes every LoadBalancer's ingress.
    const allLBs = () => { for (const s of this.services.list()) if (s.spec?.type === 'LoadBalancer') this.queue.add(objectKey(s)); };
    this.nodes.addHandler({
      onAdd: allLBs,
      onUpdate: (o, n) => { if (JSON.stringify(loadBalancerIngress([o])) !== JSON.stringify(loadBalancerIngress([n]))) allLBs(); },
      onDelete: allLBs,
    });
  }

  /** Waits for the caches, then syncs with `workers` workers until the signal aborts. */
  async run(signal: AbortSignal, workers = 1): Promise<void> {
    await Promise.all([this.services.waitForSync(signal), this.nodes.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'service' });
  }

  /** Writes one Service's load balancer status when it differs from what it should be. Idempotent. */
  async sync(key: string): Promise<void> {
    const cached = this.services.get(key);
    if (!cached) return;
    const ours = cached.spec?.type === 'LoadBalancer' && !cached.spec.loadBalancerClass;
    if (cached.spec?.type === 'LoadBalancer' && !ours) return;
    const want = ours ? loadBalancerIngress(this.nodes.list()) : [];
    const have = cached.status?.loadBalancer?.ingress ?? [];
    if (JSON.stringify(have) === JSON.stringify(want)) return;
    const svc: Service = { ...structuredClone(cached), status: { ...cached.status, loadBalancer: want.length ? { ingress: want } : {} } };
    try {
      await this.deps.client.update(SERVICES, svc.metadata!.namespace, svc, { subresource: 'status' });
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) return;
      throw e;
    }
    this.log.info({ service: key, ingress: want.map((i) => i.ip) }, 'updated load balancer status');
  }
}
