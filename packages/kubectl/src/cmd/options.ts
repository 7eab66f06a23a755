import path from 'node:path';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import type { Factory } from '../factory.js';
import { flagsText, helpDefault } from '../help.js';

/** `kubectl options`: the global flags every command takes, in kubectl's layout (`options --help` prints nothing, as kubectl's does). */
export function register(program: Command, f: Factory): Command {
  // The default kubectl computes for its cache directory.
  helpDefault(program, '--cache-dir', f.env.KUBECACHEDIR || path.join(f.env.HOME || homedir(), '.kube', 'cache'));
  return program.command('options').description('Print the list of flags inherited by all commands').usage('[flags]')
    .helpOption(false).option('-h, --help', 'help for options')
    .action(async (opts: { help?: boolean }) => {
      // kubectl's `options --help` prints nothing at all.
      if (opts.help) return;
      const { KUBECTL_HELP } = await import('../kubectl-help-text.js');
      const globals = program.options.filter((o) => !o.hidden && o.long !== '--help');
      f.io.out.write(['The following options can be passed to any command:', '', ...flagsText(globals, KUBECTL_HELP.options.flags), ''].join('\n'));
    });
}
