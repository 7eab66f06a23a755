import { statSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import {
  cloneConfig, configAccess, defaultFilename, goBase64Decode, modifyConfig, normalCluster, normalContext, normalUser, startingConfig,
  type ConfigAccess, type EditConfig, type Section, type Stanza,
} from '../kubeconfig-edit.js';

/**
 * kubectl config's editing subcommands (k8s.io/kubectl/pkg/cmd/config: get-clusters, get-users, delete-*,
 * rename-context, set-cluster, set-credentials, set, unset), each reading the chain as PathOptions does and writing
 * it back through clientcmd's ModifyConfig rules (src/kubeconfig-edit.ts).
 */
export function registerEdits(config: Command, f: Factory): void {
  const access = () => configAccess(f.flags.kubeconfig, f.env);
  /** The file kubectl names in its messages: the explicit one, else GetDefaultFilename. */
  const configFile = (a: ConfigAccess) => defaultFilename(a);
  const sorted = (m: Map<string, unknown>) => [...m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  config.command('get-clusters')
    .summary('Display clusters defined in the kubeconfig')
    .description('Display clusters defined in the kubeconfig.')
    .usage('[flags]')
    .argument('[args...]')
    .action(() => {
      f.io.out.write(['NAME', ...sorted(startingConfig(access()).clusters)].map((l) => `${l}\n`).join(''));
    });

  config.command('get-users')
    .summary('Display users defined in the kubeconfig')
    .description('Display users defined in the kubeconfig.')
    .usage('[flags]')
    .argument('[args...]')
    .action(() => {
      f.io.out.write(['NAME', ...sorted(startingConfig(access()).users)].map((l) => `${l}\n`).join(''));
    });

  const deleteCommand = (section: Section, what: string, summary: string) => config.command(`delete-${what}`)
    .summary(summary)
    .description(`${summary}.`)
    .usage('NAME')
    .argument('[args...]')
    .action((args: string[], _o: unknown, cmd: Command) => {
      const a = access();
      const start = startingConfig(a);
      if (args.length !== 1) {
        // delete-user is a usage error; delete-cluster and delete-context print their help and succeed.
        if (section === 'users') throw new CliError('user to delete is required', { usage: 'config delete-user' });
        return printHelp(f, cmd);
      }
      const [name] = args;
      const file = configFile(a);
      if (!start[section].has(name)) throw new CliError(`cannot delete ${what} ${name}, not in ${file}`);
      if (section === 'contexts' && start.currentContext === name) f.io.err.write('warning: this removed your active context, use "kubectl config use-context" to select a different one\n');
      const next = cloneConfig(start);
      next[section].delete(name);
      modifyConfig(a, start, next, true);
      f.io.out.write(`deleted ${what} ${name} from ${file}\n`);
    });
  deleteCommand('clusters', 'cluster', 'Delete the specified cluster from the kubeconfig');
  deleteCommand('contexts', 'context', 'Delete the specified context from the kubeconfig');
  deleteCommand('users', 'user', 'Delete the specified user from the kubeconfig');

  config.command('rename-context')
    .summary('Rename a context from the kubeconfig file')
    .description(`Renames a context from the kubeconfig file.

 CONTEXT_NAME is the context name that you want to change.

 NEW_NAME is the new name you want to set.

 Note: If the context being renamed is the 'current-context', this field will also be updated.`)
    .usage('CONTEXT_NAME NEW_NAME')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      if (args.length !== 2) return helpError(f, cmd, `Unexpected args: ${goList(args)}`);
      const [from, to] = args;
      if (!to) throw new CliError('You must specify a new non-empty context name');
      const a = access();
      const start = startingConfig(a);
      const file = configFile(a);
      const ctx = start.contexts.get(from);
      if (!ctx) throw new CliError(`cannot rename the context ${goQuote(from)}, it's not in ${file}`);
      if (start.contexts.has(to)) throw new CliError(`cannot rename the context ${goQuote(from)}, the context ${goQuote(to)} already exists in ${file}`);
      const next = cloneConfig(start);
      next.contexts.delete(from);
      next.contexts.set(to, ctx);
      next.origin.set(`contexts/${to}`, start.origin.get(`contexts/${from}`)!);
      if (next.currentContext === from) next.currentContext = to;
      modifyConfig(a, start, next, true);
      f.io.out.write(`Context ${goQuote(from)} renamed to ${goQuote(to)}.\n`);
    });

  config.command('set-cluster')
    .summary('Set a cluster entry in kubeconfig')
    .description(`Set a cluster entry in kubeconfig.

 Specifying a name that already exists will merge new fields on top of existing values for those fields.`)
    .usage('NAME [--server=server] [--certificate-authority=path/to/certificate/authority] [--insecure-skip-tls-verify=true] [--tls-server-name=example.com]')
    .argument('[args...]')
    .option('--certificate-authority <path>', 'Path to certificate-authority file for the cluster entry in kubeconfig')
    .option('--embed-certs', 'embed-certs for the cluster entry in kubeconfig')
    .option('--insecure-skip-tls-verify', 'insecure-skip-tls-verify for the cluster entry in kubeconfig')
    .option('--proxy-url <url>', 'proxy-url for the cluster entry in kubeconfig')
    .option('--server <server>', 'server for the cluster entry in kubeconfig')
    .option('--tls-server-name <name>', 'tls-server-name for the cluster entry in kubeconfig')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      // set-cluster's own --server has no -s: kubectl's global `-s` is shadowed, so cobra does not know it here.
      const s = (cmd.parent?.parent as { rawArgs?: string[] } | undefined)?.rawArgs?.find((x) => /^-s/.test(x));
      if (s) throw new CliError(`Error: unknown shorthand flag: 's' in ${s}\nSee 'kubectl config set-cluster --help' for usage.`, { raw: true });
      const o = flags<{ certificateAuthority?: string; embedCerts?: boolean; insecureSkipTlsVerify?: boolean; proxyUrl?: string; server?: string; tlsServerName?: string }>(cmd);
      if (args.length !== 1) return helpError(f, cmd, `Unexpected args: ${goList(args)}`);
      const [name] = args;
      if (!name) throw new CliError('you must specify a non-empty cluster name');
      if (o.insecureSkipTlsVerify && o.certificateAuthority) throw new CliError('you cannot specify a certificate authority and insecure mode at the same time');
      if (o.embedCerts) {
        if (!o.certificateAuthority) throw new CliError('you must specify a --certificate-authority to embed');
        statOrThrow('certificate-authority', o.certificateAuthority);
      }
      const a = access();
      const start = startingConfig(a);
      const c: Stanza = { ...(start.clusters.get(name) ?? normalCluster({})) };
      if (o.server !== undefined) {
        c.server = o.server;
        // A new server clears the TLS server name kubeconfig had, as kubectl does.
        c['tls-server-name'] = '';
      }
      if (o.tlsServerName !== undefined) c['tls-server-name'] = o.tlsServerName;
      // kubectl v1.32 writes --insecure-skip-tls-verify's value whether given or not: an entry's `true` goes unless repeated.
      c['insecure-skip-tls-verify'] = !!o.insecureSkipTlsVerify;
      if (o.insecureSkipTlsVerify) { c['certificate-authority'] = ''; c['certificate-authority-data'] = ''; }
      if (o.certificateAuthority !== undefined) {
        if (o.embedCerts) {
          c['certificate-authority-data'] = readOrEmpty(o.certificateAuthority).toString('base64');
          c['insecure-skip-tls-verify'] = false;
          c['certificate-authority'] = '';
        } else {
          c['certificate-authority'] = o.certificateAuthority ? resolve(o.certificateAuthority) : resolve('');
          c['insecure-skip-tls-verify'] = false;
          c['certificate-authority-data'] = '';
        }
      }
      if (o.proxyUrl !== undefined) c['proxy-url'] = o.proxyUrl;
      const next = cloneConfig(start);
      next.clusters.set(name, normalCluster(c));
      modifyConfig(a, start, next, true);
      f.io.out.write(`Cluster ${goQuote(name)} set.\n`);
    });

  config.command('set-credentials')
    .summary('Set a user entry in kubeconfig')
    .description(`Set a user entry in kubeconfig.

 Specifying a name that already exists will merge new fields on top of existing values.

  Client-certificate flags:
  --client-certificate=certfile --client-key=keyfile

  Bearer token flags:
  --token=bearer_token

  Basic auth flags:
  --username=basic_user --password=basic_password

 Bearer token and basic auth are mutually exclusive.`)
    .usage('NAME [--client-certificate=path/to/certfile] [--client-key=path/to/keyfile] [--token=bearer_token] [--username=basic_user] [--password=basic_password] [--auth-provider=provider_name] [--auth-provider-arg=key=value] [--exec-command=exec_command] [--exec-api-version=exec_api_version] [--exec-arg=arg] [--exec-env=key=value]')
    .argument('[args...]')
    .option('--auth-provider <name>', 'Auth provider for the user entry in kubeconfig')
    .option('--auth-provider-arg <key=value>', "'key=value' arguments for the auth provider", stringSlice, [])
    .option('--client-certificate <path>', 'Path to client-certificate file for the user entry in kubeconfig')
    .option('--client-key <path>', 'Path to client-key file for the user entry in kubeconfig')
    .option('--embed-certs', 'Embed client cert/key for the user entry in kubeconfig')
    .option('--exec-api-version <version>', 'API version of the exec credential plugin for the user entry in kubeconfig')
    .option('--exec-arg <arg>', 'New arguments for the exec credential plugin command for the user entry in kubeconfig', stringSlice, [])
    .option('--exec-command <command>', 'Command for the exec credential plugin for the user entry in kubeconfig')
    .option('--exec-env <key=value>', "'key=value' environment values for the exec credential plugin", (v: string, p: string[]) => [...p, v], [])
    .option('--exec-interactive-mode <mode>', 'InteractiveMode of the exec credentials plugin for the user entry in kubeconfig')
    .option('--exec-provide-cluster-info', 'ProvideClusterInfo of the exec credentials plugin for the user entry in kubeconfig')
    .option('--password <password>', 'password for the user entry in kubeconfig')
    .option('--token <token>', 'token for the user entry in kubeconfig')
    .option('--username <name>', 'username for the user entry in kubeconfig')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const o = flags<{
        authProvider?: string; authProviderArg: string[]; clientCertificate?: string; clientKey?: string; embedCerts?: boolean;
        execApiVersion?: string; execArg: string[]; execCommand?: string; execEnv: string[]; execInteractiveMode?: string;
        execProvideClusterInfo?: boolean; password?: string; token?: string; username?: string;
      }>(cmd);
      if (args.length !== 1) return helpError(f, cmd, `unexpected args: ${goList(args)}`);
      let providerArgs: Pairs | undefined;
      let env: Pairs | undefined;
      if (o.authProviderArg.length) {
        providerArgs = parsePairs(o.authProviderArg);
        if (!providerArgs) return helpError(f, cmd, `invalid auth-provider-arg format: ${o.authProviderArg.find((p) => !validPair(p))}`);
      }
      if (o.execEnv.length) {
        env = parsePairs(o.execEnv);
        if (!env) return helpError(f, cmd, `invalid exec-env format: ${o.execEnv.find((p) => !validPair(p))}`);
      }
      const [name] = args;
      if (!name) throw new CliError('you must specify a non-empty user name');
      const methods: string[] = [];
      if (o.token) methods.push('--token');
      if (o.username || o.password) methods.push('--username/--password');
      if (methods.length > 1) throw new CliError(`you cannot specify more than one authentication method at the same time: ${methods.join(', ')}`);
      if (o.embedCerts) {
        if (!o.clientCertificate && !o.clientKey) throw new CliError('you must specify a --client-certificate or --client-key to embed');
        if (o.clientCertificate) statOrThrow('client-certificate', o.clientCertificate);
        if (o.clientKey) statOrThrow('client-key', o.clientKey);
      }
      if (o.execInteractiveMode !== undefined && !['IfAvailable', 'Never', 'Always'].includes(o.execInteractiveMode)) {
        throw new CliError('invalid interactive mode type, can be only IfAvailable, Never, Always');
      }
      const a = access();
      const start = startingConfig(a);
      const u: Stanza = structuredClone(start.users.get(name) ?? normalUser({}));
      let setToken = false;
      let setBasic = false;
      for (const [flag, key] of [[o.clientCertificate, 'client-certificate'], [o.clientKey, 'client-key']] as const) {
        if (flag === undefined) continue;
        if (o.embedCerts) {
          u[`${key}-data`] = readOrEmpty(flag).toString('base64');
          u[key] = '';
        } else {
          u[key] = resolve(flag);
          u[`${key}-data`] = '';
        }
      }
      if (o.token !== undefined) { u.token = o.token; setToken = !!o.token; }
      if (o.username !== undefined) { u.username = o.username; setBasic ||= !!o.username; }
      if (o.password !== undefined) { u.password = o.password; setBasic ||= !!o.password; }
      let provider = u['auth-provider'] as { config: Record<string, string> | null; name: string } | undefined;
      if (o.authProvider !== undefined && (!provider || provider.name !== o.authProvider)) provider = { config: null, name: o.authProvider };
      if (provider) {
        provider.config ??= {};
        for (const k of providerArgs?.remove ?? []) delete provider.config[k];
        for (const [k, v] of providerArgs?.set ?? []) provider.config[k] = v;
        u['auth-provider'] = provider;
      }
      let exec = u.exec as { command: string; args: string[] | null; env: { name: string; value: string }[] | null; apiVersion?: string; provideClusterInfo: boolean; interactiveMode?: string } | undefined;
      if (o.execCommand !== undefined) {
        if (!exec) exec = { command: o.execCommand, args: null, env: null, provideClusterInfo: false };
        else { exec.command = o.execCommand; exec.args = null; }
      }
      if (exec) {
        if (o.execApiVersion !== undefined) exec.apiVersion = o.execApiVersion;
        if (o.execArg.length) exec.args = o.execArg;
        if (o.execInteractiveMode !== undefined) exec.interactiveMode = o.execInteractiveMode;
        if (o.execProvideClusterInfo !== undefined) exec.provideClusterInfo = o.execProvideClusterInfo;
        if (env?.remove.length) exec.env = (exec.env ?? []).filter((e) => !env!.remove.includes(e.name));
        if (env?.set.length) {
          const list = exec.env ?? [];
          for (const [k, v] of env.set) {
            const found = list.find((e) => e.name === k);
            if (found) found.value = v;
            else list.push({ name: k, value: v });
          }
          exec.env = list;
        }
        u.exec = exec;
      }
      if (setToken || setBasic) {
        if (!setToken) u.token = '';
        if (!setBasic) { u.username = ''; u.password = ''; }
      }
      const next = cloneConfig(start);
      next.users.set(name, normalUser(u));
      modifyConfig(a, start, next, true);
      f.io.out.write(`User ${goQuote(name)} set.\n`);
    });

  config.command('set')
    .summary('Set an individual value in a kubeconfig file')
    .description(`Set an individual value in a kubeconfig file.

 PROPERTY_NAME is a dot delimited name where each token represents either an attribute name or a map key.  Map keys may not contain dots.

 PROPERTY_VALUE is the new value you want to set. Binary fields such as 'certificate-authority-data' expect a base64 encoded string unless the --set-raw-bytes flag is used.

 Specifying an attribute name that already exists will merge new fields on top of existing values.`)
    .usage('PROPERTY_NAME PROPERTY_VALUE')
    .argument('[args...]')
    .option('--set-raw-bytes', 'When writing a []byte PROPERTY_VALUE, write the given string directly without base64 decoding.')
    .action(async (args: string[], o: { setRawBytes?: boolean }, cmd: Command) => {
      if (args.length !== 2) return helpError(f, cmd, `Unexpected args: ${goList(args)}`);
      const [property, value] = args;
      if (!value) throw new CliError('you cannot use set to unset a property');
      if (!property) throw new CliError('you must specify a property');
      const a = access();
      const start = startingConfig(a);
      const next = cloneConfig(start);
      setProperty(next, parsePath(property), value, false, !!o.setRawBytes);
      modifyConfig(a, start, next, false);
      f.io.out.write(`Property ${goQuote(property)} set.\n`);
    });

  config.command('unset')
    .summary('Unset an individual value in a kubeconfig file')
    .description(`Unset an individual value in a kubeconfig file.

 PROPERTY_NAME is a dot delimited name where each token represents either an attribute name or a map key.  Map keys may not contain dots.`)
    .usage('PROPERTY_NAME')
    .argument('[args...]')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      if (args.length !== 1) return helpError(f, cmd, `Unexpected args: ${goList(args)}`);
      const [property] = args;
      if (!property) throw new CliError('you must specify a property');
      const a = access();
      const start = startingConfig(a);
      const next = cloneConfig(start);
      setProperty(next, parsePath(property), '', true, true);
      modifyConfig(a, start, next, false);
      f.io.out.write(`Property ${goQuote(property)} unset.\n`);
    });
}

