import { Command, CommanderError, Option } from 'commander';
import { COMMANDS, loadCommand, rootHelp } from './commands.js';
import { CliError, ExitCode, exitCodeOf, formatError } from './errors.js';
import { takeDeferredExtraCaCerts } from './extra-ca-certs.js';
import { Factory, parseRequestTimeout, processStreams, type GlobalFlags, type IOStreams } from './factory.js';
import { kubectlHelp, setKubectlTexts } from './help.js';

/** Global flags that take a value, short and long (to find the command name before anything is imported). */
const VALUE_FLAGS = new Set([
  '--kubeconfig', '--context', '--cluster', '--user', '-n', '--namespace', '-s', '--server', '--token',
  '--certificate-authority', '--client-certificate', '--client-key', '--request-timeout', '-v', '--v', '--cache-dir',
  '--tls-server-name', '--as', '--as-group', '--as-uid', '--username', '--password', '--profile', '--profile-output',
  '--log-flush-frequency', '--vmodule',
]);

/** kubectl's global flags on a commander program. */
function addGlobalFlags(program: Command): void {
  const opt = (flags: string, desc: string, def?: string | boolean) => {
    const o = new Option(flags, desc);
    if (def !== undefined) o.default(def);
    program.addOption(o);
  };
  opt('--kubeconfig <file>', 'Path to the kubeconfig file to use for CLI requests.');
  opt('--context <name>', 'The name of the kubeconfig context to use');
  opt('--cluster <name>', 'The name of the kubeconfig cluster to use');
  opt('--user <name>', 'The name of the kubeconfig user to use');
  opt('-n, --namespace <namespace>', 'If present, the namespace scope for this CLI request');
  opt('-s, --server <url>', 'The address and port of the Kubernetes API server');
  opt('--token <token>', 'Bearer token for authentication to the API server');
  opt('--certificate-authority <file>', 'Path to a cert file for the certificate authority');
  opt('--client-certificate <file>', 'Path to a client certificate file for TLS');
  opt('--client-key <file>', 'Path to a client key file for TLS');
  opt('--insecure-skip-tls-verify', "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure");
  opt('--tls-server-name <name>', 'Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used');
  opt('--request-timeout <duration>', 'The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don\'t timeout requests.', '0');
  opt('-v, --v <level>', 'number for the log level verbosity', '0');
  opt('--cache-dir <dir>', 'Default cache directory');
  opt('--as <user>', 'Username to impersonate for the operation. User could be a regular user or a service account in a namespace.');
  program.addOption(new Option('--as-group <group>', 'Group to impersonate for the operation, this flag can be repeated to specify multiple groups.')
    .argParser((v: string, prev: string[]) => [...prev, v]).default([]));
  opt('--as-uid <uid>', 'UID to impersonate for the operation.');
  // Flags kubectl has that we parse and ignore: `kubectl options` lists them, saying so.
  const ignored = ' (k8ts-kubectl: accepted and ignored)';
  opt('--username <name>', `Username for basic authentication to the API server${ignored}`);
  opt('--password <password>', `Password for basic authentication to the API server${ignored}`);
  opt('--profile <name>', `Name of profile to capture. One of (none|cpu|heap|goroutine|threadcreate|block|mutex)${ignored}`, 'none');
  opt('--profile-output <file>', `Name of the file to write the profile to${ignored}`, 'profile.pprof');
  opt('--log-flush-frequency <d>', `Maximum number of seconds between log flushes${ignored}`, '5s');
  opt('--vmodule <spec>', `comma-separated list of pattern=N settings for file-filtered logging (only works for the default text log format)${ignored}`);
  opt('--match-server-version', `Require server version to match client version${ignored}`);
  opt('--warnings-as-errors', `Treat warnings received from the server as errors and exit with a non-zero exit code${ignored}`);
  opt('--disable-compression', `If true, opt-out of response compression for all requests to the server${ignored}`);
  for (const hidden of ['--add-dir-header', '--alsologtostderr', '--logtostderr']) program.addOption(new Option(hidden).hideHelp());
}

/**
 * pflag accepts `-o=yaml` and `--flag=false` for booleans; commander does not. Rewrites the first into `-o yaml` and
 * takes the second out, returning the booleans to set to false after parsing.
 */
