import { expect } from 'vitest';
import { call } from './harness.js';
import { normalise, type KubectlPair, type KubectlResult } from './kubectl-compare.js';

/**
 * Side-by-side runs of commands that change objects: ours works in namespace `k8ts-o`, the real kubectl in `k8ts-r`,
 * on twin objects made the same way, so each sees the state its own earlier commands left.
 */
export interface Twins {
  /** Creates `obj` (namespaced kinds in both namespaces; `path` is the collection path with `NS` for the namespace). */
  create(path: string, obj: Record<string, unknown>): Promise<void>;
  /** Both kubectls on `args` (`NS` in them replaced by each one's namespace, plus `-n` of it unless not namespaced); expects the same code, stdout and stderr. */
  same(args: string[], stdin?: string, opts?: { namespaced?: boolean }): Promise<{ ours: KubectlResult; real: KubectlResult }>;
  /** GETs the twin objects (`path` with `NS`). */
  get(path: string): Promise<{ ours: any; real: any }>;
}

export const NS_OURS = 'k8ts-o';
export const NS_REAL = 'k8ts-r';

/** Output with the namespace names, uids, resourceVersions and timestamps made equal, then kubectl-normalised. */
export function comparable(text: string): string {
  return normalise(text.replaceAll(NS_OURS, 'NS').replaceAll(NS_REAL, 'NS')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UID')
    .replace(/(resourceVersion"?: ?)"?\d+"?/g, '$1RV')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIME'));
}

export async function makeTwins(url: string, k: KubectlPair): Promise<Twins> {
  for (const name of [NS_OURS, NS_REAL]) await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return {
    async create(path, obj) {
      for (const ns of path.includes('NS') ? [NS_OURS, NS_REAL] : ['']) {
        const r = await call(url, 'POST', path.replace('NS', ns), obj);
        if (r.status !== 201) throw new Error(`create ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    },
    async same(args, stdin, opts = {}) {
      const ns = opts.namespaced === false ? [[], []] : [['-n', NS_OURS], ['-n', NS_REAL]];
      const ours = await k.ours([...args.map((a) => a.replaceAll('NS', NS_OURS)), ...ns[0]], stdin);
      const real = await k.real([...args.map((a) => a.replaceAll('NS', NS_REAL)), ...ns[1]], stdin);
      expect({ code: ours.code, stdout: comparable(ours.stdout), stderr: comparable(ours.stderr) })
        .toEqual({ code: real.code, stdout: comparable(real.stdout), stderr: comparable(real.stderr) });
      return { ours, real };
    },
    async get(path) {
      const [o, r] = await Promise.all([NS_OURS, NS_REAL].map((ns) => call(url, 'GET', path.replace('NS', ns))));
      return { ours: o.body, real: r.body };
    },
  };
}
