import type { Command } from 'commander';
import type { Factory } from './factory.js';

/** What every `src/cmd/<file>.ts` exports: adds its command (and any subcommands) to the program. */
export type RegisterCommand = (program: Command, f: Factory) => Command | Promise<Command>;

/** One top-level command: its group and summary as `kubectl --help` lists them, and the file that implements it. */
export interface CommandEntry { name: string; group: string; summary: string; file: string; hidden?: boolean }

/**
 * Every kubectl command, in `kubectl --help` order. Only the named command's file is imported at run time, so start-up
 * pays for one command. A file not written yet makes the command answer that it is not implemented.
 */
export const COMMANDS: CommandEntry[] = [
  { group: 'Basic Commands (Beginner)', name: 'create', file: 'create', summary: 'Create a resource from a file or from stdin' },
  { group: 'Basic Commands (Beginner)', name: 'expose', file: 'expose', summary: 'Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service' },
  { group: 'Basic Commands (Beginner)', name: 'run', file: 'run', summary: 'Run a particular image on the cluster' },
  { group: 'Basic Commands (Beginner)', name: 'set', file: 'set', summary: 'Set specific features on objects' },
  { group: 'Basic Commands (Intermediate)', name: 'explain', file: 'explain', summary: 'Get documentation for a resource' },
  { group: 'Basic Commands (Intermediate)', name: 'get', file: 'get', summary: 'Display one or many resources' },
  { group: 'Basic Commands (Intermediate)', name: 'edit', file: 'edit', summary: 'Edit a resource on the server' },
  { group: 'Basic Commands (Intermediate)', name: 'delete', file: 'delete', summary: 'Delete resources by file names, stdin, resources and names, or by resources and label selector' },
  { group: 'Deploy Commands', name: 'rollout', file: 'rollout', summary: 'Manage the rollout of a resource' },
  { group: 'Deploy Commands', name: 'scale', file: 'scale', summary: 'Set a new size for a deployment, replica set, or replication controller' },
  { group: 'Deploy Commands', name: 'autoscale', file: 'autoscale', summary: 'Auto-scale a deployment, replica set, stateful set, or replication controller' },
  { group: 'Cluster Management Commands', name: 'cluster-info', file: 'cluster-info', summary: 'Display cluster information' },
  { group: 'Cluster Management Commands', name: 'top', file: 'top', summary: 'Display resource (CPU/memory) usage' },
  { group: 'Cluster Management Commands', name: 'cordon', file: 'cordon', summary: 'Mark node as unschedulable' },
  { group: 'Cluster Management Commands', name: 'uncordon', file: 'uncordon', summary: 'Mark node as schedulable' },
  { group: 'Cluster Management Commands', name: 'drain', file: 'drain', summary: 'Drain node in preparation for maintenance' },
  { group: 'Cluster Management Commands', name: 'taint', file: 'taint', summary: 'Update the taints on one or more nodes' },
  { group: 'Troubleshooting and Debugging Commands', name: 'describe', file: 'describe', summary: 'Show details of a specific resource or group of resources' },
  { group: 'Troubleshooting and Debugging Commands', name: 'logs', file: 'logs', summary: 'Print the logs for a container in a pod' },
  { group: 'Troubleshooting and Debugging Commands', name: 'attach', file: 'attach', summary: 'Attach to a running container' },
  { group: 'Troubleshooting and Debugging Commands', name: 'exec', file: 'exec', summary: 'Execute a command in a container' },
  { group: 'Troubleshooting and Debugging Commands', name: 'port-forward', file: 'port-forward', summary: 'Forward one or more local ports to a pod' },
  { group: 'Troubleshooting and Debugging Commands', name: 'cp', file: 'cp', summary: 'Copy files and directories to and from containers' },
  { group: 'Troubleshooting and Debugging Commands', name: 'auth', file: 'auth', summary: 'Inspect authorization' },
  { group: 'Troubleshooting and Debugging Commands', name: 'events', file: 'events', summary: 'List events' },
  { group: 'Advanced Commands', name: 'diff', file: 'diff', summary: 'Diff the live version against a would-be applied version' },
  { group: 'Advanced Commands', name: 'apply', file: 'apply', summary: 'Apply a configuration to a resource by file name or stdin' },
  { group: 'Advanced Commands', name: 'patch', file: 'patch', summary: 'Update fields of a resource' },
  { group: 'Advanced Commands', name: 'replace', file: 'replace', summary: 'Replace a resource by file name or stdin' },
  { group: 'Advanced Commands', name: 'wait', file: 'wait', summary: 'Experimental: Wait for a specific condition on one or many resources' },
  { group: 'Settings Commands', name: 'label', file: 'label', summary: 'Update the labels on a resource' },
  { group: 'Settings Commands', name: 'annotate', file: 'annotate', summary: 'Update the annotations on a resource' },
  { group: 'Settings Commands', name: 'completion', file: 'completion', summary: 'Output shell completion code for the specified shell (bash, zsh, fish, or powershell)' },
  { group: 'Other Commands', name: 'api-resources', file: 'api-resources', summary: 'Print the supported API resources on the server' },
  { group: 'Other Commands', name: 'api-versions', file: 'api-versions', summary: 'Print the supported API versions on the server, in the form of "group/version"' },
  { group: 'Other Commands', name: 'config', file: 'config', summary: 'Modify kubeconfig files' },
  { group: 'Other Commands', name: 'version', file: 'version', summary: 'Print the client and server version information' },
  // Not listed by `kubectl --help` (kubectl adds it outside its command groups).
  { group: '', name: 'options', file: 'options', summary: 'Print the list of flags inherited by all commands', hidden: true },
];

