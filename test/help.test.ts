// Every component's --help documents every flag its main.ts declares (and scripts/cluster's every flag of every command).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const COMPONENTS = ['apiserver', 'scheduler', 'controller-manager', 'kubelet', 'kube-proxy', 'dns', 'ingress'];

/** The long flags a source declares as options (`new Option('--x …'` or `.option('--x …'`). */
function declaredFlags(source: string): string[] {
  return [...source.matchAll(/(?:new Option|\.option|\.requiredOption)\(\s*'(?:-\w, )?(--[a-z0-9-]+)/g)].map((m) => m[1]);
}

describe('--help', () => {
  for (const name of COMPONENTS) {
    const main = path.join(ROOT, `packages/${name}/dist/main.js`);
    it.skipIf(!existsSync(main))(`k8ts-${name} documents each of its flags`, () => {
      const flags = declaredFlags(readFileSync(path.join(ROOT, `packages/${name}/src/main.ts`), 'utf8'));
      expect(flags.length).toBeGreaterThan(2);
      const help = execFileSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
      for (const flag of flags) expect(help, `${flag} in k8ts-${name} --help`).toContain(flag);
      // Each one with a description: the line naming it says more than the flag.
      for (const flag of flags) expect(help.split('\n').find((l) => l.includes(`${flag} `) || l.trimEnd().endsWith(flag))!.replace(/^\s*(-\w, )?--\S+( <[^>]+>| \[[^\]]+\])?/, '').trim()).not.toBe('');
    });
  }

  it('scripts/cluster documents each flag of each command', () => {
    const source = readFileSync(path.join(ROOT, 'scripts/cluster.mjs'), 'utf8');
    const commands = [...source.matchAll(/program\.command\('([a-z]+)'\)/g)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['up', 'down', 'status', 'env', 'logs', 'clean']));
    const help = commands.map((c) => execFileSync(path.join(ROOT, 'scripts/cluster'), [c, '--help'], { encoding: 'utf8' })).join('\n');
    for (const flag of declaredFlags(source).concat(['--state-dir'])) expect(help).toContain(flag);
  });
});
