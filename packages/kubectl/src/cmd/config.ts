import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import type { KubeConfig, Named } from '../kubeconfig.js';
import { parseOutputFormat, printObjects } from '../printers/index.js';
import { toGoYaml } from '../printers/serialize.js';
import { tabwrite } from '../printers/tabwriter.js';
import type { KubeObject } from '@k8ts/api';
import { templateFlag } from './util.js';
import { registerEdits } from './config-edit.js';

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
      const cfg = f.kubeconfig();
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
      const cfg = f.kubeconfig();
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
      const cfg = f.kubeconfig();
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
      const cfg = f.kubeconfig();
      if (!cfg.contexts.some((c) => c.name === name)) throw new CliError(`no context exists with the name: "${name}"`);
      const file = cfg.currentContextFile ?? cfg.files[0];
      editFile(file, (doc) => { doc['current-context'] = name; });
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
      const cfg = f.kubeconfig();
      if (o.current && name) throw new CliError('you cannot specify both a context name and --current');
      if (o.current) {
        if (!cfg.currentContext) throw new CliError('no current context is set');
        name = cfg.currentContext;
      }
      if (!name) throw new CliError('you must specify a non-empty context name or --current', { usage: 'config set-context' });
      // --cluster, --user and --namespace are kubectl's global flags, read from the root command here.
      const globals = cmd.optsWithGlobals<{ cluster?: string; user?: string; namespace?: string }>();
      const existing = cfg.contexts.find((c) => c.name === name);
      const file = existing?.file ?? cfg.files.find((x) => cfg.contexts.some((c) => c.file === x)) ?? cfg.files[0];
      editFile(file, (doc) => {
        const list = (Array.isArray(doc.contexts) ? doc.contexts : (doc.contexts = [])) as { name: string; context?: Record<string, unknown> }[];
        let entry = list.find((c) => c.name === name);
        if (!entry) list.push(entry = { name: name!, context: {} });
        entry.context ??= {};
        if (globals.cluster !== undefined) entry.context.cluster = globals.cluster;
        if (globals.user !== undefined) entry.context.user = globals.user;
        if (globals.namespace !== undefined) entry.context.namespace = globals.namespace;
      });
      f.io.out.write(`Context "${name}" ${existing ? 'modified' : 'created'}.\n`);
    });
  registerEdits(config, f);
  return config;
}

/** Reads one kubeconfig file, lets `edit` change it, and writes it back in kubectl's layout. */
function editFile(file: string, edit: (doc: Record<string, unknown>) => void): void {
  let doc: Record<string, unknown> = {};
  try {
    doc = (yamlParse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw new CliError(`error loading config file "${file}": ${(err as Error).message}`);
  }
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  doc.preferences ??= {};
  for (const k of ['clusters', 'contexts', 'users']) doc[k] ??= null;
  doc['current-context'] ??= '';
  edit(doc);
  // kubectl writes each list sorted by name.
  for (const k of ['clusters', 'contexts', 'users']) {
    const list = doc[k];
    if (Array.isArray(list)) list.sort((a: { name?: string }, b: { name?: string }) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0));
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, toGoYaml(doc), { mode: 0o600 });
}

function yamlParse(text: string): unknown {
  return loadYaml(text);
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
