import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { KUBECTL_VERSION, PLATFORM, type Factory } from '../factory.js';
import { setExamples } from '../help.js';
import { toGoJson, toGoYaml } from '../printers/serialize.js';

interface ServerVersion { major?: string; minor?: string; gitVersion?: string; [k: string]: unknown }

/** `kubectl version [--client] [-o json|yaml]`. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('version')
    .summary('Print the client and server version information')
    .description('Print the client and server version information for the current context.')
    .option('--client', 'If true, shows client version only (no server required).')
    .option('-o, --output <format>', "One of 'yaml' or 'json'.", '')
    .action(async (o: { client?: boolean; output: string }) => {
      if (o.output && o.output !== 'json' && o.output !== 'yaml') throw new CliError('--output must be \'yaml\' or \'json\'');
      const clientVersion = {
        major: '1', minor: '32', gitVersion: KUBECTL_VERSION, gitCommit: 'k8ts', gitTreeState: 'clean',
        buildDate: '2026-12-02T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: PLATFORM,
      };
      let server: ServerVersion | undefined;
      let serverErr: unknown;
      if (!o.client) {
        try {
          server = await (await f.client()).request<ServerVersion>('GET', '/version', { accept: 'application/json, */*', query: { timeout: '32s' } });
        } catch (err) {
          serverErr = err;
        }
      }
      const doc: Record<string, unknown> = { clientVersion, kustomizeVersion: 'v5.5.0' };
      if (server) doc.serverVersion = server;
      if (o.output === 'json') f.io.out.write(`${toGoJson(doc, '  ')}\n`);
      else if (o.output === 'yaml') f.io.out.write(toGoYaml(doc));
      else {
        f.io.out.write(`Client Version: ${KUBECTL_VERSION}\nKustomize Version: v5.5.0\n`);
        if (server) f.io.out.write(`Server Version: ${server.gitVersion ?? ''}\n`);
      }
      if (serverErr) throw serverErr;
    });
  setExamples(cmd, `  # Print the client and server versions for the current context
  kubectl version`);
  return cmd;
}
