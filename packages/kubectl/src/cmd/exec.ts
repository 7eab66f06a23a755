import type { Command } from 'commander';
import { CliError, usageError } from '../errors.js';
import { parseGoDuration, type Factory } from '../factory.js';
import { setExamples } from '../help.js';
import type * as Streams from '../streams.js';

interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  quiet?: boolean;
  podRunningTimeout: string;
  filename?: string[];
}

/** The operands after `--` on the command line (cobra's ArgsLenAtDash), or undefined when there is no `--`. */
export function afterDash(program: Command): string[] | undefined {
  const raw = (program as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const at = raw.indexOf('--');
  return at < 0 ? undefined : raw.slice(at + 1);
}

/** `kubectl exec`: a command in a container over pods/exec, its exit code as ours. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('exec')
    .summary('Execute a command in a container')
    .description('Execute a command in a container.')
    .usage('(POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]')
    .argument('[args...]')
    .option('-c, --container <name>', 'Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen')
    .option('-f, --filename <file>', 'to use to exec into the resource', (v: string, p: string[] = []) => [...p, v])
    .option('--pod-running-timeout <duration>', 'The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one pod is running', '1m0s')
    .option('-q, --quiet', 'Only print output from the remote session')
    .option('-i, --stdin', 'Pass stdin to the container')
    .option('-t, --tty', 'Stdin is a TTY')
    .action(async (args: string[], o: ExecOptions) => {
      const dash = afterDash(program);
      const before = dash ? args.slice(0, args.length - dash.length) : args;
      if (!dash && before.length > 1) {
        throw new CliError('exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee \'kubectl exec -h\' for help and examples', { raw: false });
      }
      if (before.length === 0 && !o.filename?.length) throw new CliError('pod, type/name or --filename must be specified');
      const command = dash ?? [];
      if (!command.length) throw new CliError('you must specify at least one command for the container');
      const timeoutMs = podRunningTimeout('exec', o.podRunningTimeout);
      await exec(f, before[0], command, o, timeoutMs);
    });
  setExamples(cmd, `  # Get output from running the 'date' command from pod mypod, using the first container by default
  kubectl exec mypod -- date

  # Get output from running the 'date' command in ruby-container from pod mypod
  kubectl exec mypod -c ruby-container -- date

  # Switch to raw terminal mode; sends stdin to 'bash' in ruby-container from pod mypod
  # and sends stdout/stderr from 'bash' back to the client
  kubectl exec mypod -c ruby-container -i -t -- bash -il

  # List contents of /usr from the first container of pod mypod and sort by modification time
  # If the command you want to execute in the pod has any flags in common (e.g. -i),
  # you must use two dashes (--) to separate your command's flags/arguments
  # Also note, do not surround your command and its flags/arguments with quotes
  # unless that is how you would execute it normally (i.e., do ls -t /usr, not "ls -t /usr")
  kubectl exec mypod -i -t -- ls -t /usr

  # Get output from running 'date' command from the first pod of the deployment mydeployment, using the first container by default
  kubectl exec deploy/mydeployment -- date

  # Get output from running 'date' command from the first pod of the service myservice, using the first container by default
  kubectl exec svc/myservice -- date`);
  return cmd;
}

/**
 * `--pod-running-timeout` in milliseconds, refused as cobra refuses a bad duration flag and as
 * cmdutil.GetPodRunningTimeoutFlag refuses one not above zero.
 */
export function podRunningTimeout(command: string, value: string): number {
  const sign = /^[-+]/.test(value) ? value[0] : '';
  const ms = parseGoDuration(value.slice(sign.length));
  if (ms === undefined) {
    const why = /^[-+]?[0-9.]+$/.test(value) ? `time: missing unit in duration "${value}"` : `time: invalid duration "${value}"`;
    throw new CliError(`Error: invalid argument "${value}" for "--pod-running-timeout" flag: ${why}\nSee 'kubectl ${command} --help' for usage.`, { raw: true });
  }
  if (sign === '-' || ms <= 0) throw usageError(command, '--pod-running-timeout must be higher than zero');
  return ms;
}

async function exec(f: Factory, target: string | undefined, command: string[], o: ExecOptions, timeoutMs: number): Promise<void> {
  if (!target) throw new CliError('exec with --filename is not supported by k8ts-kubectl; name the pod');
  const [{ podFor, pickContainer, remoteCommand, setupTerminal }, client] = await Promise.all([import('../streams.js'), f.client()]);
  const { pod } = await podFor(f, client, target, f.namespace(), timeoutMs);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  const container = pickContainer(f, pod, o.container, o.quiet);
  const code = await runStreams(f, `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/exec`,
    [...command.map((c): [string, string] => ['command', c]), ['container', container]], o, { remoteCommand, setupTerminal });
  if (code !== 0) throw new CliError(`command terminated with exit code ${code}`, { raw: true, exitCode: code });
}

/**
 * The streams of exec and attach (kubectl's StreamOptions.SetupTTY): stdin only with -i; a TTY only when -i and stdin
 * is a terminal (else kubectl's notice), then raw mode and resizes; stderr separate unless a TTY. `ready` is called
 * once the terminal is set up, with whether it is raw, before the stream is opened.
 */
export async function runStreams(f: Factory, path: string, query: [string, string][], o: { stdin?: boolean; tty?: boolean; quiet?: boolean },
  s: Pick<typeof Streams, 'remoteCommand' | 'setupTerminal'>, ready?: (raw: boolean) => void): Promise<number> {
  let tty = !!o.tty && !!o.stdin;
  let term: ReturnType<typeof s.setupTerminal> | undefined;
  if (tty) {
    term = s.setupTerminal(f.io.in, f.io.out);
    if (!term.raw) {
      tty = false;
      if (!o.quiet) f.io.err.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
    }
  }
  const q: [string, string][] = [...query, ...(o.stdin ? [['stdin', 'true'] as [string, string]] : []), ['stdout', 'true']];
  if (!tty) q.push(['stderr', 'true']);
  if (tty) q.push(['tty', 'true']);
  try {
    ready?.(tty);
    return await s.remoteCommand(f, path, q, {
      stdin: o.stdin ? f.io.in : undefined, tty,
      stdout: (b) => writeOut(f.io.out, b),
      stderr: (b) => writeOut(f.io.err, b),
      onResize: term?.raw ? term.monitor : undefined,
    });
  } finally {
    term?.restore();
  }
}

/** Bytes to one of f.io's streams: as bytes to a real stream, as text to a test's string sink. */
function writeOut(w: { write(s: string): unknown }, b: Buffer): void {
  if ((w as NodeJS.WriteStream).writable !== undefined && typeof (w as NodeJS.WriteStream).on === 'function') (w as NodeJS.WriteStream).write(b);
  else w.write(b.toString('utf8'));
}
