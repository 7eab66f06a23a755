import type { Command, Option } from 'commander';

/**
 * Help in kubectl's layout (cobra with kubectl's templates, k8s.io/kubectl/pkg/util/templates): description, Aliases,
 * Examples, Available Commands, Options (pflag's `    -n, --namespace='':` then the usage on the next line after a
 * tab), Usage, and the tips. The texts are kubectl v1.32's own (src/kubectl-help-text.ts, written from the real
 * binary by scripts/kubectl-help.mjs) wherever we have the command or flag; the defaults shown are always ours.
 */

/** One flag as kubectl's help shows it. */
export interface HelpFlag { short?: string; long: string; def: string; usage: string }

/** One command's help, cut into its sections. */
export interface HelpSections {
  description: string;
  aliases?: string;
  examples?: string;
  subcommands?: [string, string][];
  flags: HelpFlag[];
  usage?: string;
  tips: string[];
}

const HEADERS = ['Aliases:', 'Examples:', 'Available Commands:', 'Options:', 'Usage:'];
export const OPTIONS_TIP = 'Use "kubectl options" for a list of global command-line options (applies to all commands).';

/** Cuts a help text printed by kubectl (or by us) into its sections. */
export function parseHelp(text: string): HelpSections {
  const lines = text.replace(/\n$/, '').split('\n');
  const out: HelpSections = { description: '', flags: [], tips: [] };
  let i = 0;
  const desc: string[] = [];
  // The description runs to the first header (some end in a `Use "kubectl api-resources" …` line of their own).
  while (i < lines.length && !HEADERS.includes(lines[i]) && !lines[i].startsWith('Use "kubectl options"')) desc.push(lines[i++]);
  out.description = desc.join('\n').replace(/\n+$/, '');
  while (i < lines.length) {
    const header = lines[i++];
    const body: string[] = [];
    if (header.startsWith('Use "')) {
      out.tips.push(header);
      continue;
    }
    // A section ends at a blank line followed by a header or a tip (examples and flags have blank lines inside).
    while (i < lines.length && !(lines[i] === '' && (i + 1 >= lines.length || HEADERS.includes(lines[i + 1]) || lines[i + 1].startsWith('Use "')))) body.push(lines[i++]);
    i++;
    if (header === 'Aliases:') out.aliases = body.join('\n');
    else if (header === 'Examples:') out.examples = body.join('\n');
    else if (header === 'Usage:') out.usage = body.join('\n').replace(/^ {2}/, '');
    else if (header === 'Available Commands:') out.subcommands = body.map((l) => { const m = /^ {2}(\S+)\s+(.*)$/.exec(l); return [m?.[1] ?? l.trim(), m?.[2] ?? '']; });
    else if (header === 'Options:') out.flags = parseFlags(body);
  }
  return out;
}

/** pflag's flag blocks: `    -x, --name=default:`, then usage lines each after a tab, then a blank line. */
export function parseFlags(lines: string[]): HelpFlag[] {
  const flags: HelpFlag[] = [];
  for (const line of lines) {
    const m = /^ {4}(?:-(\w), )?--([^=]+)=(.*):$/.exec(line);
    if (m) flags.push({ short: m[1], long: m[2], def: m[3], usage: '' });
    else if (line.startsWith('\t') && flags.length) {
      const f = flags[flags.length - 1];
      f.usage = f.usage ? `${f.usage}\n${line.slice(1)}` : line.slice(1);
    }
  }
  return flags;
}

let kubectlTexts: Record<string, HelpSections> | undefined;

/** Hands kubectl's help texts to the renderer (cli.ts loads them only when help is asked for). */
export function setKubectlTexts(texts: Record<string, HelpSections>): void {
  kubectlTexts = texts;
}

const examples = new WeakMap<Command, { text: string; own: boolean }>();
const notes = new WeakMap<Option, string>();
const shownDefaults = new WeakMap<Option, unknown>();

/**
 * Sets a command's `Examples:` section (kubectl's example block, already indented two spaces). kubectl's own examples
 * are shown instead where kubectl has the command, unless `own` (ours differ, and the description says why).
 */
export function setExamples(cmd: Command, text: string, { own = false } = {}): Command {
  examples.set(cmd, { text: text.replace(/^\n+|\s+$/g, ''), own });
  return cmd;
}

/** A flag's default that the command applies itself when the flag is not given (a commander default would change parsing). */
export function helpDefault(cmd: Command, flag: string, value: unknown): Command {
  const o = cmd.options.find((x) => x.long === flag);
  if (!o) throw new Error(`no ${flag} on ${cmd.name()}`);
  shownDefaults.set(o, value);
  return cmd;
}

/** Where a flag of ours behaves unlike kubectl's: an extra line under kubectl's usage text says how. */
export function helpNote(o: Option, text: string): Option {
  notes.set(o, text);
  return o;
}

/** The line a note adds under a flag's usage. */
export function noteLine(text: string): string {
  return `\tk8ts-kubectl: ${text}`;
}

function path(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  names[0] = 'kubectl';
  return names.join(' ');
}

/** pflag's type of a flag, from the default kubectl prints for it (or, for flags kubectl lacks, from ours). */
type FlagType = 'bool' | 'slice' | 'string' | 'int' | 'duration' | 'raw';

