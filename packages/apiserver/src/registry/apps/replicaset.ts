import type { ReplicaSet } from '@k8ts/api';
import { asField, defineStrategy } from '../strategy.js';
import { child, fill } from '../shared/defaults.js';
import { defaultTemplate } from '../shared/pod.js';
import { age, AGE, column, CONTAINERS, containerCells, formatSelector, IMAGES, NAME, nameOf, SELECTOR, type Printer } from '../shared/printing.js';
import type { Obj } from '../shared/validation.js';
import { workload } from '../shared/workload.js';

function defaultReplicaSet(rs: Obj): void {
  const spec = child(rs, 'spec');
  fill(spec, 'replicas', 1);
  defaultTemplate(spec);
}

const printer: Printer = {
  columns: [
    NAME,
    column('Desired', 'Number of desired pods.', 0, 'integer'),
    column('Current', 'Number of pods the replica set has created.', 0, 'integer'),
    column('Ready', 'Number of pods that are ready.', 0, 'integer'),
    AGE, CONTAINERS, IMAGES, SELECTOR('the pods the replica set manages'),
  ],
  row(obj, now) {
    const rs = obj as ReplicaSet;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      nameOf(rs), rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs, now),
      names, images, formatSelector(rs.spec?.selector),
    ];
  },
};

/** ReplicaSets (upstream's pkg/registry/apps/replicaset/strategy.go). */
export const replicaSetStrategy = defineStrategy('apps', 'v1', 'replicasets', {
  tracksGeneration: true,
  defaults: defaultReplicaSet,
  validate: workload('replicaset'),
  fields: (r: Obj) => ({ 'status.replicas': asField(r.status?.replicas ?? 0) }),
  printer,
});