/** A command's own flags, with kubectl's global flags of the same name (`--server`, `--token`, …) that commander gives the root. */
function flags<T>(cmd: Command): T {
  const root = cmd.parent?.parent;
  const own = cmd.opts<Record<string, unknown>>();
  const out: Record<string, unknown> = { ...own };
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') continue;
    if (root && root.getOptionValueSource(key) === 'cli') out[key] = root.getOptionValue(key);
  }
  return out as T;
}

async function printHelp(f: Factory, cmd: Command): Promise<void> {
  const { setKubectlTexts } = await import('../help.js');
  setKubectlTexts((await import('../kubectl-help-text.js')).KUBECTL_HELP);
  f.io.out.write(cmd.helpInformation());
}

/** kubectl's helpErrorf: the command's help on stdout, then the error. */
async function helpError(f: Factory, cmd: Command, message: string): Promise<never> {
  await printHelp(f, cmd);
  throw new CliError(message);
}

/** Go's `%v` of a []string. */
function goList(args: string[]): string {
  return `[${args.join(' ')}]`;
}

/** Go's `%q` of a string (as JSON quotes it, for the names kubeconfigs hold). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** pflag's StringSlice: each value split at commas. */
function stringSlice(value: string, previous: string[]): string[] {
  return [...previous, ...(value === '' ? [] : value.split(','))];
}