function typeOfKubectlDefault(def: string): FlagType {
  if (def === 'true' || def === 'false') return 'bool';
  if (def.startsWith('[')) return 'slice';
  if (def.startsWith("'")) return 'string';
  if (/^-?\d+$/.test(def)) return 'int';
  if (/^(-?\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$/.test(def)) return 'duration';
  return 'raw';
}

function typeOfOurs(o: Option): FlagType {
  const d = o.defaultValue as unknown;
  if (o.isBoolean()) return 'bool';
  if (o.variadic || Array.isArray(d)) return 'slice';
  if (typeof d === 'number') return 'int';
  return 'string';
}

/** A duration as Go's time.Duration.String() prints it: `0s`, `30s`, `1m0s`, `1h0m0s`, `500ms`. */
export function goDuration(text: string): string {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  let ms = 0;
  const parts = [...String(text).matchAll(/(-?\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)?/g)];
  if (!parts.length) return text;
  for (const [, n, u] of parts) ms += Number(n) * units[u ?? 's'];
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${sign}${+ms.toFixed(6)}ms`;
  const h = Math.floor(ms / 3600e3);
  const m = Math.floor((ms % 3600e3) / 60e3);
  const s = +((ms % 60e3) / 1000).toFixed(9);
  if (h) return `${sign}${h}h${m}m${s}s`;
  if (m) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** Our default, printed the way pflag prints a flag of that type. */
function defaultText(o: Option, type: FlagType, kubectlDef?: string): string {
  const d = shownDefaults.has(o) ? shownDefaults.get(o) : o.defaultValue as unknown;
  switch (type) {
    case 'bool': return o.isBoolean() ? (d === true ? 'true' : 'false') : String(d ?? false);
    case 'slice': return `[${Array.isArray(d) ? d.join(',') : (d ?? '')}]`;
    case 'int': return d === undefined || d === '' ? '0' : String(d);
    case 'duration': return d === undefined || d === '' ? '0s' : goDuration(String(d));
    case 'raw': return d === undefined ? (kubectlDef ?? '') : String(d);
    default: return `'${d ?? ''}'`;
  }
}

/** The text under `Options:` for the given options, kubectl's usage where kubectl has the flag. */
export function flagsText(opts: readonly Option[], kubectl?: HelpFlag[]): string[] {
  const out: string[] = [];
  const sorted = [...opts].sort((a, b) => ((a.long ?? '') < (b.long ?? '') ? -1 : (a.long ?? '') > (b.long ?? '') ? 1 : 0));
  for (const o of sorted) {
    const long = (o.long ?? '').replace(/^--/, '');
    const theirs = kubectl?.find((f) => f.long === long);
    const type = theirs ? typeOfKubectlDefault(theirs.def) : typeOfOurs(o);
    const flag = o.short ? `${o.short}, --${long}` : `--${long}`;
    out.push(`    ${flag}=${defaultText(o, type, theirs?.def)}:`);
    // A difference stated in our own usage text, `… (k8ts-kubectl: not supported)`, becomes a line of its own.
    const inline = /\s*\(k8ts-kubectl: (.*)\)\s*$/s.exec(o.description);
    const usage = theirs?.usage ?? (inline ? o.description.slice(0, inline.index) : o.description);
    for (const l of usage.split('\n')) out.push(`\t${l}`);
    const note = notes.get(o) ?? inline?.[1];
    if (note) out.push(noteLine(note));
    out.push('');
  }
  return out;
}

/** The name padding kubectl's command listing uses. */
export function commandPadding(names: string[]): number {
  // cobra pads names to the longest (at least 11), and kubectl's template adds three spaces.
  return Math.max(11, ...names.map((n) => n.length)) + 3;
}

/** A command's help in kubectl's layout. */
export function kubectlHelp(cmd: Command): string {
  const key = path(cmd).replace(/^kubectl ?/, '');
  const theirs = kubectlTexts?.[key];
  const out: string[] = [];
  const ours = cmd.description().replace(/\s+$/, '');
  // kubectl's description, and our paragraphs that say where we differ (` (k8ts-kubectl: …)`).
  const differences = ours.split(/\n\n/).filter((p) => /^ ?\(?k8ts-kubectl:/.test(p));
  const desc = theirs ? [theirs.description, ...differences].join('\n\n') : ours;
  if (desc) out.push(desc, '');
  if (cmd.aliases().length) out.push('Aliases:', [cmd.name(), ...cmd.aliases()].join(', '), '');
  const mine = examples.get(cmd);
  const ex = (mine?.own ? undefined : theirs?.examples) ?? mine?.text.replace(/^$/gm, '  ');
  if (ex) out.push('Examples:', ex, '');
  const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .sort((a, b) => (a.name() < b.name() ? -1 : 1));
  if (subs.length) {
    out.push('Available Commands:');
    // Padded as kubectl pads its own list (which may have subcommands we lack).
    const w = commandPadding([...subs.map((c) => c.name()), ...(theirs?.subcommands ?? []).map(([n]) => n)]);
    for (const c of subs) {
      const summary = theirs?.subcommands?.find(([n]) => n === c.name())?.[1] ?? (c.summary() || c.description().split('\n')[0].replace(/\.$/, ''));
      out.push(`  ${c.name().padEnd(w)}${summary}`);
    }
    out.push('');
  }
  const opts = cmd.options.filter((o) => !o.hidden && o.long !== '--help');
  if (opts.length) out.push('Options:', ...flagsText(opts, theirs?.flags));
  const usage = theirs?.usage ?? `${path(cmd)}${cmd.usage() ? ` ${cmd.usage()}` : ''}${opts.length ? ' [flags]' : ''} [options]`;
  out.push('Usage:', `  ${usage}`, '');
  if (subs.length) out.push(`Use "${path(cmd)} <command> --help" for more information about a given command.`);
  out.push(OPTIONS_TIP, '');
  return out.join('\n');
}
