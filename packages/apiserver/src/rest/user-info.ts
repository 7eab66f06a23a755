import { errors } from '@k8ts/api';

/** Who made a request (upstream's user.Info, as authentication.k8s.io/v1 UserInfo spells it). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/**
 * The caller of a request with no credential k8ts recognizes. k8ts serves plain HTTP with every request allowed:
 * that is upstream's old insecure port, whose requests were this superuser (insecureSuperuser).
 */
export const UNSECURED_USER: UserInfo = { username: 'system:unsecured', groups: ['system:masters', ALL_AUTHENTICATED] };

/** The user name and groups of a service account (upstream's serviceaccount.MakeUsername and MakeGroupNames). */
export function serviceAccountUser(namespace: string, name: string): { username: string; groups: string[] } {
  return { username: `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
}

/** Header values one by one (Node joins repeated headers with ", " in `headers`; `headersDistinct` keeps them apart). */
export type DistinctHeaders = Record<string, string[] | undefined>;

/**
 * The user a request acts as (upstream's WithImpersonation filter): `Impersonate-User` replaces the caller, with
 * `Impersonate-Group` (repeated), `Impersonate-Uid` and `Impersonate-Extra-<key>` (key lower-cased and
 * percent-decoded); system:authenticated is added unless system:(un)authenticated is asked for, and
 * system:unauthenticated for system:anonymous. A service account's groups come with its name when none are asked.
 * Without Impersonate-User the other headers are an error, as upstream. k8ts authorizes everything, so every
 * caller may impersonate anyone.
 */
export function impersonated(caller: UserInfo, headers: DistinctHeaders): UserInfo {
  const user = headers['impersonate-user']?.[0];
  const groups = [...(headers['impersonate-group'] ?? [])];
  const uid = headers['impersonate-uid']?.[0];
  const extra: Record<string, string[]> = {};
  for (const [header, values] of Object.entries(headers)) {
    if (!header.startsWith('impersonate-extra-') || !values) continue;
    const raw = header.slice('impersonate-extra-'.length).toLowerCase();
    let key = raw;
    try { key = decodeURIComponent(raw); } catch { /* upstream keeps a key it cannot unescape */ }
    (extra[key] ??= []).push(...values);
  }
  if (user === undefined) {
    const asked = [
      ...groups.map((g) => `{Group  ${g}  authentication.k8s.io/v1  }`),
      ...(uid !== undefined ? [`{UID  ${uid}  authentication.k8s.io/v1  }`] : []),
      ...Object.keys(extra).map((k) => `{UserExtra  ${k}  authentication.k8s.io/v1  }`),
    ];
    if (asked.length) throw errors.internal(`requested [${asked.join(' ')}] without impersonating a user`);
    return caller;
  }
  let outGroups = groups;
  if (user.startsWith(SERVICE_ACCOUNT_PREFIX) && groups.length === 0) {
    const [namespace] = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    outGroups = serviceAccountUser(namespace, '').groups;
  }
  if (user === ANONYMOUS) {
    if (!outGroups.includes(ALL_UNAUTHENTICATED)) outGroups = [...outGroups, ALL_UNAUTHENTICATED];
  } else if (!outGroups.includes(ALL_AUTHENTICATED) && !outGroups.includes(ALL_UNAUTHENTICATED)) {
    outGroups = [...outGroups, ALL_AUTHENTICATED];
  }
  return {
    username: user, ...(uid ? { uid } : {}), groups: outGroups,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}
