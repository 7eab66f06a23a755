import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifests, readManifests } from './resource-builder.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-rb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('readManifests', () => {
  it('reads multi-document YAML, JSON, Lists, directories (-R) and stdin', async () => {
    mkdirSync(path.join(dir, 'd/sub'), { recursive: true });
    writeFileSync(path.join(dir, 'd/b.yaml'), `${cm('b1')}---\n# only a comment\n---\n${cm('b2')}`);
    writeFileSync(path.join(dir, 'd/a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }] }));
    writeFileSync(path.join(dir, 'd/notes.txt'), 'not a manifest');
    writeFileSync(path.join(dir, 'd/sub/c.yml'), cm('c'));
    const names = (ms: { object: { metadata?: { name?: string } } }[]) => ms.map((m) => m.object.metadata?.name);
    expect(names(await readManifests([path.join(dir, 'd')]))).toEqual(['s', 'b1', 'b2']);
    expect(names(await readManifests([path.join(dir, 'd')], { recursive: true }))).toEqual(['s', 'b1', 'b2', 'c']);
    const fromStdin = await readManifests(['-'], { stdin: Readable.from([cm('in')]) });
    expect(fromStdin).toEqual([{ source: 'STDIN', document: 1, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'in' } } }]);
    const docs = await readManifests([path.join(dir, 'd/b.yaml')]);
    expect(docs.map((d) => d.document)).toEqual([1, 3]);
  });

  it('refuses URLs and missing paths with clear messages', async () => {
    await expect(readManifests(['https://example.com/x.yaml'])).rejects.toThrow(/reading manifests from a URL is not supported/);
    await expect(readManifests([path.join(dir, 'nope.yaml')])).rejects.toThrow(`the path "${path.join(dir, 'nope.yaml')}" does not exist`);
  });
});

describe('parseManifests', () => {
  it('names the file, the document and the line within it on a YAML error', () => {
    const text = `${cm('a')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: [x\ndata: {}\n`;
    expect(() => parseManifests(text, 'bad.yaml')).toThrow(/^error parsing bad\.yaml: document 2: error converting YAML to JSON: yaml: line \d+: /);
  });

  it('says what is missing from an object, as kubectl', () => {
    expect(() => parseManifests('metadata: { name: x }\n', 'x.yaml')).toThrow(`unable to decode "x.yaml": Object 'Kind' is missing in '{"metadata":{"name":"x"}}'`);
    expect(() => parseManifests('- a\n', 'l.yaml')).toThrow(/cannot unmarshal array/);
  });
});
