import type { EndpointSlice } from '@k8ts/api';
import { defineStrategy } from '../strategy.js';
import { each, fill } from '../shared/defaults.js';
import { age, AGE, column, listWithMore, NAME, nameOf, type Printer } from '../shared/printing.js';
import { notSupported, required, type Errors, type Obj } from '../shared/validation.js';

function defaultEndpointSlice(slice: Obj): void {
  each(slice.ports, (p) => {
    fill(p, 'name', '');
    fill(p, 'protocol', 'TCP');
  });
}

function validateEndpointSlice(slice: Obj): Errors {
  const types = ['FQDN', 'IPv4', 'IPv6'];
  if (!slice.addressType) return [required('addressType')];
  return types.includes(slice.addressType) ? [] : [notSupported('addressType', slice.addressType, types)];
}

const printer: Printer = {
  columns: [
    NAME,
    column('AddressType', 'The type of address carried by this slice: IPv4, IPv6 or FQDN.'),
    column('Ports', 'The ports of the endpoints in this slice.'),
    column('Endpoints', 'The addresses of the endpoints in this slice.'),
    AGE,
  ],
  row(obj, now) {
    const slice = obj as unknown as EndpointSlice;
    const ports = (slice.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*'));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses);
    return [nameOf(slice), slice.addressType ?? '', listWithMore(ports), listWithMore(addresses), age(slice, now)];
  },
};

/** discovery.k8s.io/v1 EndpointSlices (upstream's pkg/registry/discovery/endpointslice). */
export const endpointSliceStrategy = defineStrategy('discovery.k8s.io', 'v1', 'endpointslices', {
  defaults: defaultEndpointSlice,
  validate: validateEndpointSlice,
  printer,
});
