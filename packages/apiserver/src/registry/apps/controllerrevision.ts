import { parseApiVersion } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { age, AGE, column, NAME, nameOf, type Printer } from '../shared/printing.js';
import { immutable, invalid, required, sameJSON, type Errors, type Obj } from '../shared/validation.js';

/** ValidateControllerRevision(Update): data is required and, like the revision's meaning, fixed once written. */
function validateControllerRevision(cr: Obj, old?: Obj): Errors {
  const errs: Errors = [];
  if (cr.data === undefined || cr.data === null) errs.push(required('data'));
  if (typeof cr.revision !== 'number' || !Number.isInteger(cr.revision) || cr.revision < 0) {
    errs.push(invalid('revision', cr.revision, 'must be greater than or equal to 0'));
  }
  if (old && !sameJSON(cr.data, old.data)) errs.push(immutable('data', cr.data));
  return errs;
}

/** `daemonset.apps/web` for the controlling owner, `<none>` without one (printControllerRevision). */
function controllerName(cr: Obj): string {
  const ref = (Array.isArray(cr.metadata?.ownerReferences) ? cr.metadata.ownerReferences : []).find((r: Obj) => r?.controller === true);
  if (!ref) return '<none>';
  const { group } = parseApiVersion(String(ref.apiVersion ?? ''));
  return `${String(ref.kind ?? '').toLowerCase()}${group ? `.${group}` : ''}/${String(ref.name ?? '')}`;
}

const printer: Printer = {
  columns: [
    NAME,
    column('Controller', 'The controller this revision belongs to.'),
    column('Revision', 'The revision number.', 0, 'integer'),
    AGE,
  ],
  row: (cr: Obj, now) => [nameOf(cr), controllerName(cr), cr.revision ?? 0, age(cr, now)],
};

/** apps/v1 ControllerRevisions (upstream's pkg/registry/apps/controllerrevision): DaemonSet and StatefulSet history. */
export const controllerRevisionStrategy = defineStrategy('apps', 'v1', 'controllerrevisions', {
  defaults: (cr: Obj) => { if (cr.revision === undefined || cr.revision === null) cr.revision = 0; },
  validate: validateControllerRevision,
  printer,
});
