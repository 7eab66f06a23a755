export {
  buildRouteTable, matchRoute, pathMatches, normalizeHost, rulesFor, servesIngress, tlsHostMatches, LEGACY_CLASS_ANNOTATION,
} from './routes.js';
export type { Backend, PathRoute, TlsRoute, RouteTable, ClassSelection, RouteMatch } from './routes.js';
export { resolveBackend, backendKey } from './endpoints.js';
export type { Upstream, Resolution } from './endpoints.js';
export { IngressProxy } from './proxy.js';
export type { ProxyConfig, IngressProxyOptions } from './proxy.js';
export { CertificateStore, fakeCertificate, keyPairOf } from './tls.js';
export type { KeyPair } from './tls.js';
export { IngressController, CONTROLLER_NAME, DEFAULT_CLASS_ANNOTATION } from './controller.js';
export type { IngressControllerOptions } from './controller.js';
export { listenIngress } from './server.js';
export type { IngressListeners } from './server.js';