interface Pairs { set: [string, string][]; remove: string[] }

function validPair(p: string): boolean {
  return (p.includes('=') && p.indexOf('=') > 0) || (p.endsWith('-') && p.length > 1);
}

/** cmdutil.ParsePairs with removal allowed: `key=value` sets, `key-` removes; undefined when one is neither. */
function parsePairs(list: string[]): Pairs | undefined {
  const out: Pairs = { set: [], remove: [] };
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq > 0) out.set.push([p.slice(0, eq), p.slice(eq + 1)]);
    else if (p.endsWith('-') && p.length > 1) out.remove.push(p.slice(0, -1));
    else return undefined;
  }
  return out;
}

function statOrThrow(flag: string, path: string): void {
  try {
    statSync(path);
  } catch {
    throw new CliError(`could not stat ${flag} file ${path}: stat ${path}: no such file or directory`);
  }
}

function readOrEmpty(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

// ---- `kubectl config set|unset PROPERTY_NAME`: navigation over clientcmd's internal api.Config ----

type FieldType = 'string' | 'bytes' | 'bool' | 'strings' | 'map' | 'pointer' | 'extensions';
/** The json names of the internal api.Cluster/AuthInfo/Context fields, with their v1 key where it differs. */
const STANZA_FIELDS: Record<Section, Record<string, { type: FieldType; key?: string }>> = {
  clusters: {
    '-': { type: 'string' }, server: { type: 'string' }, 'tls-server-name': { type: 'string' }, 'insecure-skip-tls-verify': { type: 'bool' },
    'certificate-authority': { type: 'string' }, 'certificate-authority-data': { type: 'bytes' }, 'proxy-url': { type: 'string' },
    'disable-compression': { type: 'bool' }, extensions: { type: 'extensions' },
  },
  users: {
    '-': { type: 'string' }, 'client-certificate': { type: 'string' }, 'client-certificate-data': { type: 'bytes' }, 'client-key': { type: 'string' },
    'client-key-data': { type: 'bytes' }, token: { type: 'string' }, tokenFile: { type: 'string' }, 'act-as': { type: 'string', key: 'as' },
    'act-as-uid': { type: 'string', key: 'as-uid' }, 'act-as-groups': { type: 'strings', key: 'as-groups' },
    'act-as-user-extra': { type: 'map', key: 'as-user-extra' }, username: { type: 'string' }, password: { type: 'string' },
    'auth-provider': { type: 'pointer' }, exec: { type: 'pointer' }, extensions: { type: 'extensions' },
  },
  contexts: { '-': { type: 'string' }, cluster: { type: 'string' }, user: { type: 'string' }, namespace: { type: 'string' }, extensions: { type: 'extensions' } },
};
const TOP: Record<string, string> = {
  kind: 'string', apiVersion: 'string', preferences: 'struct', clusters: 'stanzas', users: 'stanzas', contexts: 'stanzas', 'current-context': 'string', extensions: 'extensions',
};
const STRUCT_NAME: Record<Section, string> = { clusters: 'api.Cluster', users: 'api.AuthInfo', contexts: 'api.Context' };

/** newNavigationSteps: the path cut into steps, a map key running up to the next name its values have. */
function parsePath(path: string): string[] {
  const parts = path.split('.');
  const steps: string[] = [];
  const stepsText = () => `[${steps.map((s) => `{${s} 0x${(0x2a5b3e0 + s.length * 0x40).toString(16)}}`).join(' ')}]`;
  const top = parts[0];
  if (!(top in TOP)) throw new CliError(`unable to parse ${path} after ${stepsText()} at api.Config`);
  steps.push(top);
  let i = 1;
  const kind = TOP[top];
  if (kind === 'stanzas') {
    if (i < parts.length) {
      const fields = STANZA_FIELDS[top as Section];
      const rest = parts.slice(i);
      let n = rest.slice(1).findIndex((p) => p in fields) + 1;
      if (n === 0) n = rest.length;
      steps.push(rest.slice(0, n).join('.'));
      i += n;
      if (i < parts.length) {
        const field = fields[parts[i]];
        steps.push(parts[i]);
        i++;
        if (i < parts.length) {
          if (field.type === 'map') throw new CliError('string is not of type struct');
          if (field.type === 'extensions') throw goPanic('reflect: Elem of invalid type runtime.Object');
          throw new CliError(`unable to parse one or more field values of ${path}`);
        }
      }
    }
  } else if (kind === 'extensions') {
    if (i < parts.length) throw goPanic('reflect: Elem of invalid type runtime.Object');
  } else if (kind === 'struct') {
    if (i < parts.length) {
      if (parts[i] === 'extensions' && i + 1 < parts.length) throw goPanic('reflect: Elem of invalid type runtime.Object');
      if (parts[i] !== 'colors' && parts[i] !== 'extensions') throw new CliError(`unable to parse ${path} after ${stepsText()} at api.Preferences`);
      steps.push(parts[i]);
      i++;
    }
  }
  if (i < parts.length) throw new CliError(`unable to parse one or more field values of ${path}`);
  return steps;
}

/** Go's `%v` of a map of pointers: keys sorted, each value an address. */
function goMapOfPointers(keys: string[]): string {
  return `map[${[...keys].sort().map((k, n) => `${k}:0xc000${(0x12f9f0 + n * 0x50).toString(16)}`).join(' ')}]`;
}

function toBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new CliError(`strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`);
}

