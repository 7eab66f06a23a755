import type { Command } from 'commander';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { metadataFlags, updateMetadata, type MetadataUpdateOptions } from './metadata-update.js';

/** `kubectl annotate`: sets or removes annotations with a merge patch (fieldManager kubectl-annotate). */
export function register(program: Command, f: Factory): Command {
  const cmd = metadataFlags(program.command('annotate')
    .summary('Update the annotations on a resource')
    .description(`Update the annotations on one or more resources.

 All Kubernetes objects support the ability to store additional data with the object as annotations. Annotations are key/value pairs that can be larger than labels and include arbitrary string values such as structured JSON. Tools and system extensions may use annotations to store their own data.

 Attempting to set an annotation that already exists will fail unless --overwrite is set. If --resource-version is specified and does not match the current resource version on the server the command will fail.

Use "kubectl api-resources" for a complete list of supported resources.`)
    .usage('[--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version]'), 'annotations')
    .action(async (args: string[], o: MetadataUpdateOptions) => updateMetadata(f, 'annotations', args, o));
  setExamples(cmd, `  # Update pod 'foo' with the annotation 'description' and the value 'my frontend'
  # If the same annotation is set multiple times, only the last value will be applied
  kubectl annotate pods foo description='my frontend'

  # Update pod 'foo' with the annotation 'description' and the value 'my frontend running nginx', overwriting any existing value
  kubectl annotate --overwrite pods foo description='my frontend running nginx'

  # Update all pods in the namespace
  kubectl annotate pods --all description='my frontend running nginx'

  # Remove an annotation named 'description' if it exists from pod 'foo'
  kubectl annotate pods foo description-`);
  return cmd;
}
