import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { Factory } from '../factory.js';
import { helpDefault, setExamples } from '../help.js';
import { tabwrite } from '../printers/tabwriter.js';
import { groupResource, groupVersionOf, RESTMapper } from '../rest-mapper.js';
import { collectLabels } from './util.js';

interface Options { apiGroup?: string; namespaced?: boolean; verbs: string[]; categories: string[]; output?: string; sortBy?: string; noHeaders?: boolean; headers?: boolean; cached?: boolean }

/** `kubectl api-resources`: the preferred version of every resource, from fresh discovery. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('api-resources')
    .summary('Print the supported API resources on the server')
    .description('Print the supported API resources on the server.')
    .usage('[flags]')
    .option('--api-group <group>', 'Limit to resources in the specified API group.')
    .option('--namespaced [bool]', 'If false, non-namespaced resources will be returned, otherwise returning namespaced resources by default.')
    .option('--verbs <verbs>', 'Limit to resources that support the specified verbs.', collectLabels, [])
    .option('--categories <categories>', 'Limit to resources that belong to the specified categories.', collectLabels, [])
    .option('-o, --output <format>', "Output format. One of: (wide, name).")
    .option('--sort-by <field>', "If non-empty, sort list of resources using specified field. The field can be either 'name' or 'kind'.")
    .option('--no-headers', "When using the default or custom-column output format, don't print headers (default print headers).")
    .option('--cached', 'Use the cached list of resources if available.')
    .action(async (o: Options) => {
      if (o.output && o.output !== 'wide' && o.output !== 'name') throw new CliError(`--output ${o.output} is not available`);
      if (o.sortBy && o.sortBy !== 'name' && o.sortBy !== 'kind') throw new CliError(`--sort-by accepts only name or kind`);
      const mapper = await RESTMapper.discover(await f.client());
      const nsFlag = o.namespaced === undefined ? undefined : String(o.namespaced) !== 'false';
      let rs = mapper.preferredResources().filter((r) => r.verbs.length > 0)
        .filter((r) => o.apiGroup === undefined || r.group === o.apiGroup)
        .filter((r) => nsFlag === undefined || r.namespaced === nsFlag)
        .filter((r) => o.verbs.every((v) => r.verbs.includes(v)))
        .filter((r) => o.categories.every((c) => r.categories.includes(c)));
      // kubectl: by --sort-by, else by group and then name.
      const keys = (r: typeof rs[number]) => (o.sortBy === 'name' ? [r.resource] : o.sortBy === 'kind' ? [r.kind] : [r.group, r.resource]);
      const cmp = (a: string[], b: string[]) => { for (let i = 0; i < a.length; i++) { if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1; } return 0; };
      rs = rs.map((r, i) => ({ r, i })).sort((a, b) => cmp(keys(a.r), keys(b.r)) || a.i - b.i).map((x) => x.r);
      if (o.output === 'name') {
        f.io.out.write(rs.map((r) => `${groupResource(r)}\n`).join(''));
        return;
      }
      const wide = o.output === 'wide';
      const rows: string[][] = [];
      if (o.headers !== false) rows.push(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])]);
      for (const r of rs) {
        rows.push([r.resource, r.shortNames.join(','), groupVersionOf(r), String(r.namespaced), r.kind,
          ...(wide ? [[...r.verbs].sort().join(","), r.categories.join(',')] : [])]);
      }
      f.io.out.write(tabwrite(rows));
    });
  helpDefault(cmd, '--namespaced', true); // kubectl's default, which filters only when the flag is given
  setExamples(cmd, `  # Print the supported API resources
  kubectl api-resources`);
  return cmd;
}