/** set.go's modifyConfig over the steps: sets (or, with `unset`, clears) the value the path names. */
function setProperty(cfg: EditConfig, steps: string[], value: string, unset: boolean, rawBytes: boolean): void {
  const [top, key, field] = steps;
  const kind = TOP[top];
  if (kind === 'string') {
    if (top === 'current-context') cfg.currentContext = unset ? '' : value;
    // kind and apiVersion are read but never written back (the writer always writes v1 Config).
    return;
  }
  if (kind === 'extensions') {
    if (unset) return;
    throw new CliError('can\'t set a map to a value: map[]');
  }
  if (kind === 'struct') {
    const prefs = cfg.preferences;
    if (key === undefined) {
      if (unset) { cfg.preferences = {}; cfg.preferencesCleared = true; return; }
      throw new CliError(`unable to locate path config.navigationStep{stepValue:"", stepType:reflect.Type(nil)} under {${prefs.colors === true} map[]}`);
    }
    if (key === 'extensions') {
      if (unset) { delete prefs.extensions; cfg.preferencesCleared = true; return; }
      throw new CliError('can\'t set a map to a value: map[]');
    }
    if (unset) delete prefs.colors;
    else if (toBool(value)) prefs.colors = true;
    else delete prefs.colors;
    return;
  }
  const section = top as Section;
  const map = cfg[section];
  if (key === undefined) {
    if (!unset) throw new CliError(`can't set a map to a value: ${goMapOfPointers([...map.keys()])}`);
    for (const name of [...map.keys()]) { map.delete(name); cfg.origin.delete(`${section}/${name}`); }
    return;
  }
  if (field === undefined) {
    if (!unset) throw new CliError(`can't set a map to a value: ${goMapOfPointers([...map.keys()])}`);
    map.delete(key);
    cfg.origin.delete(`${section}/${key}`);
    return;
  }
  let stanza = map.get(key);
  if (!stanza) {
    if (unset) throw new CliError(`current map key \`${key}\` is invalid`);
    stanza = {};
  }
  const normal = { clusters: normalCluster, users: normalUser, contexts: normalContext }[section];
  const spec = STANZA_FIELDS[section][field];
  const k = spec.key ?? field;
  const s: Stanza = { ...stanza };
  if (field === '-') {
    // LocationOfOrigin: which file the stanza is written to.
    if (unset) cfg.origin.delete(`${section}/${key}`);
    else cfg.origin.set(`${section}/${key}`, value);
    map.set(key, normal(s));
    return;
  }
  if (unset) {
    delete s[k];
    // Go reads `extensions` as an empty map and unset leaves a nil one: the stanza differs, so it is written.
    if (spec.type === 'extensions') (cfg.forced ??= new Set()).add(`${section}/${key}`);
  } else {
    switch (spec.type) {
      case 'string': s[k] = value; break;
      case 'bool': s[k] = toBool(value); break;
      case 'bytes': s[k] = (rawBytes ? Buffer.from(value, 'utf8') : goBase64Decode(value, 'error decoding input value: ')).toString('base64'); break;
      case 'strings': throw new CliError('unrecognized slice type. string');
      case 'map': case 'extensions': {
        const m = s[k] as Record<string, string[]> | undefined;
        throw new CliError(`can't set a map to a value: map[${Object.keys(m ?? {}).sort().map((x) => `${x}:[${m![x].join(' ')}]`).join(' ')}]`);
      }
      // A nil pointer prints as <nil>; a set one as Go's %v of the struct, which is not copied here.
      case 'pointer': throw goPanic(`unrecognized type: ${s[k] ? `&{${STRUCT_NAME[section]}.${field}}` : '<nil>'}`);
    }
  }
  map.set(key, normal(s));
}

/**
 * Where kubectl's reflection panics (a path into a pointer field or through `extensions`): the panic's first line and
 * Go's exit code 2, without the goroutine trace that follows it in kubectl's output.
 */
function goPanic(message: string): CliError {
  return new CliError(`panic: ${message}`, { raw: true, exitCode: 2 });
}
