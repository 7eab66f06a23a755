import { describe, expect, it } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';
import { defaultRouteInterfaces, hostAddress } from './host-address.js';

const v4 = (address: string, internal = false): NetworkInterfaceInfo =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.0.0', mac: '00:00:00:00:00:00', cidr: `${address}/16` });

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t0100A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010011AC\t0003\t0\t0\t100\t00000000\t0\t0\t0
`;

describe('hostAddress', () => {
  it('takes the default route with the lowest metric', () => {
    expect(defaultRouteInterfaces(ROUTES)).toEqual(['eth0', 'eth1']);
    const interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('172.17.0.5')], eth1: [v4('192.168.0.7')] };
    expect(hostAddress({ routes: ROUTES, interfaces })).toBe('172.17.0.5');
  });

  it('falls back to any global address, then to loopback', () => {
    expect(hostAddress({ routes: '', interfaces: { lo: [v4('127.0.0.1', true)], eth3: [v4('169.254.1.1'), v4('10.1.2.3')] } })).toBe('10.1.2.3');
    expect(hostAddress({ routes: ROUTES, interfaces: { lo: [v4('127.0.0.1', true)] } })).toBe('127.0.0.1');
  });
});
