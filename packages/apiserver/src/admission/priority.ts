import { ApiError, type KubeObject, type ResourceDef } from '@k8ts/api';
import { DEFAULT_PREEMPTION_POLICY, SYSTEM_PRIORITY_CLASSES } from '../registry/scheduling/priorityclass.js';
import type { ResourceStore } from '../rest-store.js';
import { forbidden, type AdmissionAttributes, type AdmissionPlugin } from './chain.js';

/*
 * Upstream's Priority admission plugin (plugin/pkg/admission/priority): pods get their class's priority and
 * preemption policy; there is at most one global default class; the built-in classes cannot be deleted.
 */

interface PriorityClassLike { metadata?: { name?: string }; value?: number; globalDefault?: boolean; preemptionPolicy?: string }

/** The global default among these classes: the lowest-valued one when a race left several (as upstream). */
export function defaultPriorityClass(classes: Iterable<KubeObject>): PriorityClassLike | undefined {
  let found: PriorityClassLike | undefined;
  for (const obj of classes) {
    const pc = obj as PriorityClassLike;
    if (pc.globalDefault === true && (!found || (found.value ?? 0) > (pc.value ?? 0))) found = pc;
  }
  return found;
}

const isPods = (def: ResourceDef) => def.group === '' && def.resource === 'pods';
const isPriorityClasses = (def: ResourceDef) => def.group === 'scheduling.k8s.io' && def.resource === 'priorityclasses';

/**
 * Upstream's Priority admission: on pod create, resolves spec.priorityClassName (or the global default class) to
 * spec.priority and spec.preemptionPolicy, refusing unknown classes and contradicting values; on PriorityClass
 * create, keeps the cluster to one global default. Reads classes from the priorityclasses watch cache, as
 * upstream reads its informer, and asks etcd when the cache may lag.
 */
export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';
  private classes: ResourceStore | undefined;
  /** Until when (ms) a default class created through this server may still be missing from the watch cache. */
  private freshUntil = 0;

  /** @param freshMs how long after a default class is created pods resolve the default from etcd, not the cache. */
  constructor(private readonly now: () => number = Date.now, private readonly freshMs = 5000) {}

  attach(classes: ResourceStore): void {
    this.classes = classes;
  }

  /**
   * The mutating half: on create, resolves a pod's priority and keeps PriorityClasses to one global default; on a
   * pod update, keeps its priority.
   */
  async mutate(a: AdmissionAttributes): Promise<void> {
    if (a.subresource || !a.object) return;
    if (a.operation === 'CREATE') await this.admit(a.def, a.object);
    else if (a.operation === 'UPDATE' && a.oldObject) this.admitUpdate(a.def, a.object, a.oldObject);
  }

  /** The validating half: the built-in classes cannot be deleted. */
  validate(a: AdmissionAttributes): void {
    if (a.operation === 'DELETE') this.checkDelete(a.def, a.name);
  }

  /** Admission of a new object: pods and PriorityClasses; anything else passes. */
  async admit(def: ResourceDef, obj: KubeObject): Promise<void> {
    if (!this.classes) return;
    if (isPods(def)) await this.admitPod(def, obj);
    else if (isPriorityClasses(def)) await this.admitPriorityClass(def, obj);
  }

  /** Refuses deleting a built-in class (upstream's priorityclasses REST Delete). */
  checkDelete(def: ResourceDef, name: string): void {
    if (isPriorityClasses(def) && SYSTEM_PRIORITY_CLASSES.some((c) => c.name === name)) {
      throw forbidden(def, name, 'this is a system priority class and cannot be deleted');
    }
  }

  /**
   * Admission for pod updates: keeps spec.priority and spec.preemptionPolicy from the old pod when the new one
   * leaves them out (`kubectl replace -f` of the manifest), as upstream; validation refuses any other change.
   */
  admitUpdate(def: ResourceDef, pod: KubeObject, old: KubeObject): void {
    if (!isPods(def)) return;
    const oldSpec = (old as { spec?: Record<string, unknown> }).spec ?? {};
    const spec = ((pod as { spec?: Record<string, unknown> }).spec ??= {});
    for (const field of ['priority', 'preemptionPolicy']) {
      if ((spec[field] === undefined || spec[field] === null) && oldSpec[field] !== undefined && oldSpec[field] !== null) spec[field] = oldSpec[field];
    }
  }

  /** Sets spec.priority, spec.preemptionPolicy and (from the global default) spec.priorityClassName of a new pod. */
  async admitPod(def: ResourceDef, pod: KubeObject): Promise<void> {
    const spec = ((pod as { spec?: Record<string, any> }).spec ??= {});
    const name = pod.metadata?.name ?? '';
    let pc: PriorityClassLike | undefined;
    if (!spec.priorityClassName) {
      pc = await this.defaultClass();
      if (pc) spec.priorityClassName = pc.metadata?.name;
    } else {
      pc = await this.lookup(String(spec.priorityClassName));
      if (!pc) throw forbidden(def, name, `no PriorityClass with name ${String(spec.priorityClassName)} was found`);
    }
    const priority = pc?.value ?? 0;
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
      throw forbidden(def, name, `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
    }
    spec.priority = priority;
    // A class stored without a policy leaves the pod's alone, as upstream; no class at all means the default.
    const policy = pc ? pc.preemptionPolicy : DEFAULT_PREEMPTION_POLICY;
    if (policy) {
      if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== policy) {
        throw forbidden(def, name, `the string value of PreemptionPolicy (${String(spec.preemptionPolicy)}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
      }
      spec.preemptionPolicy = policy;
    }
  }

  /** Refuses a second global default. Reads etcd, not the cache: class writes are rare and this must not race. */
  async admitPriorityClass(def: ResourceDef, pc: KubeObject): Promise<void> {
    if ((pc as PriorityClassLike).globalDefault !== true) return;
    this.freshUntil = this.now() + this.freshMs;
    const current = defaultPriorityClass((await this.classes!.list(undefined, {})).items);
    if (current) {
      throw forbidden(def, pc.metadata?.name ?? '', `PriorityClass ${current.metadata?.name ?? ''} is already marked as default. Only one default can exist`);
    }
  }

  private async lookup(name: string): Promise<PriorityClassLike | undefined> {
    const cached = this.classes!.cache.objects.get(`/${name}`);
    if (cached) return cached as PriorityClassLike;
    // The cache may lag a class created a moment ago: ask etcd before refusing.
    try {
      return await this.classes!.get(undefined, name) as PriorityClassLike;
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return undefined;
      throw err;
    }
  }

  private async defaultClass(): Promise<PriorityClassLike | undefined> {
    // Right after a class was created here the cache may not hold it yet; a missing default is silent, so read etcd.
    const classes = this.now() < this.freshUntil ? (await this.classes!.list(undefined, {})).items : this.classes!.cache.objects.values();
    return defaultPriorityClass(classes);
  }
}
