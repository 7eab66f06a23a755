import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { resolveNodes, setUnschedulable } from './node-util.js';
import { dryRunFlag, reportErrors } from './util.js';
import { parseDryRun } from './write-util.js';

/** `kubectl cordon NODE`: Mark node as unschedulableark node as unschedulable. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('cordon')
    .summary('Mark node as unschedulable')
    .description('Mark node as unschedulable.')
    .usage('NODE')
    .argument('[node...]')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .addOption(dryRunFlag())
    .action(async (nodes: string[], o: { selector?: string; dryRun?: string | boolean }) => {
      if (!nodes.length && !o.selector) throw new CliError('USAGE: cordon NODE [flags]', { usage: 'cordon' });
      const dryRun = parseDryRun(o.dryRun);
      const { targets, errors } = await resolveNodes(f, nodes, o.selector, 'cordon');
      for (const t of targets) {
        try {
          await setUnschedulable(f, t, true, dryRun);
        } catch (err) {
          errors.push(err);
        }
      }
      reportErrors(f, errors);
    });
  setExamples(cmd, `  # Mark node "foo" as unschedulable
  kubectl cordon foo`);
  return cmd;
}
