import { describe, expect, it } from 'vitest';
import { JsonPath, relaxedJsonPath } from './jsonpath.js';

const data = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { app: 'x' } }, status: { conditions: [{ type: 'Ready', status: 'True' }], n: 2 } },
    { metadata: { name: 'b' }, status: { conditions: [{ type: 'Ready', status: 'False' }], n: 5 } },
  ],
};

describe('JsonPath (kubectl templates)', () => {
  it.each([
    ['{.items[*].metadata.name}', 'a b'],
    ['{.items[0].metadata.name}', 'a'],
    ['{.items[-1].metadata.name}', 'b'],
    ['{.items[0:1].metadata.name}', 'a'],
    ['{range .items[*]}{.metadata.name}:{.status.n}{"\\n"}{end}', 'a:2\nb:5\n'],
    ['{.items[?(@.status.n>3)].metadata.name}', 'b'],
    ['{.items[*].status.conditions[?(@.type=="Ready")].status}', 'True False'],
    ["{.items[0].metadata.labels['app']}", 'x'],
    ['{..name}', 'a b'],
    ['{.items[0].metadata.labels}', '{"app":"x"}'],
    // Maps print as Go's json.Marshal does, keys sorted.
    ['{.items[0].status}', '{"conditions":[{"status":"True","type":"Ready"}],"n":2}'],
    ['{.missing}', ''],
    ['name={.kind}', 'name=List'],
  ])('%s', (tpl, want) => {
    expect(new JsonPath(tpl).execute(data)).toBe(want);
  });

  it('relaxes custom-columns and sort-by paths as kubectl', () => {
    expect(relaxedJsonPath('.metadata.name')).toBe('{.metadata.name}');
    expect(relaxedJsonPath('metadata.name')).toBe('{.metadata.name}');
    expect(relaxedJsonPath('{.a}')).toBe('{.a}');
  });
});