function normaliseArgs(argv: string[], cmd: Command | undefined, program: Command): { args: string[]; falses: { cmd: Command; attr: string }[] } {
  const args: string[] = [];
  const falses: { cmd: Command; attr: string }[] = [];
  const findOpt = (flag: string): { cmd: Command; o: Option } | undefined => {
    for (let c: Command | null | undefined = cmd; c; c = c.parent) {
      const o = c.options.find((x) => x.long === flag || x.short === flag);
      if (o) return { cmd: c, o };
    }
    const o = program.options.find((x) => x.long === flag || x.short === flag);
    return o ? { cmd: program, o } : undefined;
  };
  let rest = false;
  for (const a of argv) {
    if (rest || a === '--') {
      rest = true;
      args.push(a);
      continue;
    }
    const short = /^(-[a-zA-Z])=(.*)$/s.exec(a);
    if (short) {
      const found = findOpt(short[1]);
      if (found?.o.isBoolean()) {
        if (/^false$/i.test(short[2])) falses.push({ cmd: found.cmd, attr: found.o.attributeName() });
        else args.push(short[1]);
      } else args.push(short[1], short[2]);
      continue;
    }
    const long = /^(--[^=]+)=(.*)$/s.exec(a);
    if (long) {
      const found = findOpt(long[1]);
      if (found?.o.isBoolean()) {
        if (/^(false|0|f)$/i.test(long[2])) falses.push({ cmd: found.cmd, attr: found.o.attributeName() });
        else if (/^(true|1|t)$/i.test(long[2])) args.push(long[1]);
        else throw new CliError(`invalid argument "${long[2]}" for "${long[1]}" flag: strconv.ParseBool: parsing "${long[2]}": invalid syntax`, { raw: false });
        continue;
      }
    }
    args.push(a);
  }
  return { args, falses };
}

/** The command name: the first word that is neither a flag nor a global flag's value. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return undefined;
    if (!a.startsWith('-') || a === '-') return a;
    if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
  }
  return undefined;
}

/** kubectl's (cobra's) rendering of commander's parse errors. */
function commanderMessage(err: CommanderError, cmdPath: string, argv: string[]): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  const see = `See '${cmdPath} --help' for usage.`;
  switch (err.code) {
    case 'commander.unknownOption':
      if (/^-[^-]/.test(quoted)) return `Error: unknown shorthand flag: '${quoted[1]}' in ${quoted}\n${see}`;
      return `Error: unknown flag: ${quoted}\n${see}`;
    case 'commander.optionMissingArgument': {
      // quoted is the option's flags, `-n, --namespace <namespace>`: name the spelling the user typed.
      const spellings = quoted.split(/[ ,]+/).filter((x) => x.startsWith('-'));
      const typed = [...argv].reverse().find((a) => spellings.includes(a)) ?? spellings[spellings.length - 1];
      return `Error: flag needs an argument: ${/^-[^-]/.test(typed) ? `'${typed.slice(1)}' in ${typed}` : typed}\n${see}`;
    }
    case 'commander.excessArguments':
      return `Error: unknown command "${argv.filter((a) => !a.startsWith('-')).pop() ?? ''}" for "${cmdPath}"\n${see}`;
    default:
      return `Error: ${err.message.replace(/^error: /, '')}\n${see}`;
  }
}

/** The process's run: `run(process.argv)`, then exit with its code once stdout is flushed (piped output is never cut). */
export async function runProcess(): Promise<void> {
  takeDeferredExtraCaCerts();
  const code = await run(process.argv.slice(2));
  process.exitCode = code;
  if (process.stdout.writableLength === 0) process.exit(code);
  else process.stdout.once('drain', () => process.exit(code));
}

/**
 * Runs one kubectl invocation and resolves to its exit code; never throws and never prints a stack trace. Only the
 * named command's module is imported.
 */
