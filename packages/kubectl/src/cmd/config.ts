import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { loadKubeconfig, type KubeConfig, type Named } from '../kubeconfig.js';
import { parseOutputFormat, printObjects } from '../printers/index.js';
import { toGoYaml } from '../printers/serialize.js';
import { tabwrite } from '../printers/tabwriter.js';
import type { KubeObject } from '@k8ts/api';
import { templateFlag } from './util.js';
import { registerEdits } from './config-edit.js';
import { cloneConfig, configAccess, modifyConfig, normalContext, startingConfig } from '../kubeconfig-edit.js';

const REDACTED = 'REDACTED';
const OMITTED = 'DATA+OMITTED';

/** `kubectl config view|get-contexts|current-context|use-context|set-context` over the merged kubeconfig chain. */
export function register(program: Command, f: Factory): Command {
  const config = program.command('config')
    .summary('Modify kubeconfig files')
    .description(`Modify kubeconfig files using subcommands like "kubectl config set current-context my-context".

 The loading order follows these rules:

  1.  If the --kubeconfig flag is set, then only that file is loaded. The flag may only be set once and no merging takes place.
  2.  If $KUBECONFIG environment variable is set, then it is used as a list of paths (normal path delimiting rules for your system). These paths are merged. When a value is modified, it is modified in the file that defines the stanza. When a value is created, it is created in the first file that exists. If no files in the chain exist, then it creates the last file in the list.
  3.  Otherwise, \${HOME}/.kube/config is used and no merging takes place.`)
    .usage('SUBCOMMAND');
  config.action(() => {
    f.io.out.write(config.helpInformation());
  });

  config.command('view')
    .summary('Display merged kubeconfig settings or a specified kubeconfig file')
    .description(`Display merged kubeconfig settings or a specified kubeconfig file.

 You can use --output jsonpath={...} to extract specific values using a jsonpath expression.`)
    .usage('[flags]')
    .option('--minify', 'Remove all information not used by current-context from the output')
    .option('--raw', 'Display raw byte data and sensitive data')
    .option('--flatten', 'Flatten the resulting kubeconfig file into self-contained output (useful for creating portable kubeconfig files)')
    .option('-o, --output <format>', 'Output format. One of: (json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file).', 'yaml')
    .addOption(templateFlag())
    .action(async (o: { minify?: boolean; raw?: boolean; flatten?: boolean; output: string; template?: string }) => {
      const cfg = loadKubeconfig(f.flags.kubeconfig, f.env, true);
      const doc = viewDocument(cfg, { minify: !!o.minify, raw: !!o.raw || !!o.flatten, flatten: !!o.flatten, context: f.flags.context });
      const fmt = await parseOutputFormat(o.output, o.template);
      if (fmt.kind === 'yaml') f.io.out.write(toGoYaml(doc));
      else f.io.out.write(printObjects([doc as unknown as KubeObject], fmt, true));
    });

  config.command('get-contexts')
    .summary('Describe one or many contexts')
    .description('Display one or many contexts from the kubeconfig file.')
    .usage('[(-o|--output=)name)]')
    .argument('[names...]')
    .option('--no-headers', "When using the default or custom-column output format, don't print headers (default print headers).")
    .option('-o, --output <format>', 'Output format. One of: (name).')
    .action((names: string[], o: { headers?: boolean; output?: string }) => {
      if (o.output && o.output !== 'name') throw new CliError(`output must be one of '' or 'name': ${o.output}`);
      const cfg = loadKubeconfig(f.flags.kubeconfig, f.env, true);
      const contexts = [...cfg.contexts].sort((a, b) => (a.name < b.name ? -1 : 1));
      const missing = names.filter((n) => !contexts.some((c) => c.name === n));
      const shown = names.length ? contexts.filter((c) => names.includes(c.name)) : contexts;
      if (o.output === 'name') f.io.out.write(shown.map((c) => `${c.name}\n`).join(''));
      else {
        const rows: string[][] = o.headers === false ? [] : [['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE']];
        for (const c of shown) rows.push([c.name === cfg.currentContext ? '*' : '', c.name, c.value.cluster ?? '', c.value.user ?? '', c.value.namespace ?? '']);
        f.io.out.write(tabwrite(rows));
      }
      if (missing.length) throw new CliError(`context ${missing[0]} not found`);
    });

  config.command('current-context')
    .summary('Display the current-context')
    .description('Display the current-context.')
    .usage('[flags]')
    .action(() => {
      const cfg = loadKubeconfig(f.flags.kubeconfig, f.env, true);
      if (!cfg.currentContext) throw new CliError('current-context is not set');
      f.io.out.write(`${cfg.currentContext}\n`);
    });

  config.command('use-context')
    .alias('use')
    .summary('Set the current-context in a kubeconfig file')
    .description('Set the current-context in a kubeconfig file.')
    .usage('CONTEXT_NAME')
    .argument('[name]')
    .action((name: string | undefined) => {
      if (!name) throw new CliError('Unexpected args: []', { usage: 'config use-context' });
      const access = configAccess(f.flags.kubeconfig, f.env);
      const start = startingConfig(access);
      if (!start.contexts.has(name)) throw new CliError(`no context exists with the name: "${name}"`);
      const next = cloneConfig(start);
      next.currentContext = name;
      modifyConfig(access, start, next, true);
      f.io.out.write(`Switched to context "${name}".\n`);
    });

  config.command('set-context')
    .summary('Set a context entry in kubeconfig')
    .description(`Set a context entry in kubeconfig.

 Specifying a name that already exists will merge new fields on top of existing values for those fields.`)
    .usage('[NAME | --current] [--cluster=cluster_nickname] [--user=user_nickname] [--namespace=namespace]')
    .argument('[name]')
    .option('--current', 'Modify the current context')
    .action((name: string | undefined, o: { current?: boolean }, cmd: Command) => {
      const access = configAccess(f.flags.kubeconfig, f.env);
      const start = startingConfig(access);
      if (o.current && name) throw new CliError('you cannot specify both a context name and --current');
      if (o.current) {
        if (!start.currentContext) throw new CliError('no current context is set');
        name = start.currentContext;
      }
      if (!name) throw new CliError('you must specify a non-empty context name or --current', { usage: 'config set-context' });
      // --cluster, --user and --namespace are kubectl's global flags, read from the root command here.
      const globals = cmd.optsWithGlobals<{ cluster?: string; user?: string; namespace?: string }>();
      const existing = start.contexts.get(name);
      const context = { ...(existing ?? normalContext({})) };
      if (globals.cluster !== undefined) context.cluster = globals.cluster;
      if (globals.user !== undefined) context.user = globals.user;
      if (globals.namespace !== undefined) context.namespace = globals.namespace;
      const next = cloneConfig(start);
      next.contexts.set(name, normalContext(context));
      modifyConfig(access, start, next, true);
      f.io.out.write(`Context "${name}" ${existing ? 'modified' : 'created'}.\n`);
    });
  registerEdits(config, f);
  return config;
}

