// The IPVS rate estimator (net/netfilter/ipvs/ip_vs_est.c). Every 2 seconds each Stats gets one
// sample: the counter deltas since the last sample, scaled (conns and packets by 2^10, bytes by 2^5,
// each halved for the 2-second period), folded into a moving average with weight 1/4. The reading
// rounds the scaled averages back to per-second values. Newer kernels run the samples from kthreads
// spread over the 2 s period; the arithmetic per sample is unchanged and is all that is modelled.
//
// Exactness. The kernel computes in u64/s64; here every value is an integer Number, exact below
// 2^53. The scaled byte average is about 16 x the bytes seen in 2 s, so it stays exact up to
// 2^53 / 16 bytes per 2 s (~2.8e14 B/s, ~2.25 Pbit/s); packets and conns up to ~8.8e12 per second.
// The average moves by floor((rate - avg) / 4), which is the kernel's arithmetic shift of a signed
// 64-bit difference (it rounds toward minus infinity, so a decaying average reaches 0).
import type { Rates, Stats } from './stats.ts';

/** ip_vs_est.c: the period of one sample, in ms. */
export const ESTIMATOR_PERIOD_MS = 2000;

// (s64)(rate - avg) >> 2, exact for integers below 2^53 (division by 4 is exact in binary floating point).
function ewma(avg: number, rate: number): number {
  return avg + Math.floor((rate - avg) / 4);
}

/** One 2-second sample (ip_vs_chain_estimation) of stats.counters into stats.est. */
export function estimatorTick(stats: Stats): void {
  const k = stats.counters;
  const e = stats.est;
  // conns and packets: delta << 9 (scaled by 2^10, divided by the 2 s period).
  e.cps = ewma(e.cps, (k.conns - e.lastConns) * 512);
  e.lastConns = k.conns;
  e.inpps = ewma(e.inpps, (k.inpkts - e.lastInpkts) * 512);
  e.lastInpkts = k.inpkts;
  e.outpps = ewma(e.outpps, (k.outpkts - e.lastOutpkts) * 512);
  e.lastOutpkts = k.outpkts;
  // bytes: delta << 4 (scaled by 2^5, divided by 2).
  e.inbps = ewma(e.inbps, (k.inbytes - e.lastInbytes) * 16);
  e.lastInbytes = k.inbytes;
  e.outbps = ewma(e.outbps, (k.outbytes - e.lastOutbytes) * 16);
  e.lastOutbytes = k.outbytes;
}

/** The per-second rates ipvsadm --rate and the netlink stats show (ip_vs_read_estimator). */
export function readRates(stats: Stats): Rates {
  const e = stats.est;
  return {
    cps: Math.floor((e.cps + 0x1ff) / 1024),
    inpps: Math.floor((e.inpps + 0x1ff) / 1024),
    outpps: Math.floor((e.outpps + 0x1ff) / 1024),
    inbps: Math.floor((e.inbps + 0xf) / 32),
    outbps: Math.floor((e.outbps + 0xf) / 32),
  };
}
