// BFD control packet codec (src/check/bfd/packet.ts): round trips, every refusal reason of RFC 5880
// §6.8.6 as keepalived applies them, and the bytes keepalived 2.2.7 really sends (captured with
// tcpdump between two keepalived BFD processes in network namespaces: test/fixtures/bfd/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BFD_DROP_REASONS, type BfdPacket, decodeBfd, encodeBfd, formatBfd, parseBfd,
} from '../../src/check/bfd/packet.ts';

const base: BfdPacket = {
  version: 1, diag: 0, state: 'Down', poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
  detectMult: 3, length: 24, myDiscriminator: 0x1e757ba8, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 100_000,
  requiredMinEchoRxUs: 0,
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

test('bfd packet: round trips every field and flag', () => {
  const rows: Array<[string, Partial<BfdPacket>]> = [
    ['Down, no discriminator yet', {}],
    ['Init with your discriminator', { state: 'Init', yourDiscriminator: 0x6778a608 }],
    ['Up with Poll', { state: 'Up', poll: true, yourDiscriminator: 1 }],
    ['Up with Final', { state: 'Up', final: true, yourDiscriminator: 1 }],
    ['AdminDown diag 7', { state: 'AdminDown', diag: 7 }],
    ['C, A, D, M bits', { cpi: true, auth: true, demand: true, multipoint: true }],
    ['largest values', { detectMult: 255, myDiscriminator: 0xffffffff, yourDiscriminator: 0xfffffffe, desiredMinTxUs: 0xffffffff, requiredMinRxUs: 0xffffffff, requiredMinEchoRxUs: 0xffffffff }],
    ['diag 31 (5 bits)', { diag: 31 }],
  ];
  for (const [what, over] of rows) {
    const p = { ...base, ...over };
    assert.deepEqual(parseBfd(encodeBfd(p)), p, what);
  }
});

test('bfd packet: the reception checks refuse with a named reason', () => {
  const enc = (over: Partial<BfdPacket>) => encodeBfd({ ...base, ...over });
  const rows: Array<[string, Uint8Array, keyof typeof BFD_DROP_REASONS]> = [
    ['23 bytes', enc({}).subarray(0, 23), 'too-short'],
    ['empty', new Uint8Array(0), 'too-short'],
    ['Length field 26 in a 24-byte datagram', enc({ length: 26 }), 'length-mismatch'],
    ['24-byte Length in a 28-byte datagram', new Uint8Array([...enc({}), 0, 0, 0, 0]), 'length-mismatch'],
    ['version 0', enc({ version: 0 }), 'bad-version'],
    ['version 2', enc({ version: 2 }), 'bad-version'],
    ['Detect Mult 0', enc({ detectMult: 0 }), 'zero-detect-mult'],
    ['Multipoint', enc({ multipoint: true }), 'multipoint'],
    ['My Discriminator 0', enc({ myDiscriminator: 0 }), 'zero-my-discriminator'],
    ['Init with Your Discriminator 0', enc({ state: 'Init' }), 'zero-your-discriminator'],
    ['Up with Your Discriminator 0', enc({ state: 'Up' }), 'zero-your-discriminator'],
    ['Poll and Final', enc({ poll: true, final: true }), 'poll-and-final'],
    ['diag 9', enc({ diag: 9 }), 'bad-diag'],
  ];
  for (const [what, b, reason] of rows) {
    const r = decodeBfd(b);
    assert.equal(r.ok, false, what);
    assert.equal(!r.ok && r.reason, reason, what);
  }
  for (const [what, over] of [
    ['Down with Your Discriminator 0', {}], ['AdminDown with Your Discriminator 0', { state: 'AdminDown' as const }],
    ['diag 8', { diag: 8 }], ['A bit (refused later, per session)', { auth: true }],
  ] as Array<[string, Partial<BfdPacket>]>) {
    assert.equal(decodeBfd(enc(over)).ok, true, what);
  }
});

interface Captured { readonly ms: number; readonly src: string; readonly dst: string; readonly ttl: number; readonly payload: Uint8Array }

function fixture(): Captured[] {
  const text = readFileSync(resolve(import.meta.dirname, '..', 'fixtures', 'bfd', 'keepalived-2.2.7-handshake.txt'), 'utf8');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const [ms, src, dst, ttl, payload] = l.split(' ');
    return { ms: Number(ms), src, dst, ttl: Number(ttl.slice(4)), payload: bytes(payload) };
  });
}

test('bfd packet: keepalived 2.2.7 packets decode, and re-encode to the same bytes', () => {
  const caps = fixture();
  assert.ok(caps.length >= 10);
  for (const c of caps) {
    const r = decodeBfd(c.payload);
    assert.ok(r.ok, `${c.ms} ms: ${!r.ok && r.reason}`);
    assert.equal(hex(encodeBfd(r.packet)), hex(c.payload), `${c.ms} ms`);
    assert.equal(c.ttl, 255, 'RFC 5881 §5: sent with TTL 255');
    assert.ok(Number(c.src.split('.').pop()) >= 49152, `RFC 5881 §4 source port: ${c.src}`);
    assert.ok(c.dst.endsWith('.3784'));
  }
});

test('bfd packet: the captured handshake reads as keepalived describes it', () => {
  const lines = fixture().map((c) => `${c.src.split('.')[3]}: ${formatBfd(parseBfd(c.payload)!)}`);
  // .2 idles in Down at 1 s; .1 starts (Down); .2 answers Init; .1 goes Up at once and polls for its
  // faster min_tx; .2 goes Up and answers with Final carrying 100 ms; then both run at 100 ms.
  assert.equal(lines[0], '2: Down diag 0 mult 3 my 0x6778a608 your 0x00000000 tx 1000000 rx 100000 echo 0');
  assert.equal(lines[3], '1: Down diag 0 mult 3 my 0x1e757ba8 your 0x00000000 tx 1000000 rx 100000 echo 0');
  assert.equal(lines[4], '2: Init diag 0 mult 3 my 0x6778a608 your 0x1e757ba8 tx 1000000 rx 100000 echo 0');
  assert.equal(lines[5], '1: Up P diag 0 mult 3 my 0x1e757ba8 your 0x6778a608 tx 100000 rx 100000 echo 0');
  assert.equal(lines[6], '2: Up F diag 0 mult 3 my 0x6778a608 your 0x1e757ba8 tx 100000 rx 100000 echo 0');
  assert.equal(lines[7], '2: Up diag 0 mult 3 my 0x6778a608 your 0x1e757ba8 tx 100000 rx 100000 echo 0');
});
