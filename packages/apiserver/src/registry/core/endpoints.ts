import type { Endpoints } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { each, fillZero } from '../shared/defaults.js';
import { age, AGE, column, joinHostPort, NAME, nameOf, type Printer } from '../shared/printing.js';

/** ENDPOINTS of an Endpoints object: up to three `ip:port`, then `+ N more...` (upstream formatEndpoints). */
function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    // Headless services may have addresses without ports.
    const ports: (number | undefined)[] = ss.ports?.length ? ss.ports.map((p) => p.port) : [undefined];
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length < 3) list.push(port === undefined ? a.ip : joinHostPort(a.ip, port));
      }
    }
  }
  return count > 3 ? `${list.join(',')} + ${count - 3} more...` : list.join(',');
}

const printer: Printer = {
  columns: [NAME, column('Endpoints', 'The addresses and ports backing the service.'), AGE],
  row: (obj, now) => [nameOf(obj), formatEndpoints(obj as Endpoints), age(obj, now)],
};

/** Endpoints (upstream's pkg/registry/core/endpoint). */
export const endpointsStrategy = defineStrategy('', 'v1', 'endpoints', {
  defaults: (ep) => each(ep.subsets, (ss) => each(ss.ports, (p) => fillZero(p, 'protocol', 'TCP'))),
  printer,
});
