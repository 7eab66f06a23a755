import { describe, expect, it } from 'vitest';
import { admit } from './default-toleration-seconds.js';

const NOT_READY = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };

describe('DefaultTolerationSeconds admission', () => {
  it.each([
    ['no tolerations', undefined, [NOT_READY, UNREACHABLE]],
    ['other tolerations are kept, defaults appended', [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }], [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }, NOT_READY, UNREACHABLE]],
    ['its own not-ready toleration stays as given', [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }],
      [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }, UNREACHABLE]],
    ['an empty effect covers NoExecute', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' }, NOT_READY]],
    ['an empty key tolerates everything', [{ operator: 'Exists' }], [{ operator: 'Exists' }]],
    ['a NoSchedule toleration does not cover NoExecute', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }],
      [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, NOT_READY, UNREACHABLE]],
  ])('%s', (_name, tolerations, want) => {
    const pod = { spec: { containers: [], ...(tolerations ? { tolerations } : {}) } };
    admit(pod);
    expect(pod.spec.tolerations).toEqual(want);
    admit(pod); // idempotent: an update of an admitted pod adds nothing
    expect(pod.spec.tolerations).toEqual(want);
  });

  it('uses the configured seconds, and leaves a malformed list to validation', () => {
    const pod: { spec: { tolerations?: unknown } } = { spec: {} };
    admit(pod as never, { notReadySeconds: 10, unreachableSeconds: 20 });
    expect(pod.spec.tolerations).toEqual([{ ...NOT_READY, tolerationSeconds: 10 }, { ...UNREACHABLE, tolerationSeconds: 20 }]);
    const bad = { spec: { tolerations: 'x' } };
    admit(bad as never);
    expect(bad.spec.tolerations).toBe('x');
  });
});
