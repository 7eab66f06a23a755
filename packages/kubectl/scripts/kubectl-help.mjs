// Writes src/kubectl-help-text.ts: the help texts of the real kubectl (v1.32, on PATH), cut into sections, for every
// command and subcommand it has plus `kubectl options`. k8ts-kubectl's --help shows kubectl's descriptions, examples
// and flag usages from it wherever it has the command or flag (src/help.ts). Run after `npm run build`:
//   node packages/kubectl/scripts/kubectl-help.mjs
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../dist/commands.js';
import { parseFlags, parseHelp } from '../dist/help.js';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kubectl = (args) => execFileSync('kubectl', args, { encoding: 'utf8', env: { ...process.env, HOME: '/home/user', KUBECONFIG: '' } });

const texts = {};
const visit = (words) => {
  const help = parseHelp(kubectl([...words, '--help']));
  texts[words.join(' ')] = help;
  for (const [name] of help.subcommands ?? []) visit([...words, name]);
};
const root = kubectl(['--help']);
// Only the commands k8ts-kubectl has (src/commands.ts); run again when one is added.
for (const m of root.split('\nUsage:')[0].matchAll(/^ {2}([a-z][a-z-]*) /gm)) if (COMMANDS.some((c) => c.name === m[1])) visit([m[1]]);
// `kubectl options`: its flags after one line of introduction.
const options = kubectl(['options']).split('\n');
texts.options = { description: options[0], flags: parseFlags(options.slice(1)), tips: [] };

const version = kubectl(['version', '--client']).split('\n')[0];
writeFileSync(path.join(PKG, 'src/kubectl-help-text.ts'), [
  `// Written by scripts/kubectl-help.mjs from kubectl's own --help (${version}); do not edit.`,
  "import type { HelpSections } from './help.js';",
  '',
  'export const KUBECTL_HELP: Record<string, HelpSections> = {',
  ...Object.entries(texts).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`),
  '};',
  '',
].join('\n'));
console.log(`${Object.keys(texts).length} commands`);
