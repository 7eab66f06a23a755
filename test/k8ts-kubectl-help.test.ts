// k8ts-kubectl's --help against the real kubectl's (v1.32 on PATH), for every command and subcommand both have: the
// same sections in the same order, the same description, examples and usage line, the same subcommand lines, and for
// every flag we have the very line kubectl prints (name, shorthand, default in pflag's format) and kubectl's usage
// text. A flag kubectl lacks, or one that works differently, must say so in a `k8ts-kubectl:` line. No cluster needed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { run } from '../packages/kubectl/src/cli.js';
import { COMMANDS } from '../packages/kubectl/src/commands.js';
import { parseHelp, type HelpFlag, type HelpSections } from '../packages/kubectl/src/help.js';

const exec = promisify(execFile);
const ENV = { ...process.env, HOME: '/home/user', KUBECONFIG: '/nonexistent' };
const hasKubectl = await exec('kubectl', ['version', '--client']).then(() => true, () => false);

async function kubectlHelp(words: string[]): Promise<string> {
  return (await exec('kubectl', [...words, '--help'], { env: ENV })).stdout;
}

async function ours(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const io = { in: process.stdin, out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } };
  const code = await run(args, io, ENV);
  expect(err, `k8ts-kubectl ${args.join(' ')}`).toBe('');
  expect(code).toBe(0);
  return out;
}

const oursHelp = (words: string[]) => ours([...words, '--help']);

/** kubectl's flag lines and usage for ours, with a `k8ts-kubectl:` line where the flag is not kubectl's or differs. */
function compareFlags(name: string, mine: string, theirs: string): string[] {
  return compareFlagLists(name, parseHelp(mine).flags, parseHelp(theirs).flags, mine.split('\n'), theirs.split('\n'));
}

/** Section headers and tips, in order. */
function skeleton(text: string): string[] {
  return text.split('\n').filter((l) => /^[A-Z][A-Za-z ]+:$/.test(l) || l.startsWith('Use "'));
}

/** The differences between our help and kubectl's for one command, as readable lines (none when they agree). */
function compare(name: string, mine: string, theirs: string): string[] {
  const problems: string[] = [];
  const a = parseHelp(mine);
  const b = parseHelp(theirs);
  const same = (what: keyof HelpSections) => {
    if (JSON.stringify(a[what]) !== JSON.stringify(b[what])) problems.push(`${name}: ${what} differs:\n  ours:    ${JSON.stringify(a[what])}\n  kubectl: ${JSON.stringify(b[what])}`);
  };
  // Ours is kubectl's, then any paragraphs saying where we differ; examples may be ours only where one says so.
  const differences = a.description.startsWith(b.description) ? a.description.slice(b.description.length) : undefined;
  if (differences === undefined || !/^(\n\n \(k8ts-kubectl: [^]*?\))*$/.test(differences)) same('description');
  same('aliases');
  if (!differences) same('examples');
  same('usage');
  // Sections: ours may have no Options: where kubectl's flags are all ones we lack, nor Available Commands: where we
  // have none of its subcommands (nor then the tip naming them).
  const sk = skeleton(theirs).filter((h) => (h !== 'Options:' || a.flags.length) && ((h !== 'Available Commands:' && !h.includes('<command> --help')) || a.subcommands));
  const tips = (t: string[]) => t.filter((h) => !h.includes('<command> --help') || a.subcommands);
  if (JSON.stringify(a.tips) !== JSON.stringify(tips(b.tips))) problems.push(`${name}: tips ${JSON.stringify(a.tips)} vs kubectl's ${JSON.stringify(b.tips)}`);
  if (JSON.stringify(skeleton(mine)) !== JSON.stringify(sk)) problems.push(`${name}: sections ${skeleton(mine).join(' | ')} vs kubectl's ${sk.join(' | ')}`);
  for (const [sub, summary] of a.subcommands ?? []) {
    const k = b.subcommands?.find(([n]) => n === sub);
    if (!k) problems.push(`${name}: subcommand ${sub} that kubectl lacks`);
    else if (k[1] !== summary) problems.push(`${name} ${sub}: summary ${JSON.stringify(summary)} vs kubectl's ${JSON.stringify(k[1])}`);
  }
  const subLines = (t: string) => t.split('\n').filter((l) => /^ {2}\S/.test(l) && t.split('\n').indexOf(l) > t.indexOf('Available Commands:'));
  if (a.subcommands) for (const l of subLines(mine).slice(0, a.subcommands.length)) {
    if (!theirs.split('\n').includes(l)) problems.push(`${name}: command line ${JSON.stringify(l)} is not kubectl's`);
  }
  problems.push(...compareFlagLists(name, a.flags, b.flags, mine.split('\n'), theirs.split('\n')));
  return problems;
}

