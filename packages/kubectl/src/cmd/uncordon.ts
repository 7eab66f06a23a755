import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { resolveNodes, setUnschedulable } from './node-util.js';
import { dryRunFlag, reportErrors } from './util.js';
import { parseDryRun } from './write-util.js';

/** `kubectl uncordon NODE`: Mark node as schedulableark node as schedulable. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('uncordon')
    .summary('Mark node as schedulable')
    .description('Mark node as schedulable.')
    .usage('NODE')
    .argument('[node...]')
    .option('-l, --selector <selector>', "Selector (label query) to filter on, supports '=', '==', '!=', 'in', 'notin'.(e.g. -l key1=value1,key2=value2,key3 in (value3)). Matching objects must satisfy all of the specified label constraints.")
    .addOption(dryRunFlag())
    .action(async (nodes: string[], o: { selector?: string; dryRun?: string | boolean }) => {
      if (!nodes.length && !o.selector) throw new CliError('USAGE: uncordon NODE [flags]', { usage: 'uncordon' });
      const dryRun = parseDryRun(o.dryRun);
      const { targets, errors } = await resolveNodes(f, nodes, o.selector, 'uncordon');
      for (const t of targets) {
        try {
          await setUnschedulable(f, t, false, dryRun);
        } catch (err) {
          errors.push(err);
        }
      }
      reportErrors(f, errors);
    });
  setExamples(cmd, `  # Mark node "foo" as schedulable
  kubectl uncordon foo`);
  return cmd;
}
