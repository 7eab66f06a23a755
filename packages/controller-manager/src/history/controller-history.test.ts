import { describe, expect, it } from 'vitest';
import { CONTROLLERREVISIONS, STATEFULSETS, type StatefulSet } from '@k8ts/api';
import { FakeInformerFactory, RecordingClient } from '@k8ts/api/testing';
import {
  applyRevision, canonicalJSON, ControllerHistory, controllerRevisionName, equalRevision, hashControllerRevision, newControllerRevision,
  nextRevision, revisionMatches, sortControllerRevisions, templatePatch, type ControllerRevision,
} from './controller-history.js';

const set: StatefulSet = {
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'sts-uid' },
  spec: { selector: { matchLabels: { app: 'web' } }, serviceName: 'web', template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'b', image: 'img:1' }] } } },
};

describe('controller history', () => {
  it('patches the template as kubectl computes it: sorted keys, creationTimestamp null, resources {}, $patch replace', () => {
    expect(JSON.stringify(templatePatch(set))).toBe(
      '{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"image":"img:1","name":"b","resources":{}}]}}}}');
  });

  it('hashes the data with FNV-1 and the collision count, safe-encoded; names <owner>-<hash>', () => {
    const data = templatePatch(set);
    const h0 = hashControllerRevision(data);
    expect(h0).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(hashControllerRevision(data, 0)).not.toBe(h0);
    expect(hashControllerRevision(data, 1)).not.toBe(hashControllerRevision(data, 0));
    expect(hashControllerRevision(JSON.parse(JSON.stringify(data)))).toBe(h0);
    expect(controllerRevisionName('x'.repeat(300), 'abc')).toHaveLength(227);
    const rev = newControllerRevision(set, STATEFULSETS, { app: 'web' }, data, 3, 0);
    expect(rev.metadata).toMatchObject({ name: `web-${hashControllerRevision(data, 0)}`, labels: { app: 'web', 'controller.kubernetes.io/hash': hashControllerRevision(data, 0) } });
    expect(rev.revision).toBe(3);
  });

  it('compares revisions by data and hash label, sorts by revision, applies the template back', () => {
    const a = newControllerRevision(set, STATEFULSETS, {}, templatePatch(set), 2, 0);
    const b = { ...newControllerRevision(set, STATEFULSETS, {}, templatePatch(set), 1, 0), metadata: { ...a.metadata, name: 'other' } };
    expect(equalRevision(a, b)).toBe(true);
    const changed = { ...set, spec: { ...set.spec!, template: { ...set.spec!.template, spec: { containers: [{ name: 'b', image: 'img:2' }] } } } };
    const c = newControllerRevision(changed, STATEFULSETS, {}, templatePatch(changed), 3, 0);
    expect(equalRevision(a, c)).toBe(false);
    expect(sortControllerRevisions([c, a, b]).map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(nextRevision([b, a, c])).toBe(4);
    expect(applyRevision(changed, a).spec!.template).toEqual({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'b', image: 'img:1', resources: {} }] } });
    expect(revisionMatches(set, a)).toBe(true);
    expect(revisionMatches(changed, a)).toBe(false);
    expect(canonicalJSON({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('creates under the next name when the hash collides with other data, bumping the collision count', async () => {
    const data = templatePatch(set);
    const taken: ControllerRevision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: `web-${hashControllerRevision(data, 0)}`, namespace: 'default' }, data: { other: true }, revision: 1,
    };
    const client = new RecordingClient({ objects: [taken] });
    const history = new ControllerHistory(client, new FakeInformerFactory().informerFor<ControllerRevision>(CONTROLLERREVISIONS));
    const count = { value: 0 };
    const created = await history.create(set, newControllerRevision(set, STATEFULSETS, {}, data, 2, 0), count);
    expect(count.value).toBe(1);
    expect(created.metadata!.name).toBe(`web-${hashControllerRevision(data, 1)}`);
    // The same data again: the existing revision, no new collision.
    const again = await history.create(set, newControllerRevision(set, STATEFULSETS, {}, data, 2, 1), count);
    expect(again.metadata!.name).toBe(created.metadata!.name);
    expect(count.value).toBe(1);
  });
});
