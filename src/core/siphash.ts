// hsiphash of one u32, exactly as a 64-bit kernel computes it (lib/siphash.c, include/linux/siphash.h):
// on BITS_PER_LONG == 64 "HalfSipHash" is really SipHash-1-3 with 64-bit lanes, keyed by two
// unsigned longs, and the result is the low 32 bits of v0^v1^v2^v3. ip_vs_mh.c hashes a 4-byte
// host-order u32 with it; on little-endian hosts the message word is that u32 itself, so the only
// block is the final one: b = (4 << 56) | v. One compression round, three finalisation rounds.
//
// Lanes are kept as (high, low) pairs of u32 so a hash costs a few dozen integer operations and no
// allocation; mh needs one hash per lookup and two per dest when it rebuilds its table.

/** The SipHash lane state after the key was mixed in (PREAMBLE), as (high, low) u32 pairs. */
export interface HsiphashKey {
  readonly v0h: number;
  readonly v0l: number;
  readonly v1h: number;
  readonly v1l: number;
  readonly v2h: number;
  readonly v2l: number;
  readonly v3h: number;
  readonly v3l: number;
}

// include/linux/siphash.h: SIPHASH_CONST_0..3 ("somepseudorandomlygeneratedbytes").
const C0H = 0x736f6d65, C0L = 0x70736575;
const C1H = 0x646f7261, C1L = 0x6e646f6d;
const C2H = 0x6c796765, C2L = 0x6e657261;
const C3H = 0x74656462, C3L = 0x79746573;

const U64 = (1n << 64n) - 1n;

/** Key words k0, k1 (u64 each; the kernel's hsiphash_key_t holds two unsigned longs). */
export function hsiphashKey(k0: bigint, k1: bigint): HsiphashKey {
  const k0h = Number((k0 & U64) >> 32n), k0l = Number(k0 & 0xffffffffn);
  const k1h = Number((k1 & U64) >> 32n), k1l = Number(k1 & 0xffffffffn);
  // PREAMBLE: v0 ^= k0, v1 ^= k1, v2 ^= k0, v3 ^= k1.
  return {
    v0h: (C0H ^ k0h) >>> 0, v0l: (C0L ^ k0l) >>> 0,
    v1h: (C1H ^ k1h) >>> 0, v1l: (C1L ^ k1l) >>> 0,
    v2h: (C2H ^ k0h) >>> 0, v2l: (C2L ^ k0l) >>> 0,
    v3h: (C3H ^ k1h) >>> 0, v3l: (C3L ^ k1l) >>> 0,
  };
}

/** hsiphash(&v, 4, key) on a 64-bit little-endian kernel; v is a u32, the result a u32. */
export function hsiphashU32(v: number, key: HsiphashKey): number {
  let v0h = key.v0h, v0l = key.v0l, v1h = key.v1h, v1l = key.v1l;
  let v2h = key.v2h, v2l = key.v2l, v3h = key.v3h, v3l = key.v3l;
  // b = len << 56 | message: the length byte sits in the top byte of the high word.
  const bh = 0x04000000;
  const bl = v >>> 0;
  v3h ^= bh;
  v3l ^= bl;
  let t: number, s: number;
  // 1 compression round, then v0 ^= b, v2 ^= 0xff, then 3 finalisation rounds (HPOSTAMBLE).
  for (let round = 0; round < 4; round++) {
    if (round === 1) {
      v0h ^= bh;
      v0l ^= bl;
      v2l ^= 0xff;
    }
    // v0 += v1
    t = (v0l >>> 0) + (v1l >>> 0);
    v0h = (v0h + v1h + (t > 0xffffffff ? 1 : 0)) | 0;
    v0l = t | 0;
    // v1 = rotl(v1, 13) ^ v0
    t = (v1h << 13) | (v1l >>> 19);
    s = (v1l << 13) | (v1h >>> 19);
    v1h = t ^ v0h;
    v1l = s ^ v0l;
    // v0 = rotl(v0, 32)
    t = v0h; v0h = v0l; v0l = t;
    // v2 += v3
    t = (v2l >>> 0) + (v3l >>> 0);
    v2h = (v2h + v3h + (t > 0xffffffff ? 1 : 0)) | 0;
    v2l = t | 0;
    // v3 = rotl(v3, 16) ^ v2
    t = (v3h << 16) | (v3l >>> 16);
    s = (v3l << 16) | (v3h >>> 16);
    v3h = t ^ v2h;
    v3l = s ^ v2l;
    // v0 += v3
    t = (v0l >>> 0) + (v3l >>> 0);
    v0h = (v0h + v3h + (t > 0xffffffff ? 1 : 0)) | 0;
    v0l = t | 0;
    // v3 = rotl(v3, 21) ^ v0
    t = (v3h << 21) | (v3l >>> 11);
    s = (v3l << 21) | (v3h >>> 11);
    v3h = t ^ v0h;
    v3l = s ^ v0l;
    // v2 += v1
    t = (v2l >>> 0) + (v1l >>> 0);
    v2h = (v2h + v1h + (t > 0xffffffff ? 1 : 0)) | 0;
    v2l = t | 0;
    // v1 = rotl(v1, 17) ^ v2
    t = (v1h << 17) | (v1l >>> 15);
    s = (v1l << 17) | (v1h >>> 15);
    v1h = t ^ v2h;
    v1l = s ^ v2l;
    // v2 = rotl(v2, 32)
    t = v2h; v2h = v2l; v2l = t;
  }
  // (u32)((v0 ^ v1) ^ (v2 ^ v3)): only the low words survive the truncation.
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}
