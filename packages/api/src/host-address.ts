import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The host's own IPv4 address as upstream's `ChooseHostInterface` picks it (k8s.io/apimachinery/pkg/util/net): the
 * first global address of the interface holding the default route (/proc/net/route), else of any up, non-loopback
 * interface, else 127.0.0.1. What a component advertises when it binds a wildcard address and none was given —
 * in a container, its address on the container network.
 */
export function hostAddress(opts: { routes?: string; interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]> } = {}): string {
  const interfaces = opts.interfaces ?? networkInterfaces();
  const global = (name: string) => interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.'))?.address;
  for (const name of defaultRouteInterfaces(opts.routes)) {
    const address = global(name);
    if (address) return address;
  }
  for (const name of Object.keys(interfaces).sort()) {
    const address = global(name);
    if (address) return address;
  }
  return '127.0.0.1';
}

/** The interfaces of the IPv4 default routes in /proc/net/route's text, lowest metric first. */
export function defaultRouteInterfaces(routes?: string): string[] {
  let text = routes;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return [];
    }
  }
  // Iface Destination Gateway Flags RefCnt Use Metric Mask …; a default route has destination and mask 0.
  return text.split('\n').slice(1).map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] === '00000000' && f[7] === '00000000' && (parseInt(f[3], 16) & 1) === 1)
    .sort((a, b) => Number(a[6]) - Number(b[6]))
    .map((f) => f[0]);
}
