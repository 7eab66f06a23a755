import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from './decode.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const cases = (JSON.parse(readFileSync(path.join(testdata, 'cases.json'), 'utf8')) as { name: string; args: string[]; noCapture?: boolean }[])
  .filter((c) => !c.noCapture);
const pb = (name: string) => readFileSync(path.join(testdata, `${name}.pb`));

describe('protobuf bodies the real kubectl v1.32 sends (testdata/capture.mjs)', () => {
  for (const c of cases.filter((x) => existsSync(path.join(testdata, `${x.name}.json`)))) {
    it(`kubectl ${c.args.join(' ')}: decodes to what --dry-run=client -o json prints`, () => {
      const want = JSON.parse(readFileSync(path.join(testdata, `${c.name}.json`), 'utf8'));
      expect(decodeProtobuf(pb(c.name))).toStrictEqual(want);
    });
  }

  it('kubectl create token robot --duration=1h --audience=api: a TokenRequest', () => {
    expect(decodeProtobuf(pb('token'))).toStrictEqual({
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { audiences: ['api'], expirationSeconds: 3600 },
      status: { token: '', expirationTimestamp: null },
    });
  });

  it('kubectl drain --disable-eviction --grace-period=5: DeleteOptions', () => {
    expect(decodeProtobuf(pb('delete-options'))).toStrictEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
  });
});