function compareFlagLists(name: string, a: HelpFlag[], b: HelpFlag[], ourLines: string[], theirLines: string[]): string[] {
  const problems: string[] = [];
  for (const f of a) {
    const k = b.find((x) => x.long === f.long);
    const line = ourLines.find((l) => new RegExp(`^ {4}(-\\w, )?--${f.long}=`).test(l))!;
    const notes = f.usage.split('\n').filter((l) => l.startsWith('k8ts-kubectl: '));
    const usage = f.usage.split('\n').filter((l) => !l.startsWith('k8ts-kubectl: ')).join('\n');
    if (!k) {
      if (!notes.length) problems.push(`${name}: --${f.long} that kubectl lacks, without a k8ts-kubectl: line`);
      continue;
    }
    if (!theirLines.includes(line)) problems.push(`${name}: ${JSON.stringify(line)} vs kubectl's ${JSON.stringify(theirLines.find((l) => new RegExp(`^ {4}(-\\w, )?--${f.long}=`).test(l)))}`);
    if (usage !== k.usage) problems.push(`${name}: --${f.long} usage ${JSON.stringify(usage)} vs kubectl's ${JSON.stringify(k.usage)}`);
  }
  const order = (s: HelpFlag[]) => s.map((f) => f.long).filter((l) => a.some((f) => f.long === l) && b.some((f) => f.long === l));
  if (JSON.stringify(order(a)) !== JSON.stringify(order(b))) problems.push(`${name}: flag order ${order(a).join(',')} vs kubectl's ${order(b).join(',')}`);
  return problems;
}

describe.skipIf(!hasKubectl)('k8ts-kubectl --help next to kubectl --help', () => {
  it('lays out every command both have as kubectl does, with kubectl\'s texts', { timeout: 120_000 }, async () => {
    // Every command path we have, found by walking our own Available Commands.
    const paths: string[][] = [];
    const texts = new Map<string, string>();
    let queue = COMMANDS.filter((c) => !c.hidden).map((c) => [c.name]);
    while (queue.length) {
      const next: string[][] = [];
      for (const words of queue) {
        const text = await oursHelp(words);
        paths.push(words);
        texts.set(words.join(' '), text);
        for (const [sub] of parseHelp(text).subcommands ?? []) next.push([...words, sub]);
      }
      queue = next;
    }
    expect(paths.length).toBeGreaterThan(60);
    const problems: string[] = [];
    const theirs = await Promise.all(paths.map((w) => kubectlHelp(w).catch(() => undefined)));
    paths.forEach((words, i) => {
      const name = words.join(' ');
      if (theirs[i] === undefined) problems.push(`${name}: kubectl has no such command`);
      else problems.push(...compare(name, texts.get(name)!, theirs[i]));
    });
    expect(problems.join('\n')).toBe('');
  });

  it('lists the commands and global options as kubectl does', async () => {
    // `kubectl --help`: ours is kubectl's without the commands we lack.
    const root = await ours(['--help']);
    const theirs = (await exec('kubectl', ['--help'], { env: ENV })).stdout.split('\n');
    expect(root.split('\n').filter((l) => !theirs.includes(l))).toEqual([]);
    // kubectl also lists the plugins it finds on PATH (none here; k8ts-kubectl has no plugins).
    expect(skeleton(root)).toEqual(skeleton(theirs.join('\n')).filter((h) => h !== 'Subcommands provided by plugins:'));
    // `kubectl options`: the same introduction, and each of our global flags as kubectl prints it.
    const options = await ours(['options']);
    const theirOptions = (await exec('kubectl', ['options'], { env: ENV })).stdout;
    expect(options.split('\n')[0]).toBe(theirOptions.split('\n')[0]);
    expect(compareFlags('options', options, theirOptions).join('\n')).toBe('');
    expect(await ours(['options', '--help'])).toBe('');
  });
});
