import { describe, expect, it } from 'vitest';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { buildRouteTable, matchRoute, normalizeHost, servesIngress, tlsHostMatches, type ClassSelection } from './routes.js';

const ours: ClassSelection = { className: 'k8ts', isDefault: true };

type PathSpec = [path: string, type: string, service: string, port?: number | string];
function ingress(name: string, rules: { host?: string; paths: PathSpec[] }[], extra: Partial<Ingress['spec']> = {}, meta: Record<string, unknown> = {}): Ingress {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec: {
      ingressClassName: 'k8ts',
      ...extra,
      rules: rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: { paths: r.paths.map(([path, pathType, svc, port = 80]) => ({ path, pathType, backend: { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } } })) },
      })),
    },
  };
}

const svcFor = (t: ReturnType<typeof buildRouteTable>, host: string | undefined, path: string) => {
  const m = matchRoute(t, host, path);
  return m ? `${m.backend.service}:${m.backend.port.number ?? m.backend.port.name}` : '404';
};

describe('Ingress path matching (the Ingress spec\'s examples table)', () => {
  // https://kubernetes.io/docs/concepts/services-networking/ingress/#examples
  const cases: [kind: string, paths: string[], request: string, matches: boolean][] = [
    ['Prefix', ['/'], '/', true], ['Prefix', ['/'], '/anything', true],
    ['Exact', ['/foo'], '/foo', true], ['Exact', ['/foo'], '/bar', false],
    ['Exact', ['/foo'], '/foo/', false], ['Exact', ['/foo/'], '/foo', false],
    ['Prefix', ['/foo'], '/foo', true], ['Prefix', ['/foo'], '/foo/', true],
    ['Prefix', ['/foo/'], '/foo', true], ['Prefix', ['/foo/'], '/foo/', true],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', false], ['Prefix', ['/aaa/bbb'], '/aaa/bbb', true],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', true], ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', true],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', true], ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', false],
    ['ImplementationSpecific', ['/aaa/bbb'], '/aaa/bbb/ccc', true],
  ];
  it.each(cases)('%s %j, request %s → %s', (kind, paths, request, matches) => {
    const t = buildRouteTable([ingress('a', [{ paths: paths.map((p) => [p, kind, 'svc'] as PathSpec) }])], ours);
    expect(svcFor(t, 'any.host', request) !== '404').toBe(matches);
  });

  it('takes the longest match, Exact before Prefix of the same path, across rules and Ingresses', () => {
    const t = buildRouteTable([
      ingress('a', [{ paths: [['/', 'Prefix', 'root'], ['/aaa', 'Prefix', 'aaa']] }]),
      ingress('b', [{ paths: [['/aaa/bbb', 'Prefix', 'bbb'], ['/aaa', 'Exact', 'aaa-exact']] }]),
    ], ours);
    expect(svcFor(t, 'x', '/aaa/bbb/c')).toBe('bbb:80');
    expect(svcFor(t, 'x', '/aaa')).toBe('aaa-exact:80');
    expect(svcFor(t, 'x', '/aaa/')).toBe('aaa:80');
    expect(svcFor(t, 'x', '/zzz')).toBe('root:80');
  });

  it('gives a host and path two Ingresses both define to the older one', () => {
    const older = ingress('old', [{ host: 'a.example.com', paths: [['/', 'Prefix', 'first']] }], {}, { creationTimestamp: '2026-01-01T00:00:00Z' });
    const younger = ingress('new', [{ host: 'a.example.com', paths: [['/', 'Prefix', 'second']] }], {}, { creationTimestamp: '2026-02-01T00:00:00Z' });
    expect(svcFor(buildRouteTable([younger, older], ours), 'a.example.com', '/')).toBe('first:80');
  });
});

describe('Ingress host matching', () => {
  const t = buildRouteTable([ingress('hosts', [
    { host: 'foo.bar.com', paths: [['/', 'Prefix', 'exact']] },
    { host: '*.bar.com', paths: [['/', 'Prefix', 'wild']] },
    { paths: [['/', 'Prefix', 'any']] },
  ])], ours);
  it.each([
    ['foo.bar.com', 'exact'], ['FOO.bar.com:8080', 'exact'], ['baz.bar.com', 'wild'], ['bar.com', 'any'],
    ['baz.foo.bar.com', 'any'], ['other.org', 'any'], [undefined, 'any'],
  ])('%s → %s', (host, svc) => {
    expect(svcFor(t, host, '/')).toBe(`${svc}:80`);
  });

  it('sends a host whose rules match no path to the default backend, or 404 without one', () => {
    const rules = [{ host: 'a.example.com', paths: [['/app', 'Prefix', 'app']] as PathSpec[] }];
    expect(svcFor(buildRouteTable([ingress('x', rules)], ours), 'a.example.com', '/other')).toBe('404');
    const withDefault = ingress('x', rules, { defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } } });
    expect(svcFor(buildRouteTable([withDefault], ours), 'a.example.com', '/other')).toBe('fallback:http');
    expect(svcFor(buildRouteTable([withDefault], ours), 'unknown.host', '/')).toBe('fallback:http');
  });

  it('normalizes the Host header', () => {
    expect([normalizeHost('Example.COM:443'), normalizeHost('[::1]:80'), normalizeHost(undefined)]).toEqual(['example.com', '[::1]', '']);
  });

  it('matches TLS hosts exactly or one label under a wildcard', () => {
    expect([tlsHostMatches('a.b.com', 'a.b.com'), tlsHostMatches('*.b.com', 'a.b.com'), tlsHostMatches('*.b.com', 'x.a.b.com'), tlsHostMatches('*.b.com', 'b.com')])
      .toEqual([true, true, false, false]);
  });
});

describe('Ingress class selection', () => {
  const base = ingress('i', [{ paths: [['/', 'Prefix', 's']] }]);
  const noClass: Ingress = { ...base, spec: { ...base.spec, ingressClassName: undefined } };
  it.each([
    ['its class named', base, ours, true],
    ['another class named', { ...base, spec: { ...base.spec, ingressClassName: 'nginx' } }, ours, false],
    ['no class, ours the default', noClass, ours, true],
    ['no class, ours not the default', noClass, { className: 'k8ts', isDefault: false }, false],
    ['the legacy annotation naming it', { ...noClass, metadata: { ...noClass.metadata, annotations: { 'kubernetes.io/ingress.class': 'k8ts' } } }, { className: 'k8ts', isDefault: false }, true],
    ['the legacy annotation naming another', { ...noClass, metadata: { ...noClass.metadata, annotations: { 'kubernetes.io/ingress.class': 'nginx' } } }, ours, false],
  ] as const)('%s', (_what, ing, sel, served) => {
    expect(servesIngress(ing as Ingress, sel)).toBe(served);
    expect(buildRouteTable([ing as Ingress], sel).ingresses).toHaveLength(served ? 1 : 0);
  });

  it('leaves out Ingresses being deleted, and collects TLS sections', () => {
    const tls = ingress('t', [{ host: 'a.com', paths: [['/', 'Prefix', 's']] }], { tls: [{ hosts: ['A.com'], secretName: 'a-tls' }] });
    const gone = ingress('g', [{ paths: [['/', 'Prefix', 's']] }], {}, { deletionTimestamp: '2026-01-02T00:00:00Z' });
    const t = buildRouteTable([tls, gone], ours);
    expect(t.ingresses).toEqual(['default/t']);
    expect(t.tls).toEqual([{ hosts: ['a.com'], namespace: 'default', secretName: 'a-tls', ingress: 'default/t' }]);
  });
});
