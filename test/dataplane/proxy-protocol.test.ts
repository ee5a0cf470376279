// The PROXY protocol codec against HAProxy's proxy-protocol.txt (§2.1 text v1, §2.2 binary v2).
// Expected bytes are written out from the spec, not produced by the encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { decodeProxyHeader, encodeProxyHeader, type ProxyEndpoints } from '../../src/dataplane/proxy/proxy-protocol.ts';

const SIG = '0d0a0d0a000d0a515549540a';

const tcp4: ProxyEndpoints = { transport: 'tcp', src: addr('192.0.2.10'), sport: 51234, dst: addr('198.51.100.1'), dport: 80 };
const tcp6: ProxyEndpoints = { transport: 'tcp', src: addr('2001:db8::10'), sport: 40000, dst: addr('2001:db8::1'), dport: 443 };
const udp4: ProxyEndpoints = { transport: 'udp', src: addr('192.0.2.10'), sport: 5353, dst: addr('198.51.100.1'), dport: 53 };
const udp6: ProxyEndpoints = { transport: 'udp', src: addr('2001:db8::10'), sport: 5353, dst: addr('2001:db8::1'), dport: 53 };

test('encode: exact bytes (proxy-protocol.txt §2.1, §2.2)', async (t) => {
  const rows: { desc: string; version: 'v1' | 'v2'; e: ProxyEndpoints; hex?: string; text?: string }[] = [
    { desc: 'v1 TCP4 line', version: 'v1', e: tcp4, text: 'PROXY TCP4 192.0.2.10 198.51.100.1 51234 80\r\n' },
    { desc: 'v1 TCP6 line, addresses in compressed form', version: 'v1', e: tcp6, text: 'PROXY TCP6 2001:db8::10 2001:db8::1 40000 443\r\n' },
    // ver/cmd 0x21 (v2, PROXY), fam 0x11 (INET, STREAM), len 12, src, dst, sport 0xc822, dport 0x0050.
    { desc: 'v2 TCP over IPv4', version: 'v2', e: tcp4, hex: `${SIG}2111000cc000020ac6336401c8220050` },
    // fam 0x12 (INET, DGRAM), ports 5353 = 0x14e9, 53 = 0x0035.
    { desc: 'v2 UDP over IPv4', version: 'v2', e: udp4, hex: `${SIG}2112000cc000020ac633640114e90035` },
    // fam 0x21 (INET6, STREAM), len 36.
    { desc: 'v2 TCP over IPv6', version: 'v2', e: tcp6, hex: `${SIG}21210024${'20010db8000000000000000000000010'}${'20010db8000000000000000000000001'}9c4001bb` },
    { desc: 'v2 UDP over IPv6', version: 'v2', e: udp6, hex: `${SIG}21220024${'20010db8000000000000000000000010'}${'20010db8000000000000000000000001'}14e90035` },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const b = encodeProxyHeader(r.version, r.e);
      if (r.text !== undefined) assert.equal(b.toString('latin1'), r.text);
      else assert.equal(b.toString('hex'), r.hex);
    });
  }
});

test('encode: v1 has no UDP form', () => {
  assert.throws(() => encodeProxyHeader('v1', udp4), /v1 carries TCP only/);
});

test('decode: what a receiver reads back', async (t) => {
  const rows: { desc: string; buf: Buffer; want: Record<string, unknown> }[] = [
    { desc: 'v1 TCP4 followed by payload', buf: Buffer.concat([encodeProxyHeader('v1', tcp4), Buffer.from('GET /')]),
      want: { version: 1, command: 'proxy', transport: 'tcp', family: 4, src: '192.0.2.10', dst: '198.51.100.1', sport: 51234, dport: 80, length: 45 } },
    { desc: 'v1 UNKNOWN', buf: Buffer.from('PROXY UNKNOWN\r\n'),
      want: { version: 1, command: 'local', transport: 'unknown', length: 15 } },
    { desc: 'v2 TCP4', buf: encodeProxyHeader('v2', tcp4),
      want: { version: 2, command: 'proxy', transport: 'tcp', family: 4, src: '192.0.2.10', dst: '198.51.100.1', sport: 51234, dport: 80, length: 28 } },
    { desc: 'v2 UDP6', buf: encodeProxyHeader('v2', udp6),
      want: { version: 2, command: 'proxy', transport: 'udp', family: 6, src: '2001:db8:0:0:0:0:0:10', dst: '2001:db8:0:0:0:0:0:1', sport: 5353, dport: 53, length: 52 } },
    { desc: 'v2 LOCAL (health check) carries no addresses', buf: Buffer.from(`${SIG}20000000`, 'hex'),
      want: { version: 2, command: 'local', family: 0, length: 16 } },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const d = decodeProxyHeader(r.buf);
      assert.ok(d.ok, JSON.stringify(d));
      for (const [k, v] of Object.entries(r.want)) assert.equal((d.header as unknown as Record<string, unknown>)[k], v, k);
    });
  }
});

test('decode: refusals', async (t) => {
  const v2 = encodeProxyHeader('v2', tcp4);
  const rows: { desc: string; buf: Buffer; reason: string }[] = [
    { desc: 'empty', buf: Buffer.alloc(0), reason: 'incomplete' },
    { desc: 'v1 without its CRLF yet', buf: Buffer.from('PROXY TCP4 1.2.3.4'), reason: 'incomplete' },
    { desc: 'v2 cut inside the address block', buf: v2.subarray(0, 20), reason: 'incomplete' },
    { desc: 'plain HTTP', buf: Buffer.from('GET / HTTP/1.1\r\n'), reason: 'not-proxy' },
    { desc: 'v1 with a port out of range', buf: Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 70000 80\r\n'), reason: 'malformed' },
    { desc: 'v1 longer than 107 bytes without CRLF', buf: Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), reason: 'malformed' },
    { desc: 'v2 with version 3', buf: Buffer.from(`${SIG}3111000c${'00'.repeat(12)}`, 'hex'), reason: 'malformed' },
    { desc: 'v2 INET with an address block too short', buf: Buffer.from(`${SIG}21110004${'00'.repeat(4)}`, 'hex'), reason: 'malformed' },
  ];
  for (const r of rows) {
    await t.test(r.desc, () => {
      const d = decodeProxyHeader(r.buf);
      assert.equal(d.ok, false);
      if (!d.ok) assert.equal(d.reason, r.reason);
    });
  }
});
