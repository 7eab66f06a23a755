import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
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
  both(args: string[], stdin?: string): Promise<{ ours: KubectlResult; real: KubectlResult }>;
  file(name: string, text: string): string;
  cleanup(): void;
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
  const ours = async (args: string[], stdin = '', extra: Record<string, string> = {}): Promise<KubectlResult> => {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      in: Readable.from([stdin]),
      out: { write: (s: string) => { stdout += s; return true; } },
      err: { write: (s: string) => { stderr += s; return true; } },
    }, { ...env, ...extra });
    return { stdout, stderr, code };
  };
  const real = (args: string[], stdin = '', extra: Record<string, string> = {}): Promise<KubectlResult> => new Promise((resolve) => {
    const child = execFile('kubectl', [`--cache-dir=${dir}/cache`, ...args], { env: { ...env, ...extra }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0 });
    });
    const input = new PassThrough();
    input.pipe(child.stdin!);
    input.end(stdin);
  });
  return {
    dir, kubeconfig, ours, real,
    both: async (args, stdin) => ({ ours: await ours(args, stdin), real: await real(args, stdin) }),
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
    .map((l) => l.replace(/\s+/g, ' ').trimEnd().replace(/(^| )(\d+d)?(\d+h)?(\d+m)?(\d+s)?(?= |$)/g, (m, sp: string, ...parts: string[]) => (parts.slice(0, 4).some(Boolean) ? `${sp}AGE` : m)))
    .join('\n');
}
