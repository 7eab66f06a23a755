import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { flagsText, goDuration, kubectlHelp, parseHelp } from './help.js';

describe('kubectl help layout', () => {
  it('prints durations as Go does', () => {
    expect(['0', '0s', '1m', '90s', '500ms', '1h', '1h30m', '2m0s'].map(goDuration)).toEqual(['0s', '0s', '1m0s', '1m30s', '500ms', '1h0m0s', '1h30m0s', '2m0s']);
  });

  it("prints a flag's default in the format of kubectl's type for it, and ours where kubectl lacks the flag", () => {
    const opts = [new Option('--timeout <d>', 'x').default('1m'), new Option('-n, --names <n>', 'y').default(['a', 'b']),
      new Option('--count <n>', 'z').default('3'), new Option('--mine <v>', 'ours (k8ts-kubectl: only ours)'), new Option('--all', 'all')];
    const kubectl = [{ long: 'timeout', def: '0s', usage: 'T' }, { long: 'names', short: 'n', def: '[]', usage: 'N' }, { long: 'count', def: '0', usage: 'C' }];
    expect(flagsText(opts, kubectl).join('\n')).toBe([
      '    --all=false:', '\tall', '',
      '    --count=3:', '\tC', '',
      "    --mine='':", '\tours', '\tk8ts-kubectl: only ours', '',
      '    -n, --names=[a,b]:', '\tN', '',
      '    --timeout=1m0s:', '\tT', '',
    ].join('\n'));
  });

  it('renders sections that parse back', () => {
    const root = new Command('kubectl');
    const cmd = root.command('thing').alias('th').description('Do a thing.').usage('NAME').option('--all', 'Everything');
    cmd.command('sub').summary('A sub');
    const help = parseHelp(kubectlHelp(cmd));
    expect(help).toMatchObject({ description: 'Do a thing.', aliases: 'thing, th', subcommands: [['sub', 'A sub']], usage: 'kubectl thing NAME [flags] [options]' });
    expect(help.flags).toEqual([{ long: 'all', def: 'false', usage: 'Everything', short: undefined }]);
  });
});
