import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { run } from '@k8ts/kubectl';

/** What one kubectl invocation did. */
export interface KubectlResult { stdout: string; stderr: string; code: number }

/** A scratch directory with a kubeconfig for `server`, and both kubectls (ours in-process, the real one) on it. */
export interface KubectlPair {
  dir: string;
  kubeconfig: string;
  /** Ours, in this process (fast): `run()` of @k8ts/kubectl with captured streams. */
  ours(args: string[], stdin?: string, env?: Record<string, string>): Promise<KubectlResult>;
  /** The real kubectl on PATH, with its own fresh discovery cache. */
  real(args: string[], stdin?: string, env?: Record<string, string>): Promise<KubectlResult>;
  /** Both on the same arguments, one after the other (ours first). */
  both(args: string[], stdin?: string, env?: Record<string, string>): Promise<{ ours: KubectlResult; real: KubectlResult }>;
  /** Both on `args`, expected to agree as `expectSame` says; ours' result. */
  same(args: string[], opts?: SameOptions & { stdin?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  file(name: string, text: string): string;
  cleanup(): void;
}

/** Ours, in this process: `run()` of @k8ts/kubectl on `env`, with `stdin` and its output captured. */
export async function runOurs(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<KubectlResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    in: Readable.from([stdin]),
    out: { write: (s: string) => { stdout += s; return true; } },
    err: { write: (s: string) => { stderr += s; return true; } },
  }, env);
  return { stdout, stderr, code };
}

/** The real kubectl on PATH on `env`, with its discovery cache in `cacheDir`; killed after a minute. */
export function runReal(args: string[], env: NodeJS.ProcessEnv, cacheDir: string, stdin = ''): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', [`--cache-dir=${cacheDir}`, ...args], { env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString(), code: code ?? 1 });
    });
    child.stdin.on('error', () => undefined); // kubectl may exit without reading its stdin
    child.stdin.end(stdin);
  });
}

/** How `expectSame` compares. */
export interface SameOptions {
  /** Applied to stdout and stderr of both before comparing; `normalise` unless given (`exact` for byte for byte). */
  scrub?: (text: string) => string;
  /** Named in the compared values, so a failure says which command it was. */
  args?: string[];
  /** `expect.soft`: the test goes on after a difference, to report them all. */
  soft?: boolean;
}

/** klog's error lines (`E1202 12:00:00.000000 …`, times and source lines differ) masked as `KLOG`; the rest byte for byte. */
export const klogMasked = (text: string): string => text.replace(/^E\d{4} .*\n/gm, 'KLOG\n');

/** The identity: output compared byte for byte. */
export const exact = (text: string): string => text;

/** Expects ours and the real kubectl's results to have the same exit code and the same stdout and stderr, scrubbed. */
export function expectSame(ours: KubectlResult, real: KubectlResult, { scrub = normalise, args, soft = false }: SameOptions = {}): void {
  const view = (r: KubectlResult) => ({ ...(args ? { args } : {}), code: r.code, stdout: scrub(r.stdout), stderr: scrub(r.stderr) });
  (soft ? expect.soft : expect)(view(ours)).toEqual(view(real));
}

/** Writes a kubeconfig for `server` into a fresh directory and returns runners for both kubectls. */
export function kubectlPair(server: string, namespace?: string): KubectlPair {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-kubectl-pair-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', '- name: test', '  cluster:', `    server: ${server}`,
    'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test', ...(namespace ? [`    namespace: ${namespace}`] : []),
    'users:', '- name: test', '  user: {}', '',
  ].join('\n'));
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
  const ours = (args: string[], stdin = '', extra: Record<string, string> = {}) => runOurs(args, { ...env, ...extra }, stdin);
  const real = (args: string[], stdin = '', extra: Record<string, string> = {}) => runReal(args, { ...env, ...extra }, `${dir}/cache`, stdin);
  const both = async (args: string[], stdin?: string, extra?: Record<string, string>) => ({ ours: await ours(args, stdin, extra), real: await real(args, stdin, extra) });
  return {
    dir, kubeconfig, ours, real, both,
    same: async (args, opts = {}) => {
      const r = await both(args, opts.stdin, opts.env);
      expectSame(r.ours, r.real, { ...opts, args });
      return r.ours;
    },
    file: (name, text) => { const f = path.join(dir, name); writeFileSync(f, text); return f; },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Output made comparable: klog lines (`E1202 …`) dropped, runs of spaces collapsed (column padding differs when
 * AGE values differ), AGE-like cells (`5s`, `3m2s`, `<invalid>`) replaced by `AGE`.
 */
export function normalise(text: string): string {
  return text.split('\n')
    .filter((l) => !/^[IWEF]\d{4} \d\d:\d\d:\d\d/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trimEnd().replace(/(^| )(\d+d)?(\d+h)?(\d+m)?(\d+s)?(?= |$)/g, (m, sp: string, ...parts: string[]) => (parts.slice(0, 4).some(Boolean) ? `${sp}AGE` : m))
      // Events' `(x2 over 3s)`: the two runs can straddle a second.
      .replace(/ over (\d+[dhms])+\)/g, ' over AGE)'))
    .join('\n');
}
