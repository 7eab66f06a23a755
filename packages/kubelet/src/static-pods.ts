import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Logger, Pod } from '@k8ts/api';

/** Annotations upstream puts on static pods and their mirrors. */
export const STATIC = {
  hash: 'kubernetes.io/config.hash',
  mirror: 'kubernetes.io/config.mirror',
  source: 'kubernetes.io/config.source',
} as const;

/**
 * Reads the static pod manifests of a directory (one Pod per file, YAML or JSON; dotfiles skipped) as upstream's
 * file source: names get the node name appended, the uid is a hash of the manifest (stable across kubelet
 * restarts, so running containers are adopted), and the pod is bound to this node. Bad files are logged and skipped.
 */
export async function readStaticPods(dir: string, nodeName: string, log: Logger): Promise<Pod[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => !f.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const pods: Pod[] = [];
  for (const file of files) {
    const full = path.join(dir, file);
    try {
      const text = await readFile(full, 'utf8');
      const doc = YAML.parse(text) as Pod | null;
      if (!doc || doc.kind !== 'Pod' || !doc.metadata?.name || !doc.spec?.containers?.length) {
        log.warn({ file: full }, 'static pod manifest is not a Pod with a name and containers; skipped');
        continue;
      }
      const hash = createHash('md5').update(`${nodeName}\n${full}\n${text}`).digest('hex');
      const spec = structuredClone(doc.spec);
      spec.nodeName = nodeName;
      spec.restartPolicy ??= 'Always';
      spec.terminationGracePeriodSeconds ??= 30;
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        (c as { imagePullPolicy?: string }).imagePullPolicy ??= c.image?.endsWith(':latest') || !c.image?.includes(':') ? 'Always' : 'IfNotPresent';
      }
      pods.push({
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          ...doc.metadata,
          name: `${doc.metadata.name}-${nodeName}`,
          namespace: doc.metadata.namespace ?? 'default',
          uid: hash,
          annotations: { ...doc.metadata.annotations, [STATIC.hash]: hash, [STATIC.source]: 'file' },
        },
        spec,
        status: { phase: 'Pending' },
      });
    } catch (err) {
      log.warn({ err, file: full }, 'cannot read static pod manifest; skipped');
    }
  }
  return pods;
}
