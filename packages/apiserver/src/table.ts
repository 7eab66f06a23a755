import type { KubeObject, ResourceDef } from '@k8ts/api';
import { CUSTOM_INFO } from './apiextensions/custom-resource.js';
import { printerFor } from './registry/index.js';

/** The object a Table row carries: PartialObjectMetadata by default, the full object, or none (includeObject). */
function rowObject(obj: KubeObject, includeObject: string | undefined): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/**
 * A printer's cells, or for an object it cannot print (a stored object of an unexpected shape) its name and
 * `<unknown>` in every other column: one bad object never fails a whole Table list or watch.
 */
function safeRow(printer: ReturnType<typeof printerFor>, obj: KubeObject, now: Date): unknown[] {
  try {
    return printer.row(obj, now);
  } catch {
    return printer.columns.map((c, i) => (i === 0 ? String(obj.metadata?.name ?? '') : c.type === 'string' ? '<unknown>' : null));
  }
}

/** A meta.k8s.io/v1 Table of objects, with the columns `kubectl get` shows for this resource. */
export function toTable(def: ResourceDef, items: KubeObject[], metadata: { resourceVersion: string; continue?: string },
  includeObject?: string, now = new Date()) {
  const printer = CUSTOM_INFO.get(def)?.printer ?? printerFor(def.group, def.resource);
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata,
    columnDefinitions: printer.columns,
    rows: items.map((obj) => ({ cells: safeRow(printer, obj, now), object: rowObject(obj, includeObject) })),
  };
}

/** The object of a watch event for a Table watch: a one-row Table. */
export function toTableRowEvent(def: ResourceDef, obj: KubeObject, includeObject?: string) {
  return toTable(def, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? '' }, includeObject);
}
