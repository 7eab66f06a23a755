import { describe, expect, it } from 'vitest';
import { accessTable } from './auth.js';

describe('auth can-i --list table', () => {
  it('breaks rules down, compacts them per group, resource and name, and sorts them as kubectl does', () => {
    const table = accessTable({
      resourceRules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
        { verbs: ['watch'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web', 'api'] },
      ],
      nonResourceRules: [{ verbs: ['get', 'post'], nonResourceURLs: ['/healthz'] }],
    }, false);
    const row = (...cells: string[]) => `${cells[0].padEnd(19)}${cells[1].padEnd(20)}${cells[2].padEnd(17)}${cells[3]}\n`;
    // Sorted by rbac/v1 PolicyRule's String(), whose first field is the verbs: `[get list watch]` < `[get list]` < `[get]`.
    expect(table).toBe([
      row('Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'),
      row('pods', '[]', '[]', '[get list watch]'),
      row('pods/log', '[]', '[]', '[get list]'),
      row('', '[/healthz]', '[]', '[get]'),
      row('deployments.apps', '[]', '[api]', '[get]'),
      row('deployments.apps', '[]', '[web]', '[get]'),
      row('', '[/healthz]', '[]', '[post]'),
    ].join(''));
    expect(accessTable({}, true)).toBe('');
  });
});
