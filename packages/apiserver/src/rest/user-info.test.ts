import { describe, expect, it } from 'vitest';
import { bearerToken, impersonated, UNSECURED_USER } from './user-info.js';

describe('impersonated (upstream WithImpersonation)', () => {
  it('without Impersonate-User the caller stays', () => {
    expect(impersonated(UNSECURED_USER, {})).toBe(UNSECURED_USER);
    expect(UNSECURED_USER).toEqual({ username: 'system:unsecured', groups: ['system:masters', 'system:authenticated'] });
  });

  it('a user with groups, uid and extras, system:authenticated added', () => {
    expect(impersonated(UNSECURED_USER, {
      'impersonate-user': ['jane'], 'impersonate-group': ['dev', 'ops'], 'impersonate-uid': ['u1'],
      'impersonate-extra-scopes': ['view', 'edit'], 'impersonate-extra-example.com%2fteam': ['blue'],
    })).toEqual({ username: 'jane', uid: 'u1', groups: ['dev', 'ops', 'system:authenticated'], extra: { scopes: ['view', 'edit'], 'example.com/team': ['blue'] } });
  });

  it('a service account gets its groups; system:anonymous gets system:unauthenticated', () => {
    expect(impersonated(UNSECURED_USER, { 'impersonate-user': ['system:serviceaccount:ns1:robot'] })).toEqual({
      username: 'system:serviceaccount:ns1:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'],
    });
    expect(impersonated(UNSECURED_USER, { 'impersonate-user': ['system:anonymous'] })).toEqual({ username: 'system:anonymous', groups: ['system:unauthenticated'] });
    expect(impersonated(UNSECURED_USER, { 'impersonate-user': ['x'], 'impersonate-group': ['system:unauthenticated'] }).groups).toEqual(['system:unauthenticated']);
  });

  it('groups without a user are an error, as upstream', () => {
    expect(() => impersonated(UNSECURED_USER, { 'impersonate-group': ['dev'] })).toThrow('without impersonating a user');
  });

  it('reads a bearer token', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('Basic xyz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
