import { defineStrategy } from '../strategy.js';
import { defaultTemplate, validatePodTemplate } from '../shared/pod.js';
import { column, containerCells, formatLabels, NAME, nameOf, type Printer } from '../shared/printing.js';
import { required, type Obj } from '../shared/validation.js';

const printer: Printer = {
  columns: [
    NAME,
    column('Containers', 'Names of each container in the template.'),
    column('Images', 'Images referenced by each container in the template.'),
    column('Pod Labels', 'The labels for the pod template.'),
  ],
  row(t: Obj) {
    const [names, images] = containerCells(t.template?.spec?.containers);
    return [nameOf(t), names, images, formatLabels(t.template?.metadata?.labels)];
  },
};

/** PodTemplates (upstream's pkg/registry/core/podtemplate): a pod template with its own name, as controllers keep them. */
export const podTemplateStrategy = defineStrategy('', 'v1', 'podtemplates', {
  defaults: (t) => defaultTemplate(t),
  validate: (t: Obj) => (t.template ? validatePodTemplate(t.template, 'template') : [required('template')]),
  printer,
});
