// hsiphash of a u32 as a 64-bit kernel computes it (lib/siphash.c: on BITS_PER_LONG == 64,
// hsiphash is SipHash-1-3 with 64-bit lanes, truncated to u32). Checked three ways: against the
// kernel's own self-test vectors (lib/siphash_kunit.c, 64-bit table), against an independent
// BigInt SipHash-c-d written here from the SipHash paper, and that BigInt code against the
// reference SipHash-2-4 vectors (veorq/SipHash, also in lib/siphash_kunit.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hsiphashKey, hsiphashU32 } from '../../src/core/siphash.ts';

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** Plain SipHash-c-d over bytes, 64-bit output, written from the specification with BigInt. */
function sipHashRef(c: number, d: number, k0: bigint, k1: bigint, msg: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const full = msg.length - (msg.length % 8);
  const word = (off: number, n: number): bigint => {
    let m = 0n;
    for (let i = n - 1; i >= 0; i--) m = (m << 8n) | BigInt(msg[off + i]);
    return m;
  };
  for (let off = 0; off < full; off += 8) {
    const m = word(off, 8);
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  }
  const b = (BigInt(msg.length & 0xff) << 56n) | word(full, msg.length - full);
  v3 ^= b;
  for (let i = 0; i < c; i++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);
const le32 = (v: number): Uint8Array => Uint8Array.from([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24]);

// lib/siphash_kunit.c keys: bytes 00..0f read little-endian.
const TEST_K0 = 0x0706050403020100n;
const TEST_K1 = 0x0f0e0d0c0b0a0908n;

test('BigInt reference reproduces the SipHash-2-4 reference vectors (veorq/SipHash)', () => {
  const rows: { len: number; want: bigint }[] = [
    { len: 0, want: 0x726fdb47dd0e0e31n },
    { len: 4, want: 0xcf2794e0277187b7n },
    { len: 8, want: 0x93f5f5799a932462n },
    { len: 15, want: 0xa129ca6149be45e5n },
    { len: 63, want: 0x958a324ceb064572n },
  ];
  for (const r of rows) {
    assert.equal(sipHashRef(2, 4, TEST_K0, TEST_K1, bytes(r.len)), r.want, `message of ${r.len} bytes`);
  }
});

test('BigInt SipHash-1-3 truncated reproduces the kernel 64-bit hsiphash self-test vectors', () => {
  // lib/siphash_kunit.c test_vectors_hsiphash (BITS_PER_LONG == 64), message = bytes 0..len-1.
  const rows: { len: number; want: number }[] = [
    { len: 0, want: 0x050fc4dc },
    { len: 3, want: 0xe7ddf7fb },
    { len: 4, want: 0x88d38328 },
    { len: 8, want: 0x8d299a8e },
    { len: 63, want: 0xb7bbb3a8 },
  ];
  for (const r of rows) {
    assert.equal(Number(sipHashRef(1, 3, TEST_K0, TEST_K1, bytes(r.len)) & 0xffffffffn), r.want, `message of ${r.len} bytes`);
  }
});

test('hsiphashU32 matches the kernel vector for the 4-byte message 00 01 02 03', () => {
  // lib/siphash_kunit.c: hsiphash(in, 4, key) and hsiphash_1u32(0x03020100, key) both give entry 4.
  assert.equal(hsiphashU32(0x03020100, hsiphashKey(TEST_K0, TEST_K1)), 0x88d38328);
});

test('hsiphashU32 agrees with the BigInt SipHash-1-3 for the mh keys and many inputs', () => {
  // ip_vs_mh.c generate_hash_secret: both words of each key are the same 32-bit constant.
  const keys = [
    { desc: 'mh hash1 key', k: 2654435761n },
    { desc: 'mh hash2 key', k: 2654446892n },
    { desc: 'a key with high bits set in both words', k: 0xfedcba9876543210n },
  ];
  const inputs = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xc6336407, 0x0a000001 + 80];
  let x = 0x12345678;
  for (let i = 0; i < 200; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    inputs.push(x);
  }
  for (const { desc, k } of keys) {
    const key = hsiphashKey(k, k);
    for (const v of inputs) {
      const want = Number(sipHashRef(1, 3, k, k, le32(v)) & 0xffffffffn);
      assert.equal(hsiphashU32(v, key), want, `${desc}, input 0x${v.toString(16)}`);
    }
  }
});

test('hsiphashU32 for distinct key words uses k0 for v0/v2 and k1 for v1/v3', () => {
  const k0 = 0x0123456789abcdefn;
  const k1 = 0x1122334455667788n;
  const want = Number(sipHashRef(1, 3, k0, k1, le32(0xdeadbeef)) & 0xffffffffn);
  assert.equal(hsiphashU32(0xdeadbeef, hsiphashKey(k0, k1)), want);
  assert.notEqual(hsiphashU32(0xdeadbeef, hsiphashKey(k1, k0)), want, 'swapping the key words changes the hash');
});