export async function run(argv: string[], io: IOStreams = processStreams(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const code = await runOnce(argv, io, env, false);
  // A lookup missed in discovery from the disk cache before anything happened: once more, asking the server.
  if (code !== RERUN) return code;
  process.exitCode = undefined;
  return runOnce(argv, io, env, true);
}

const RERUN = -1;

async function runOnce(argv: string[], io: IOStreams, env: NodeJS.ProcessEnv, freshDiscovery: boolean): Promise<number> {
  const f = new Factory({}, io, env, freshDiscovery);
  let timer: NodeJS.Timeout | undefined;
  try {
    const program = new Command('kubectl');
    program.exitOverride();
    program.configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s), outputError: () => {} });
    program.configureHelp({ formatHelp: (cmd) => kubectlHelp(cmd) });
    program.helpCommand(false);
    program.allowExcessArguments(false);
    program.helpOption('-h, --help', 'help for kubectl');
    addGlobalFlags(program);
    const name = commandName(argv);
    if (name === undefined) {
      if (argv.some((a) => a === '-h' || a === '--help') || argv.length === 0 || argv.every((a) => a.startsWith('-'))) {
        // A global flag missing its value is still an error (`kubectl -n`).
        const last = argv[argv.length - 1];
        if (last && VALUE_FLAGS.has(last)) {
          io.err.write(`Error: flag needs an argument: ${last.startsWith('--') ? last : `'${last.slice(1)}' in ${last}`}\nSee 'kubectl --help' for usage.\n`);
          return 1;
        }
        io.out.write(rootHelp());
        return 0;
      }
    }
    if (name === '__complete' || name === '__completeNoDesc') {
      // cobra's hidden completion command, called by the `kubectl completion` scripts (src/cmd/complete.ts).
      const { complete } = await import('./cmd/complete.js');
      return await complete(f, argv.slice(argv.indexOf(name) + 1), name === '__complete');
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) {
      io.err.write(`Error: unknown command "${name}" for "kubectl"\n`);
      return 1;
    }
    const register = await loadCommand(entry);
    if (!register) throw new CliError(`"kubectl ${entry.name}" is not implemented in k8ts-kubectl yet`);
    const cmd = await register(program, f);
    const leaf = findLeaf(cmd, argv);
    f.commandPath = commandPathOf(leaf); // `See 'kubectl config view --help' for usage.` names the subcommand
    // Help shows kubectl's own texts, loaded only when help is printed (a parent command without a subcommand prints it).
    if (argv.some((a) => a === '-h' || a === '--help') || leaf.commands.length > 0) setKubectlTexts((await import('./kubectl-help-text.js')).KUBECTL_HELP);
    const { args, falses } = normaliseArgs(argv, leaf, program);
    program.hook('preAction', (_root, action) => {
      for (const { cmd: c, attr } of falses) c.setOptionValueWithSource(attr, false, 'cli');
      const globals = program.opts<GlobalFlags>();
      Object.assign(f.flags, globals);
      f.commandPath = commandPathOf(action);
      const ms = parseRequestTimeout(globals.requestTimeout);
      if (ms > 0) {
        timer = setTimeout(() => {
          io.err.write('Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting headers)\n');
          process.exit(1);
        }, ms);
        timer.unref();
      }
    });
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (err) {
      if (err instanceof CommanderError) {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
        io.err.write(`${commanderMessage(err, f.commandPath, args)}\n`);
        return 1;
      }
      throw err;
    }
    const code = Number(process.exitCode ?? 0) || 0;
    return code !== 0 && f.staleDiscovery() === 'rerun' ? RERUN : code;
  } catch (err) {
    if (f.staleDiscovery() === 'rerun') return RERUN;
    if (err instanceof ExitCode) return err.exitCode;
    const text = formatError(err, f.serverForMessages());
    io.err.write(`${text}\n`);
    if (f.verbosity() >= 8 && err instanceof Error && err.stack) io.err.write(`${err.stack}\n`);
    return exitCodeOf(err);
  } finally {
    if (timer) clearTimeout(timer);
    await f.close().catch(() => {});
  }
}

function commandPathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  names[0] = 'kubectl';
  return names.join(' ');
}

/** The deepest subcommand named in argv (`config view` → view), for flag lookups. */
function findLeaf(cmd: Command, argv: string[]): Command {
  let leaf = cmd;
  for (const a of argv) {
    const sub = leaf.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub) leaf = sub;
  }
  return leaf;
}
