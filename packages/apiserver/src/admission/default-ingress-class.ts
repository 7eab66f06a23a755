import type { KubeObject } from '@k8ts/api';
import type { ResourceStore } from '../rest-store.js';
import type { AdmissionAttributes, AdmissionPlugin } from './chain.js';

/** The annotation that marks an IngressClass as the cluster's default (networking.k8s.io/v1). */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/**
 * The default IngressClass among these: of the ones annotated default, the most recently created (upstream picks
 * the newest when several are marked, since 1.30); undefined when none is.
 */
export function defaultIngressClass(classes: Iterable<KubeObject>): KubeObject | undefined {
  let found: KubeObject | undefined;
  for (const c of classes) {
    if (c.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] !== 'true') continue;
    const t = c.metadata?.creationTimestamp ?? '';
    const ft = found?.metadata?.creationTimestamp ?? '';
    if (!found || t > ft || (t === ft && (c.metadata?.name ?? '') < (found.metadata?.name ?? ''))) found = c;
  }
  return found;
}

/**
 * Upstream's DefaultIngressClass admission plugin (plugin/pkg/admission/network/defaultingressclass): a new
 * Ingress that names no class (neither `spec.ingressClassName` nor the legacy annotation) gets the default
 * IngressClass's name. Reads the classes from etcd: Ingress creates are rare, and a default class made a moment ago
 * must count.
 */
export class DefaultIngressClass implements AdmissionPlugin {
  readonly name = 'DefaultIngressClass';
  private classes: ResourceStore | undefined;

  attach(classes: ResourceStore): void {
    this.classes = classes;
  }

  async mutate(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || a.subresource || !a.object || !this.classes) return;
    if (a.def.group !== 'networking.k8s.io' || a.def.resource !== 'ingresses') return;
    const ing = a.object as KubeObject & { spec?: { ingressClassName?: string } };
    if (ing.spec?.ingressClassName || ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION]) return;
    const cls = defaultIngressClass((await this.classes.list(undefined, {})).items);
    if (cls?.metadata?.name) (ing.spec ??= {}).ingressClassName = cls.metadata.name;
  }
}
