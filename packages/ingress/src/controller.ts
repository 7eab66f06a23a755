import {
  ApiError, ENDPOINTSLICES, INGRESSCLASSES, INGRESSES, SECRETS, SERVICES, silentLogger,
  type ApiClient, type EndpointSlice, type InformerFactory, type Logger, type Secret, type Service,
} from '@k8ts/api';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { backendKey, resolveBackend, type Resolution } from './endpoints.js';
import type { IngressProxy } from './proxy.js';
import { buildRouteTable, type ClassSelection, type RouteTable } from './routes.js';
import type { CertificateStore } from './tls.js';

export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const CONTROLLER_NAME = 'k8ts.io/ingress';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface IngressControllerOptions {
  client: ApiClient;
  informers: InformerFactory;
  proxy: IngressProxy;
  certs?: CertificateStore;
  /** The IngressClass this controller serves (`--ingress-class`, default k8ts). */
  className: string;
  /** `spec.controller` of that class (`--controller-class`). */
  controllerName?: string;
  /** Create the IngressClass at start when missing, marked default (`--create-default-class`). */
  createClass?: boolean;
  /** The addresses written to each served Ingress's `status.loadBalancer.ingress`. */
  publishAddresses: string[];
  log?: Logger;
}

/**
 * The control loop of the ingress controller: informers on Ingresses, IngressClasses, Services, EndpointSlices and
 * Secrets; any change rebuilds the route table, the endpoints of its backends and the certificates at the next turn
 * of the event loop and swaps them into the proxy whole; Ingresses served get the publish addresses in their status.
 */
export class IngressController {
  private readonly log: Logger;
  private readonly ingresses;
  private readonly classes;
  private readonly services;
  private readonly slices;
  private readonly secrets;
  private scheduled = false;
  private readonly controllerName: string;
  /** Rebuilds done (what /metrics reports as reloads). */
  reloads = 0;
  private statusWrites = new Map<string, string>();

  constructor(private readonly opts: IngressControllerOptions) {
    this.log = opts.log ?? silentLogger;
    this.controllerName = opts.controllerName ?? CONTROLLER_NAME;
    this.ingresses = opts.informers.informerFor<Ingress>(INGRESSES);
    this.classes = opts.informers.informerFor<IngressClass>(INGRESSCLASSES);
    this.services = opts.informers.informerFor<Service>(SERVICES);
    this.slices = opts.informers.informerFor<EndpointSlice>(ENDPOINTSLICES, {
      indexers: { byService: (s) => { const n = s.metadata?.labels?.[SERVICE_NAME_LABEL]; return n ? [`${s.metadata?.namespace}/${n}`] : []; } },
    });
    this.secrets = opts.informers.informerFor<Secret>(SECRETS);
  }

  /** Which Ingresses are ours right now: the class object decides whether it is the default. */
  classSelection(): ClassSelection {
    const cls = this.classes.get(this.opts.className);
    const isDefault = !!cls && cls.spec?.controller === this.controllerName && cls.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
    return { className: this.opts.className, isDefault };
  }

  /** Creates the IngressClass, marked default, when it does not exist (an existing one is left as the user has it). */
  async ensureClass(): Promise<void> {
    try {
      await this.opts.client.get(INGRESSCLASSES, undefined, this.opts.className);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.isNotFound)) throw err;
    }
    try {
      await this.opts.client.create(INGRESSCLASSES, undefined, {
        apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
        metadata: { name: this.opts.className, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
        spec: { controller: this.controllerName },
      });
      this.log.info({ ingressClass: this.opts.className }, 'created the default IngressClass');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  /** Waits for the caches, builds the first configuration, and follows changes until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.opts.createClass) await this.ensureClass();
    const changed = { onAdd: () => this.schedule(), onUpdate: () => this.schedule(), onDelete: () => this.schedule() };
    const offs = [this.ingresses, this.classes, this.services, this.slices, this.secrets].map((i) => i.addHandler(changed));
    this.opts.informers.start(signal);
    if (!(await this.opts.informers.waitForCacheSync(signal))) { offs.forEach((f) => f()); return; }
    this.rebuild();
    await new Promise<void>((resolve) => { if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true }); });
    offs.forEach((f) => f());
  }

  /** Whether the caches have synced and a configuration is in place (/healthz). */
  healthy(): boolean {
    return this.reloads > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.reloads === 0) return;
    this.scheduled = true;
    setImmediate(() => { this.scheduled = false; this.rebuild(); });
  }

  /** One rebuild: route table, endpoints of every backend it names, certificates; then the status writes. */
  rebuild(): RouteTable {
    const table = buildRouteTable(this.ingresses.list(), this.classSelection());
    const memo = new Map<string, Resolution>();
    const resolve = (b: Parameters<typeof backendKey>[0]): Resolution => {
      const key = backendKey(b);
      let r = memo.get(key);
      if (!r) {
        r = resolveBackend(b, this.services.get(`${b.namespace}/${b.service}`), this.slices.byIndex('byService', `${b.namespace}/${b.service}`));
        memo.set(key, r);
      }
      return r;
    };
    this.opts.proxy.setConfig({ table, resolve });
    const problems = this.opts.certs?.update(table.tls, (ns, name) => this.secrets.get(`${ns}/${name}`)) ?? [];
    for (const p of problems) this.log.warn({ ingress: p.route.ingress, secret: `${p.route.namespace}/${p.route.secretName}`, reason: p.error }, 'TLS secret not usable; the fake certificate serves those hosts');
    this.reloads++;
    void this.writeStatuses(table);
    return table;
  }

  /** Sets `status.loadBalancer.ingress` of every Ingress served to the publish addresses, when it differs. */
  private async writeStatuses(table: RouteTable): Promise<void> {
    const want = this.opts.publishAddresses.map((ip) => ({ ip }));
    const wantText = JSON.stringify(want);
    for (const key of table.ingresses) {
      const ing = this.ingresses.get(key);
      if (!ing) continue;
      const have = JSON.stringify(ing.status?.loadBalancer?.ingress ?? []);
      if (have === wantText) continue;
      // One write per (Ingress, resourceVersion): the watch event of our own write comes back as a change.
      const rv = ing.metadata?.resourceVersion ?? '';
      if (this.statusWrites.get(key) === rv) continue;
      this.statusWrites.set(key, rv);
      try {
        await this.opts.client.update(INGRESSES, ing.metadata?.namespace, { ...structuredClone(ing), status: { ...ing.status, loadBalancer: { ingress: want } } }, { subresource: 'status' });
        this.log.info({ ingress: key, addresses: this.opts.publishAddresses }, 'updated the Ingress status');
      } catch (err) {
        // A conflict or a deleted Ingress: the next event brings the fresh object and another try.
        this.statusWrites.delete(key);
        this.log.debug({ ingress: key, err: (err as Error).message }, 'Ingress status write failed');
      }
    }
    for (const k of this.statusWrites.keys()) if (!table.ingresses.includes(k)) this.statusWrites.delete(k);
  }
}
