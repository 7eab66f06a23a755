import { describe, expect, it } from 'vitest';
import { ApiError, type KubeObject } from '@k8ts/api';
import {
  createReview, validateLocalSubjectAccessReview, validateSelfSubjectAccessReview, validateSubjectAccessReview, type ReviewRequest,
} from './reviews.js';
import { UNSECURED_USER } from './user-info.js';

const review = (kind: string, rest: Record<string, unknown>) =>
  ({ kind, apiVersion: kind.includes('Token') || kind === 'SelfSubjectReview' ? 'authentication.k8s.io/v1' : 'authorization.k8s.io/v1', ...rest }) as KubeObject;
const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
const request = (over: Partial<ReviewRequest> = {}): ReviewRequest => ({
  user: UNSECURED_USER, authenticate: async () => ({ authenticated: false, error: 'invalid bearer token' }), ...over,
});

describe('access review validation (upstream pkg/apis/authorization/validation)', () => {
  it('needs exactly one of resourceAttributes and nonResourceAttributes', () => {
    expect(messages(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { spec: {} })))).toEqual([
      'spec.resourceAttributes: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    ]);
    const both = { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/healthz', verb: 'get' } };
    expect(messages(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { spec: both })))).toEqual([
      'spec.nonResourceAttributes: cannot be specified in combination with resourceAttributes',
    ]);
    expect(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { metadata: { creationTimestamp: null }, spec: { resourceAttributes: { verb: 'get' } } }))).toEqual([]);
  });

  it('a SubjectAccessReview names a user or groups, and has empty metadata', () => {
    const errs = validateSubjectAccessReview(review('SubjectAccessReview', { metadata: { name: 'x' }, spec: { nonResourceAttributes: { path: '/', verb: 'get' } } }));
    expect(messages(errs)).toEqual(['spec.user: at least one of user or group must be specified', 'metadata: must be empty']);
    expect(validateSubjectAccessReview(review('SubjectAccessReview', { spec: { groups: ['dev'], resourceAttributes: { verb: 'get' } } }))).toEqual([]);
  });

  it('a LocalSubjectAccessReview stays in its namespace and takes no non-resource URL', () => {
    const local = (spec: unknown) => validateLocalSubjectAccessReview(review('LocalSubjectAccessReview', { metadata: { namespace: 'ns1' }, spec }));
    expect(messages(local({ user: 'u', resourceAttributes: { namespace: 'ns2', verb: 'get' } }))).toEqual(['spec.resourceAttributes.namespace: must match metadata.namespace']);
    expect(messages(local({ user: 'u', nonResourceAttributes: { path: '/', verb: 'get' } }))).toEqual(['spec.nonResourceAttributes: disallowed on this kind of request']);
    expect(local({ user: 'u', resourceAttributes: { namespace: 'ns1', verb: 'get' } })).toEqual([]);
  });

  it('a field or label selector is raw or requirements, not both and not neither', () => {
    const sel = (fieldSelector: unknown) => messages(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { spec: { resourceAttributes: { verb: 'list', fieldSelector } } })));
    expect(sel({})).toEqual(['spec.resourceAttributes.fieldSelector.requirements: when spec.resourceAttributes.fieldSelector is specified, requirements or rawSelector is required']);
    expect(sel({ rawSelector: 'a=b', requirements: [{ key: 'a', operator: 'In', values: ['b'] }] })).toEqual(['spec.resourceAttributes.fieldSelector.rawSelector: may not specified at the same time as requirements']);
    expect(sel({ rawSelector: 'spec.nodeName=n1' })).toEqual([]);
  });
});

describe('createReview', () => {
  it('answers access reviews as AlwaysAllow: allowed, no reason, the posted object echoed', async () => {
    const posted = review('SelfSubjectAccessReview', { metadata: { creationTimestamp: null }, spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } } });
    expect(await createReview('SelfSubjectAccessReview', posted, request())).toEqual({
      kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } }, status: { allowed: true },
    });
  });

  it('refuses an invalid review with 422 and upstream\'s message', async () => {
    const err = await createReview('SubjectAccessReview', review('SubjectAccessReview', { spec: { resourceAttributes: { verb: 'get' } } }), request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).message).toBe('SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
  });

  it('a LocalSubjectAccessReview needs the path\'s namespace', async () => {
    const obj = review('LocalSubjectAccessReview', { metadata: { namespace: 'a' }, spec: { user: 'u', resourceAttributes: { namespace: 'a', verb: 'get' } } });
    expect(((await createReview('LocalSubjectAccessReview', obj, request({ namespace: 'a' }))) as { status: unknown }).status).toEqual({ allowed: true });
    await expect(createReview('LocalSubjectAccessReview', obj, request({ namespace: 'b' }))).rejects.toThrow('spec.resourceAttributes.namespace must match namespace: b');
  });

  it('SelfSubjectRulesReview: AlwaysAllow\'s rules, a new object; no namespace is a 400', async () => {
    const out = await createReview('SelfSubjectRulesReview', review('SelfSubjectRulesReview', { spec: { namespace: 'default' } }), request());
    expect(out).toEqual({
      kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: {},
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false,
      },
    });
    await expect(createReview('SelfSubjectRulesReview', review('SelfSubjectRulesReview', { spec: {} }), request())).rejects.toThrow('no namespace on request');
  });

  it('SelfSubjectReview: the requesting user, with a creation time', async () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const user = { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } };
    expect(await createReview('SelfSubjectReview', review('SelfSubjectReview', { metadata: {} }), request({ user, now }))).toEqual({
      kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: '2026-01-02T03:04:05Z' },
      status: { userInfo: user },
    });
  });

  it('TokenReview: the authenticator\'s answer; a failure has an empty user and the error; no token is a 400', async () => {
    const ok = request({ authenticate: async (_t, auds) => ({ authenticated: true, user: { username: 'system:serviceaccount:a:b', groups: ['g'] }, audiences: auds ?? ['x'] }) });
    const good = await createReview('TokenReview', review('TokenReview', { spec: { token: 't', audiences: ['api'] } }), ok);
    expect((good as { status: unknown }).status).toEqual({ authenticated: true, user: { username: 'system:serviceaccount:a:b', groups: ['g'] }, audiences: ['api'] });
    const bad = await createReview('TokenReview', review('TokenReview', { spec: { token: 'nope' } }), request());
    expect((bad as { status: unknown }).status).toEqual({ user: {}, error: 'invalid bearer token' });
    await expect(createReview('TokenReview', review('TokenReview', { spec: {} }), request())).rejects.toThrow('token is required for TokenReview in authentication');
  });
});
