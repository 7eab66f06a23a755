import type { Command, Option } from 'commander';

const examples = new WeakMap<Command, string>();

/** Sets a command's `Examples:` section (kubectl's example block, already indented two spaces). */
export function setExamples(cmd: Command, text: string): Command {
  examples.set(cmd, text.replace(/^\n+|\s+$/g, ''));
  return cmd;
}

function path(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  names[0] = 'kubectl';
  return names.join(' ');
}

function defaultText(o: Option): string {
  const d = o.defaultValue as unknown;
  if (o.isBoolean()) return d === true ? 'true' : 'false';
  if (o.variadic || Array.isArray(d)) return `[${Array.isArray(d) ? d.join(',') : ''}]`;
  if (typeof d === 'number') return String(d);
  return `'${d ?? ''}'`;
}

/** A command's help in kubectl's (cobra's) layout: description, examples, options, usage. */
export function kubectlHelp(cmd: Command): string {
  const out: string[] = [];
  const desc = cmd.description();
  if (desc) out.push(desc.replace(/\s+$/, ''), '');
  const ex = examples.get(cmd);
  if (ex) out.push('Examples:', ex, '');
  const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  if (subs.length) {
    out.push('Available Commands:');
    const w = Math.max(...subs.map((c) => c.name().length), 14);
    for (const c of subs) out.push(`  ${c.name().padEnd(w)}  ${c.summary() || c.description().split('\n')[0]}`);
    out.push('');
  }
  const opts = cmd.options.filter((o) => !o.hidden && o.long !== '--help');
  if (opts.length) {
    out.push('Options:');
    for (const o of [...opts].sort((a, b) => (a.long ?? '').localeCompare(b.long ?? ''))) {
      const flags = o.short ? `${o.short}, ${o.long}` : `    ${o.long}`;
      out.push(`    ${flags}=${defaultText(o)}:`, `\t${o.description}`, '');
    }
  }
  const usage = cmd.usage();
  out.push('Usage:', `  ${path(cmd)}${usage ? ` ${usage}` : ''} [options]`, '');
  if (subs.length) out.push(`Use "${path(cmd)} <command> --help" for more information about a given command.`);
  out.push('Use "kubectl options" for a list of global command-line options (applies to all commands).', '');
  return out.join('\n');
}
