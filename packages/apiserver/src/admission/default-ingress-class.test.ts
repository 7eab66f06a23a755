import { describe, expect, it } from 'vitest';
import { defaultIngressClass } from './default-ingress-class.js';

const cls = (name: string, created: string, isDefault?: string) => ({
  metadata: { name, creationTimestamp: created, ...(isDefault === undefined ? {} : { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } }) },
});

describe('defaultIngressClass', () => {
  it.each([
    ['none marked', [cls('a', '2026-01-01T00:00:00Z'), cls('b', '2026-01-02T00:00:00Z', 'false')], undefined],
    ['one marked', [cls('a', '2026-01-01T00:00:00Z', 'true'), cls('b', '2026-01-02T00:00:00Z')], 'a'],
    ['the newest of several marked', [cls('old', '2026-01-01T00:00:00Z', 'true'), cls('new', '2026-03-01T00:00:00Z', 'true'), cls('mid', '2026-02-01T00:00:00Z', 'true')], 'new'],
  ])('%s', (_what, classes, want) => {
    expect(defaultIngressClass(classes)?.metadata?.name).toBe(want);
  });
});
