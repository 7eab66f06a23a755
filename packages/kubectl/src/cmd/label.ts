import type { Command } from 'commander';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { metadataFlags, updateMetadata, type MetadataUpdateOptions } from './metadata-update.js';

/** `kubectl label`: sets or removes labels with a merge patch (fieldManager kubectl-label). */
export function register(program: Command, f: Factory): Command {
  const cmd = metadataFlags(program.command('label')
    .summary('Update the labels on a resource')
    .description(`Update the labels on a resource.

  *  A label key and value must begin with a letter or number, and may contain letters, numbers, hyphens, dots, and underscores, up to 63 characters each.
  *  Optionally, the key can begin with a DNS subdomain prefix and a single '/', like example.com/my-app.
  *  If --overwrite is true, then existing labels can be overwritten, otherwise attempting to overwrite a label will result in an error.
  *  If --resource-version is specified, then updates will use this resource version, otherwise the existing resource-version will be used.`)
    .usage('[--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version]'), 'labels')
    .action(async (args: string[], o: MetadataUpdateOptions) => updateMetadata(f, 'labels', args, o));
  setExamples(cmd, `  # Update pod 'foo' with the label 'unhealthy' and the value 'true'
  kubectl label pods foo unhealthy=true

  # Update pod 'foo' with the label 'status' and the value 'unhealthy', overwriting any existing value
  kubectl label --overwrite pods foo status=unhealthy

  # Update all pods in the namespace
  kubectl label pods --all status=unhealthy

  # Update pod 'foo' only if the resource is unchanged from version 1
  kubectl label pods foo status=unhealthy --resource-version=1

  # Update pod 'foo' by removing a label named 'bar' if it exists
  # Does not require the --overwrite flag
  kubectl label pods foo bar-`);
  return cmd;
}
