import { describe, expect, it } from 'vitest';
import * as index from './index.js';
import { RESOURCES } from './registry.js';
import * as constants from './resources.js';

describe('resource constants', () => {
  it('name every registry row, as its plural in capitals (`_V1` for a version served from another\'s storage), exported from @k8ts/api', () => {
    for (const def of RESOURCES) {
      const name = def.resource.toUpperCase() + (def.storageVersion ? `_${def.version.toUpperCase()}` : '');
      expect((constants as Record<string, unknown>)[name], `resources.ts lacks ${name} for ${def.resource}`).toBe(def);
      expect((index as Record<string, unknown>)[name], `index.ts does not export ${name}`).toBe(def);
    }
    expect(Object.keys(constants)).toHaveLength(RESOURCES.length);
  });
});
