// The greatest common divisor of a service's positive weights: wrr steps its current weight by it
// (ip_vs_wrr.c ip_vs_wrr_gcd_weight) and mh scales last_weight down by it before populating its
// table (ip_vs_mh.c ip_vs_mh_gcd_weight). Both skip weight 0 and start from the first positive one.
import type { Dest } from '../dest.ts';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** gcd of `weightOf(d)` over the dests where it is > 0; 0 when there is none. */
export function weightGcd(list: readonly Dest[], weightOf: (d: Dest) => number): number {
  let g = 0;
  for (const d of list) {
    const w = weightOf(d);
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g;
}
