import { describe, expect, it } from 'vitest';
import { CONFIGMAPS, DEPLOYMENTS, JOBS, PODS } from '@k8ts/api';
import { gcFinalizers } from './rest-store.js';

describe('gcFinalizers (upstream deletionFinalizersForGarbageCollection)', () => {
  it.each([
    ['Background deletes at once', DEPLOYMENTS, [], { propagationPolicy: 'Background' }, []],
    ['Foreground', DEPLOYMENTS, [], { propagationPolicy: 'Foreground' }, ['foregroundDeletion']],
    ['Orphan', PODS, ['example.com/x'], { propagationPolicy: 'Orphan' }, ['example.com/x', 'orphan']],
    ['orphanDependents: true', CONFIGMAPS, [], { orphanDependents: true }, ['orphan']],
    ['orphanDependents: false', CONFIGMAPS, ['orphan'], { orphanDependents: false }, []],
    ['an explicit policy replaces the other GC finalizer', PODS, ['foregroundDeletion'], { propagationPolicy: 'Orphan' }, ['orphan']],
    ['no options keep the one already there', PODS, ['foregroundDeletion'], {}, ['foregroundDeletion']],
    ['apps/v1 defaults to not orphaning', DEPLOYMENTS, [], {}, []],
    ['batch/v1 Jobs orphan by default, as upstream', JOBS, [], {}, ['orphan']],
    ['batch/v1 Jobs deleted in the background do not', JOBS, [], { propagationPolicy: 'Background' }, []],
  ] as const)('%s', (_what, def, finalizers, options, want) => {
    expect(gcFinalizers(def, finalizers, options)).toEqual(want);
  });
});