/** A bundle's way to a `src/cmd/<file>.ts` module: `() => import('./cmd/<file>.ts')`, resolved at build time. */
export type CommandFileLoader = () => Promise<unknown>;
let bundledFiles: Record<string, CommandFileLoader> | undefined;

/**
 * Called by the bundle's entry (scripts/bundle.mjs) with a loader for every `src/cmd/*.ts`, so command files are
 * found inside the bundle; from the sources (tsc's dist, vitest) they are imported by path.
 */
export function setCommandFileLoaders(loaders: Record<string, CommandFileLoader>): void {
  bundledFiles = loaders;
}

/** Imports `src/cmd/<file>`; undefined when that file does not exist (yet). */
export async function importCommandFile<T>(file: string): Promise<T | undefined> {
  if (bundledFiles) {
    const load = bundledFiles[file];
    return load ? await load() as T : undefined;
  }
  // Under vitest the sources are .ts; a plain variable keeps bundlers from turning this into a glob.
  const spec = `./cmd/${file}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`;
  try {
    return await import(/* @vite-ignore */ spec) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`/cmd/${file}.`)) return undefined;
    throw err;
  }
}

/** Loads a command's module; undefined when its file does not exist (yet). */
export async function loadCommand(entry: CommandEntry): Promise<RegisterCommand | undefined> {
  return (await importCommandFile<{ register?: RegisterCommand }>(entry.file))?.register;
}

/** The root help text, as `kubectl --help` prints it. */
export function rootHelp(): string {
  const lines = ['kubectl controls the Kubernetes cluster manager.', '', ' Find more information at: https://kubernetes.io/docs/reference/kubectl/', ''];
  let group = '';
  for (const c of COMMANDS.filter((x) => !x.hidden)) {
    if (c.group !== group) {
      if (group) lines.push('');
      group = c.group;
      lines.push(`${group}:`);
    }
    lines.push(`  ${c.name.padEnd(15)} ${c.summary}`);
  }
  lines.push('', 'Usage:', '  kubectl [flags] [options]', '',
    'Use "kubectl <command> --help" for more information about a given command.',
    'Use "kubectl options" for a list of global command-line options (applies to all commands).', '');
  return lines.join('\n');
}
