import type { Command } from 'commander';
import type { Factory } from '../factory.js';
import { RESTMapper } from '../rest-mapper.js';

/** `kubectl api-versions`: every group/version the server serves, sorted. */
export function register(program: Command, f: Factory): Command {
  return program.command('api-versions')
    .summary('Print the supported API versions on the server, in the form of "group/version"')
    .description('Print the supported API versions on the server, in the form of "group/version".')
    .usage('')
    .action(async () => {
      const mapper = await RESTMapper.discover(await f.client());
      const gvs = new Set<string>();
      for (const g of mapper.groups) for (const v of g.versions) gvs.add(g.name ? `${g.name}/${v}` : v);
      f.io.out.write([...gvs].sort().map((x) => `${x}\n`).join(''));
    });
}