/** The document `config view` prints: entries sorted by name, secrets redacted unless --raw, only the current context's with --minify. */
function viewDocument(cfg: KubeConfig, o: { minify: boolean; raw: boolean; flatten: boolean; context?: string }): Record<string, unknown> {
  const byName = <T>(l: Named<T>[]) => [...l].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let contexts = byName(cfg.contexts);
  let clusters = byName(cfg.clusters);
  let users = byName(cfg.users);
  const current = o.context || cfg.currentContext;
  if (o.minify) {
    if (!current) throw new CliError('current-context must exist in order to minify');
    const ctx = contexts.find((c) => c.name === current);
    if (!ctx) throw new CliError(`cannot locate context ${current}`);
    contexts = [ctx];
    clusters = clusters.filter((c) => c.name === ctx.value.cluster);
    users = users.filter((u) => u.name === ctx.value.user);
  }
  const fix = (entry: Record<string, unknown>, file: string, fileKeys: string[], secret: string[], data: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...entry };
    for (const k of fileKeys) {
      const v = out[k];
      if (typeof v === 'string' && v) {
        const abs = isAbsolute(v) ? v : resolve(join(dirname(file), v));
        if (o.flatten) {
          delete out[k];
          out[`${k}-data`] = readFileSync(abs).toString('base64');
        } else out[k] = abs;
      }
    }
    if (!o.raw) {
      for (const k of secret) if (out[k]) out[k] = REDACTED;
      for (const k of data) if (out[k]) out[k] = OMITTED;
    }
    return out;
  };
  return {
    apiVersion: 'v1',
    clusters: clusters.length ? clusters.map((c) => ({ cluster: fix(c.value, c.file, ['certificate-authority'], [], ['certificate-authority-data']), name: c.name })) : null,
    contexts: contexts.length ? contexts.map((c) => ({ context: c.value, name: c.name })) : null,
    'current-context': o.minify ? current : cfg.currentContext,
    kind: 'Config',
    preferences: cfg.preferences,
    users: users.length ? users.map((u) => ({ name: u.name, user: fix(u.value, u.file, ['client-certificate', 'client-key'], ['client-key-data', 'token', 'password'], ['client-certificate-data']) })) : null,
  };
}
