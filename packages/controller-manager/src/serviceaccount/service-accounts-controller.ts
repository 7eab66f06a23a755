import {
  ApiError, isNamespaceTerminating, NAMESPACES, realClock, runWorkers, SERVICEACCOUNTS, silentLogger, WorkQueue,
  type ApiClient, type Clock, type InformerFactory, type Logger, type Namespace, type ServiceAccount, type SharedInformer,
} from '@k8ts/api';

export interface ServiceAccountsControllerDeps {
  client: ApiClient;
  informers: InformerFactory;
  log?: Logger;
  clock?: Clock;
  /** The service accounts every namespace gets (upstream's ServiceAccountsToEnsure: `default`). */
  serviceAccounts?: readonly string[];
}

/**
 * Keeps a `default` ServiceAccount in every active namespace, recreated when deleted (upstream's
 * ServiceAccountsController). Keys are namespace names.
 */
export class ServiceAccountsController {
  readonly queue: WorkQueue<string>;
  private readonly namespaces: SharedInformer<Namespace>;
  private readonly accounts: SharedInformer<ServiceAccount>;
  private readonly log: Logger;
  private readonly ensure: readonly string[];

  constructor(private readonly deps: ServiceAccountsControllerDeps) {
    this.log = (deps.log ?? silentLogger).child({ controller: 'serviceaccount' });
    this.queue = new WorkQueue<string>({ clock: deps.clock ?? realClock });
    this.ensure = deps.serviceAccounts ?? ['default'];
    this.namespaces = deps.informers.informerFor<Namespace>(NAMESPACES);
    this.accounts = deps.informers.informerFor<ServiceAccount>(SERVICEACCOUNTS);
    this.namespaces.addHandler({ onAdd: (ns) => this.queue.add(ns.metadata!.name!), onUpdate: (_o, ns) => this.queue.add(ns.metadata!.name!) });
    this.accounts.addHandler({
      // Only a deletion of one we ensure can need us (upstream's serviceAccountDeleted).
      onDelete: (sa) => { if (this.ensure.includes(sa.metadata?.name ?? '')) this.queue.add(sa.metadata!.namespace!); },
    });
  }

  async run(signal: AbortSignal, workers = 1): Promise<void> {
    await Promise.all([this.namespaces.waitForSync(signal), this.accounts.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    await runWorkers(this.queue, (key) => this.sync(key), { workers, log: this.log, signal, keyField: 'namespace' });
  }

  /** Creates the missing service accounts of one namespace, if it is active. Idempotent. */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || (ns.status?.phase && ns.status.phase !== 'Active')) return;
    for (const name of this.ensure) {
      if (this.accounts.get(`${namespace}/${name}`)) continue;
      try {
        await this.deps.client.create<ServiceAccount>(SERVICEACCOUNTS, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        this.log.info({ namespace, serviceAccount: name }, 'created service account');
      } catch (e) {
        if (e instanceof ApiError && e.isAlreadyExists) continue;
        // A namespace that began terminating meanwhile refuses new content: nothing to do.
        if (isNamespaceTerminating(e)) return;
        throw e;
      }
    }
  }
}
