#!/usr/bin/env node
// The raw part of the DNS bench: the least a Node DNS server does (decode the query, answer one fixed A record,
// encode) over UDP. Prints its port once listening. Usage: node bench/minimal-dns.mjs [port]
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  let q;
  try { q = dnsPacket.decode(msg); } catch { return; }
  const reply = dnsPacket.encode({
    type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions,
    answers: [{ type: 'A', name: q.questions[0].name, ttl: 5, data: '10.96.0.20' }],
  });
  sock.send(reply, rinfo.port, rinfo.address);
});
sock.bind(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(sock.address().port));
process.on('SIGTERM', () => { sock.close(); process.exit(0); });
