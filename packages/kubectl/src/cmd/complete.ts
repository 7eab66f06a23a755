import { COMMANDS, loadCommand } from '../commands.js';
import type { Factory } from '../factory.js';
import { groupResource, resourceUrl, type ResourceMapping } from '../rest-mapper.js';

/** cobra's ShellCompDirective values that kubectl's completion scripts read from the last line. */
const NO_FILE_COMP = 4;
const DIRECTIVE_NAMES: Record<number, string> = { 0: 'ShellCompDirectiveDefault', 4: 'ShellCompDirectiveNoFileComp' };

/** Global flags that take a value (the word after them is their value, not an argument). */
const GLOBAL_VALUE_FLAGS = new Map<string, 'namespace' | 'kubeconfig' | 'context' | 'server' | 'cluster' | 'user' | 'token' | ''>([
  ['-n', 'namespace'], ['--namespace', 'namespace'], ['--kubeconfig', 'kubeconfig'], ['--context', 'context'], ['-s', 'server'], ['--server', 'server'],
  ['--cluster', 'cluster'], ['--user', 'user'], ['--token', 'token'], ['--cache-dir', ''], ['--request-timeout', ''], ['-v', ''], ['--v', ''],
  ['--certificate-authority', ''], ['--client-certificate', ''], ['--client-key', ''], ['--tls-server-name', ''], ['--as', ''], ['--as-group', ''], ['--as-uid', ''],
]);

/** Commands whose arguments are `TYPE [NAME…]` or `TYPE/NAME`. */
const RESOURCE_COMMANDS = new Set(['get', 'describe', 'delete', 'edit', 'label', 'annotate', 'patch', 'wait']);
/** Commands whose first argument is a pod. */
const POD_COMMANDS = new Set(['logs', 'exec', 'attach', 'port-forward']);

/**
 * `kubectl __complete WORDS… CURRENT` (cobra's hidden completion command, which the bash and zsh scripts call): one
 * candidate a line (`name\tdescription` unless `__completeNoDesc`), then `:<directive>`; the directive's name on stderr.
 */
export async function complete(f: Factory, words: string[], withDescriptions: boolean): Promise<number> {
  const toComplete = words.length ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  const positional: string[] = [];
  let prev = '';
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    const eq = w.indexOf('=');
    const flag = eq > 0 ? w.slice(0, eq) : w;
    if (GLOBAL_VALUE_FLAGS.has(flag)) {
      const value = eq > 0 ? w.slice(eq + 1) : before[i + 1];
      if (eq < 0) i++;
      const attr = GLOBAL_VALUE_FLAGS.get(flag);
      if (attr && value !== undefined) (f.flags as Record<string, string>)[attr] = value;
      if (eq < 0 && i >= before.length) prev = flag;
      continue;
    }
    if (w.startsWith('-')) continue;
    positional.push(w);
  }
  const out: string[] = [];
  let directive = NO_FILE_COMP;
  const [command, ...args] = positional;
  const emit = (names: string[]): void => {
    for (const n of names) if (n.startsWith(toComplete)) out.push(n);
  };
  try {
    if (prev === '-n' || prev === '--namespace') {
      emit(await names(f, '', 'namespaces'));
    } else if (command === undefined || (!COMMANDS.some((c) => c.name === command) && !args.length && !toComplete.startsWith('-'))) {
      const entries = [...COMMANDS].sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const c of entries) if (c.name.startsWith(toComplete)) out.push(withDescriptions ? `${c.name}\t${c.summary}` : c.name);
    } else if (toComplete.startsWith('-')) {
      out.push(...await flagCompletions(f, command, toComplete, withDescriptions));
    } else if (command === 'completion') {
      if (!args.length) emit(['bash', 'zsh', 'fish', 'powershell']);
    } else if (RESOURCE_COMMANDS.has(command)) {
      const mapper = await f.mapper();
      if (!args.length && !toComplete.includes('/')) {
        emit(resourceTypes(mapper.preferredResources()));
      } else if (toComplete.includes('/')) {
        const type = toComplete.slice(0, toComplete.indexOf('/'));
        const m = mapper.find(type);
        if (m) emit((await names(f, type, m)).map((n) => `${type}/${n}`));
      } else if (!args[0].includes('/') && !args[0].includes(',')) {
        const m = mapper.find(args[0]);
        if (m) emit(await names(f, args[0], m));
      }
    } else if (POD_COMMANDS.has(command)) {
      if (toComplete.includes('/')) {
        const type = toComplete.slice(0, toComplete.indexOf('/'));
        const m = (await f.mapper()).find(type);
        if (m) emit((await names(f, type, m)).map((n) => `${type}/${n}`));
      } else if (!args.length) {
        emit(await names(f, 'pods', 'pods'));
        emit(['daemonsets/', 'deployments/', 'pods/', 'jobs/', 'replicasets/', 'replicationcontrollers/', 'services/', 'statefulsets/']);
      } else if (args.length === 1 && command === 'logs' && !args[0].includes('/')) {
        const client = await f.client();
        const pod = await client.request<any>('GET', `/api/v1/namespaces/${encodeURIComponent(f.namespace())}/pods/${encodeURIComponent(args[0])}`);
        emit([...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c: any) => c.name as string));
      }
    } else {
      directive = 0;
    }
  } catch {
    // Completion never fails loudly: no candidates.
  }
  f.io.out.write(out.map((l) => `${l}\n`).join(''));
  f.io.out.write(`:${directive}\n`);
  f.io.err.write(`Completion ended with directive: ${DIRECTIVE_NAMES[directive] ?? directive}\n`);
  return 0;
}

/** `kubectl api-resources -o name --verbs=get` order: core first, then groups by name, resources by name. */
function resourceTypes(mappings: ResourceMapping[]): string[] {
  return mappings.filter((m) => m.verbs.includes('get') && !m.resource.includes('/'))
    .sort((a, b) => (a.group === b.group ? (a.resource < b.resource ? -1 : 1) : a.group === '' ? -1 : b.group === '' ? 1 : a.group < b.group ? -1 : 1))
    .map((m) => (m.group ? groupResource(m) : m.resource));
}

/** The names of one type's objects in the namespace (kubectl's CompGetResource). */
async function names(f: Factory, type: string, mapping: ResourceMapping | string): Promise<string[]> {
  const m = typeof mapping === 'string' ? (await f.mapper()).resourceFor(mapping) : mapping;
  const client = await f.client();
  const list = await client.request<any>('GET', resourceUrl(m, m.namespaced ? f.namespace() : undefined));
  void type;
  return (list.items ?? []).map((x: any) => x.metadata?.name as string).filter(Boolean);
}

/** The command's long flags starting with `prefix`, with their descriptions. */
async function flagCompletions(f: Factory, command: string, prefix: string, withDescriptions: boolean): Promise<string[]> {
  const entry = COMMANDS.find((c) => c.name === command);
  if (!entry) return [];
  const register = await loadCommand(entry);
  if (!register) return [];
  const { Command } = await import('commander');
  const program = new Command('kubectl');
  const cmd = await register(program, f);
  return cmd.options.filter((o) => o.long && o.long.startsWith(prefix) && o.long !== '--no-headers' || (o.long === '--no-headers' && '--no-headers'.startsWith(prefix)))
    .map((o) => o.long!)
    .sort()
    .map((l) => {
      const o = cmd.options.find((x) => x.long === l)!;
      return withDescriptions ? `${l}\t${o.description}` : l;
    });
}
