import { describe, expect, it } from 'vitest';
import { getControllerOf, isControlledBy, newControllerRef } from './controller-ref.js';
import { REPLICASETS } from './resources.js';
import type { Pod, ReplicaSet } from './types.js';

const rs = (uid: string): ReplicaSet => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { namespace: 'd', name: 'web-1', uid } });

describe('controllerRef', () => {
  it('newControllerRef points at the owner, as controller, blocking its deletion', () => {
    expect(newControllerRef(rs('u1'), REPLICASETS)).toEqual({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u1', controller: true, blockOwnerDeletion: true,
    });
    expect(() => newControllerRef({ metadata: { name: 'x' } }, REPLICASETS)).toThrow(/needs metadata.name and metadata.uid/);
  });

  it('getControllerOf finds the one reference with controller: true', () => {
    const pod: Pod = { metadata: { name: 'p', ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c1' },
      newControllerRef(rs('u1'), REPLICASETS),
    ] } };
    expect(getControllerOf(pod)?.uid).toBe('u1');
    expect(getControllerOf({ metadata: { name: 'p' } })).toBeUndefined();
    expect(getControllerOf({ metadata: { name: 'p', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'x', controller: false }] } })).toBeUndefined();
  });

  it('isControlledBy compares uids: a new owner of the same name does not own the old dependents', () => {
    const pod: Pod = { metadata: { name: 'p', ownerReferences: [newControllerRef(rs('u1'), REPLICASETS)] } };
    expect(isControlledBy(pod, rs('u1'))).toBe(true);
    expect(isControlledBy(pod, rs('u2'))).toBe(false);
    expect(isControlledBy({ metadata: { name: 'p' } }, rs('u1'))).toBe(false);
  });
});
