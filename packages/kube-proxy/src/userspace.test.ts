import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '@k8ts/api';
import { buildServiceMap } from './service-map.js';
import { UserspaceProxier } from './userspace.js';

const svc = (nodePort: number, protocol: 'TCP' | 'UDP'): Service => ({
  metadata: { name: 'dns', namespace: 'default' },
  spec: { type: 'NodePort', clusterIP: '10.96.0.53', ports: [{ name: 'p', port: 53, nodePort, protocol }] },
});
const slice = (port: number, protocol: 'TCP' | 'UDP', ips: string[]): EndpointSlice => ({
  metadata: { name: 'dns-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'dns' } }, addressType: 'IPv4',
  ports: [{ name: 'p', port, protocol }], endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('UserspaceProxier', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('relays UDP datagrams to an endpoint and the replies back to the client', async () => {
    const backend = dgram.createSocket('udp4');
    backend.on('message', (msg, rinfo) => backend.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
    await new Promise<void>((r) => backend.bind(0, '127.0.0.41', r));
    cleanups.push(() => backend.close());
    const nodePort = await freeUdpPort();
    const proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1'], udpIdleTimeoutMs: 1000 });
    cleanups.push(() => proxier.close());
    await proxier.sync(buildServiceMap([svc(nodePort, 'UDP')], [slice(backend.address().port, 'UDP', ['127.0.0.41'])]));
    expect(proxier.listenerKeys()).toEqual([`127.0.0.1:${nodePort}/UDP`]);
    const client = dgram.createSocket('udp4');
    cleanups.push(() => client.close());
    const replies: string[] = [];
    client.on('message', (m) => replies.push(String(m)));
    const deadline = Date.now() + 5000;
    // UDP may drop: resend until answered, within the deadline.
    while (replies.length === 0 && Date.now() < deadline) {
      client.send('hello', nodePort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(replies[0]).toBe('echo:hello');
  });

  it('keeps a connection to an endpoint that turns terminating (not ready) until it leaves the slice', async () => {
    const backend = net.createServer((sock) => { sock.on('data', (d) => sock.write(d)); sock.on('error', () => undefined); });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.42', r));
    cleanups.push(() => new Promise<void>((r) => backend.close(() => r())));
    const port = (backend.address() as net.AddressInfo).port;
    const nodePort = await freeTcpPort();
    const proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1'] });
    cleanups.push(() => proxier.close());
    const tcpSvc = svc(nodePort, 'TCP');
    const withConditions = (conditions: Record<string, boolean>): EndpointSlice => ({ ...slice(port, 'TCP', ['127.0.0.42']), endpoints: [{ addresses: ['127.0.0.42'], conditions }] });
    await proxier.sync(buildServiceMap([tcpSvc], [slice(port, 'TCP', ['127.0.0.42'])]));
    const sock = net.connect({ host: '127.0.0.1', port: nodePort });
    cleanups.push(() => { sock.destroy(); });
    let closed = false;
    sock.on('close', () => { closed = true; });
    sock.on('error', () => undefined);
    const echo = (text: string) => new Promise<string>((r) => { sock.once('data', (d) => r(String(d))); sock.write(text); });
    expect(await echo('one')).toBe('one');
    // The pod is deleted: its endpoint is terminating, no longer ready, still serving for its grace period.
    await proxier.sync(buildServiceMap([tcpSvc], [withConditions({ ready: false, serving: true, terminating: true })]));
    expect(await echo('two')).toBe('two');
    expect(closed).toBe(false);
    // Gone from the slice: the connection is closed.
    await proxier.sync(buildServiceMap([tcpSvc], [slice(port, 'TCP', [])]));
    await new Promise<void>((r) => { if (closed) r(); else sock.once('close', () => r()); });
    expect(closed).toBe(true);
  });

  it('closes a TCP connection at once when no endpoint is ready, and moves a listener when the NodePort changes', async () => {
    const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
    const proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1'] });
    cleanups.push(() => proxier.close());
    await proxier.sync(buildServiceMap([svc(p1, 'TCP')], []));
    const closed = await new Promise<string>((resolve) => {
      const s = net.connect(p1, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('error', () => undefined);
      s.on('close', () => resolve(data));
    });
    expect(closed).toBe('');
    await proxier.sync(buildServiceMap([svc(p2, 'TCP')], []));
    expect(proxier.listenerKeys()).toEqual([`127.0.0.1:${p2}/TCP`]);
    await expect(new Promise((resolve, reject) => net.connect(p1, '127.0.0.1').on('connect', resolve).on('error', reject)))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxier.sync(new Map());
    expect(proxier.listenerKeys()).toEqual([]);
  });

  it('a NodePort already taken by another process is logged, not fatal, and the other listeners still open', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as net.AddressInfo).port;
    const proxier = new UserspaceProxier({ nodePortAddresses: ['127.0.0.1', '127.0.0.42'] });
    cleanups.push(() => proxier.close());
    await proxier.sync(buildServiceMap([svc(port, 'TCP')], []));
    expect(proxier.listenerKeys()).toEqual([`127.0.0.42:${port}/TCP`]);
  });
});
