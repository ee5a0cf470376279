// Counters per service and per dest, and the kernel's rate estimator (ip_vs_est.c).
// The estimator is filled in by core/estimator.ts; Stats only owns the numbers.

export interface Counters {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** The estimator's scaled state (ip_vs_est.c: struct ip_vs_estimator). */
export interface EstimatorState {
  lastConns: number;
  lastInpkts: number;
  lastOutpkts: number;
  lastInbytes: number;
  lastOutbytes: number;
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

export function zeroCounters(): Counters {
  return { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
}

export function zeroEstimator(): EstimatorState {
  return {
    lastConns: 0, lastInpkts: 0, lastOutpkts: 0, lastInbytes: 0, lastOutbytes: 0,
    cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0,
  };
}

export class Stats {
  counters: Counters = zeroCounters();
  est: EstimatorState = zeroEstimator();

  /** ipvsadm -Z: counters and the estimator restart from zero (ip_vs_ctl.c: ip_vs_zero_stats). */
  zero(): void {
    this.counters = zeroCounters();
    this.est = zeroEstimator();
  }
}
