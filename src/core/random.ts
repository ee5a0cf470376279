// A small seedable u32 generator for the schedulers that draw random numbers (twos). The kernel
// uses get_random_u32(); no user can observe its sequence, so any uniform source is faithful, and a
// seed makes tests exact. The state can be copied so explain() draws the same numbers the next real
// decision would, without consuming them.

export interface RandomSource {
  next(): number;
  clone(): RandomSource;
}

/** xorshift128 (Marsaglia 2003): fast, 2^128-1 period, good enough for load balancing. */
export function xorshift128(seed: number): RandomSource {
  let s = seed >>> 0 || 0x9e3779b9;
  // splitmix32 to spread the seed over the four words
  const mix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return fromState([mix(), mix(), mix(), mix() || 1]);
}

function fromState(st: number[]): RandomSource {
  let [x, y, z, w] = st;
  return {
    next(): number {
      const t = (x ^ (x << 11)) >>> 0;
      x = y; y = z; z = w;
      w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
      return w;
    },
    clone(): RandomSource {
      return fromState([x, y, z, w]);
    },
  };
}
