// How ipvsadm orders a listing: libipvs.c's comparators run through glibc's qsort.
//  - ipvs_cmp_services: fwmark, then address family, protocol number, address, port;
//    ipvs_cmp_dests: address, then port.
//  - fwmarks and IPv4 addresses (and each 32-bit word of an IPv6 address) are compared as
//    (int)(a - b) on unsigned 32-bit values, so values 2^31 or more apart compare "backwards":
//    200.0.0.1 sorts before 10.0.0.1, and a fwmark service with a mark above 2^31 sorts before
//    the address services (whose fwmark is 0).
//  - The comparator is therefore not a total order, and the result depends on the algorithm:
//    glibc's qsort is a top-down merge sort (msort.c; every glibc release, 2.39's short-lived
//    introsort having been reverted before release), reproduced here step for step.
import { addrBytes } from '../../config/endpoint.ts';

/** glibc msort_with_tmp: split n into n/2 and n - n/2, sort both, merge taking the left on ties. */
export function glibcQsort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const a = items.slice();
  const tmp = new Array<T>(a.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = Math.floor(n / 2);
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    let k = 0;
    let r1 = n1;
    let r2 = n2;
    while (r1 > 0 && r2 > 0) {
      if (cmp(a[i], a[j]) <= 0) { tmp[k++] = a[i++]; r1--; } else { tmp[k++] = a[j++]; r2--; }
    }
    while (r1 > 0) { tmp[k++] = a[i++]; r1--; }
    for (let m = 0; m < k; m++) a[lo + m] = tmp[m];
  };
  sort(0, a.length);
  return a;
}

/** (int)(a - b) for two u32 values. */
function u32Diff(a: number, b: number): number {
  return (a - b) | 0;
}

const AF_INET = 2;
const AF_INET6 = 10;
const PROTO_NUMBER: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** The address as libipvs holds it: union nf_inet_addr, IPv4 in the first word, the rest zero. */
function addrWords(text: string | null): number[] {
  const w = [0, 0, 0, 0];
  const b = text === null ? null : addrBytes(text);
  if (!b) return w;
  for (let k = 0; k < b.length / 4; k++) {
    w[k] = ((b[4 * k] << 24) | (b[4 * k + 1] << 16) | (b[4 * k + 2] << 8) | b[4 * k + 3]) >>> 0;
  }
  return w;
}

function cmpAddr(af1: number, w1: number[], w2: number[]): number {
  let r = 0;
  if (af1 === AF_INET6) {
    for (let k = 0; r === 0 && k < 4; k++) r = u32Diff(w1[k], w2[k]);
  } else {
    r = u32Diff(w1[0], w2[0]);
  }
  return r;
}

export interface SortableService {
  readonly fwmark: number;
  readonly family: 4 | 6;
  readonly protocol: string | null;
  readonly vip: string | null;
  readonly port: number;
}

/** libipvs.c: ipvs_cmp_services. A fwmark service carries TCP, as ipvsadm -f sets it. */
export function cmpServices(s1: SortableService, s2: SortableService): number {
  let r = u32Diff(s1.fwmark >>> 0, s2.fwmark >>> 0);
  if (r !== 0) return r;
  const af1 = s1.family === 6 ? AF_INET6 : AF_INET;
  r = af1 - (s2.family === 6 ? AF_INET6 : AF_INET);
  if (r !== 0) return r;
  r = (PROTO_NUMBER[s1.protocol ?? 'tcp'] ?? 0) - (PROTO_NUMBER[s2.protocol ?? 'tcp'] ?? 0);
  if (r !== 0) return r;
  r = cmpAddr(af1, addrWords(s1.vip), addrWords(s2.vip));
  if (r !== 0) return r;
  return s1.port - s2.port;
}

export interface SortableDest {
  readonly family: 4 | 6;
  readonly addr: string;
  readonly port: number;
}

/** libipvs.c: ipvs_cmp_dests; the first dest's family decides how many words are compared. */
export function cmpDests(d1: SortableDest, d2: SortableDest): number {
  const r = cmpAddr(d1.family === 6 ? AF_INET6 : AF_INET, addrWords(d1.addr), addrWords(d2.addr));
  if (r !== 0) return r;
  return d1.port - d2.port;
}

export function sortServices<T extends SortableService>(services: readonly T[]): T[] {
  return glibcQsort(services, cmpServices);
}

export function sortDests<T extends SortableDest>(dests: readonly T[]): T[] {
  return glibcQsort(dests, cmpDests);
}
