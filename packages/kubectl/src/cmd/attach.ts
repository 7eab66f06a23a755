import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { podRunningTimeout, runStreams } from './exec.js';

interface AttachOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  quiet?: boolean;
  podRunningTimeout: string;
}

/** `kubectl attach`: the streams of a container's running process over pods/attach. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('attach')
    .summary('Attach to a running container')
    .description('Attach to a process that is already running inside an existing container.')
    .usage('(POD | TYPE/NAME) -c CONTAINER')
    .argument('[args...]')
    .option('-c, --container <name>', 'Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen')
    .option('--pod-running-timeout <duration>', 'The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one pod is running', '1m0s')
    .option('-q, --quiet', 'Only print output from the remote session')
    .option('-i, --stdin', 'Pass stdin to the container')
    .option('-t, --tty', 'Stdin is a TTY')
    .action(async (args: string[], o: AttachOptions) => {
      const timeoutMs = podRunningTimeout('attach', o.podRunningTimeout);
      if (args.length === 0) throw new CliError('at least 1 argument is required for attach');
      if (args.length > 2) throw new CliError(`expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw ${args.length}: [${args.join(' ')}]`);
      await attach(f, args.length === 2 ? `${args[0]}/${args[1]}` : args[0], o, timeoutMs);
    });
  setExamples(cmd, `  # Get output from running pod mypod; use the 'kubectl.kubernetes.io/default-container' annotation
  # for selecting the container to be attached or the first container in the pod will be chosen
  kubectl attach mypod
  
  # Get output from ruby-container from pod mypod
  kubectl attach mypod -c ruby-container
  
  # Switch to raw terminal mode; sends stdin to 'bash' in ruby-container from pod mypod
  # and sends stdout/stderr from 'bash' back to the client
  kubectl attach mypod -c ruby-container -i -t
  
  # Get output from the first pod of a replica set named nginx
  kubectl attach rs/nginx`);
  return cmd;
}

/**
 * kubectl's AttachOptions.Run: the pod (a controller's first pod, waited for up to the timeout), refused when it has
 * completed; the container (`-c` must exist); a TTY only when the container has one (and always when it has); then
 * the streams, and after a raw session the reattach hint.
 */
async function attach(f: Factory, target: string, o: AttachOptions, timeoutMs: number): Promise<void> {
  const [{ podFor, findOrDefaultContainer, remoteCommand, setupTerminal }, client] = await Promise.all([import('../streams.js'), f.client()]);
  const { pod } = await podFor(f, client, target, f.namespace(), timeoutMs);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`cannot attach a container in a completed pod; current phase is ${phase}`);
  let container: any;
  try {
    container = findOrDefaultContainer(f, pod, o.container, o.quiet);
  } catch (err) {
    throw new CliError(`cannot attach to the container: ${(err as Error).message}`);
  }
  let tty = !!o.tty;
  if (tty && !container.tty) {
    tty = false;
    if (!o.quiet) f.io.err.write(`error: Unable to use a TTY - container ${container.name} did not allocate one\n`);
  } else if (!tty && container.tty) {
    // The container's output is a terminal's: without a TTY the stream would not be read right.
    tty = true;
  }
  const name = pod.metadata.name;
  let raw = false;
  await runStreams(f, `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(name)}/attach`, [['container', container.name]],
    { stdin: o.stdin, tty, quiet: o.quiet }, { remoteCommand, setupTerminal }, (isRaw) => {
      raw = isRaw;
      if (!o.quiet) f.io.err.write('If you don\'t see a command prompt, try pressing enter.\n');
    });
  // Only a container that restarts can be attached again (v1.32 says so only for restartPolicy Always).
  if (!o.quiet && o.stdin && raw && pod.spec?.restartPolicy === 'Always') {
    const ephemeral = (pod.spec?.ephemeralContainers ?? []).some((c: any) => c.name === container.name);
    f.io.out.write(ephemeral
      ? `Session ended, the ephemeral container will not be restarted but may be reattached using '${f.commandPath} ${name} -c ${container.name} -i -t' if it is still running\n`
      : `Session ended, resume using '${f.commandPath} ${name} -c ${container.name} -i -t' command when the pod is running\n`);
  }
}
