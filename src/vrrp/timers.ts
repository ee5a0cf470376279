// VRRP timers in integer microseconds, computed exactly as keepalived does (include/vrrp.h
// VRRP_TIMER_SKEW_CALC, VRRP_MS_DOWN_TIMER; TIMER_HZ = 1 000 000), so failover happens at the same
// microsecond a keepalived peer would choose.
//   RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 seconds.
//   RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
//   Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time; keepalived makes the 3 configurable
//   (down_timer_adverts).

export const TIMER_HZ = 1_000_000;
/** One centisecond in µs (TIMER_CENTI_HZ). */
export const TIMER_CENTI_HZ = 10_000;

/** Skew for a priority value (`pri_val` in VRRP_TIMER_SKEW_CALC is 256 - priority, or 1 for the minimum). */
export function skewFor(version: number, priVal: number, masterAdverIntUs: number): number {
  if (version === 3) return Math.floor((priVal * Math.floor(masterAdverIntUs / TIMER_CENTI_HZ) * 625) / 16);
  return Math.floor((priVal * TIMER_HZ) / 256);
}

/** Skew_Time for the effective priority. */
export function skewTime(version: number, priority: number, masterAdverIntUs: number): number {
  return skewFor(version, 256 - priority, masterAdverIntUs);
}

/** The smallest skew (priority 255), used for "wait one interval" down timers. */
export function skewMin(version: number, masterAdverIntUs: number): number {
  return skewFor(version, 1, masterAdverIntUs);
}

/** Master_Down_Interval. */
export function masterDownInterval(version: number, priority: number, masterAdverIntUs: number, downTimerAdverts: number): number {
  return downTimerAdverts * masterAdverIntUs + skewTime(version, priority, masterAdverIntUs);
}

/**
 * advert_int as configured (seconds, fractions allowed) to what the version carries, with keepalived's
 * rounding (vrrp_complete_instance): v2 whole seconds 1..255 rounded to nearest; v3 centiseconds
 * 1..4095 rounded to nearest. Returns µs and whether it changed.
 */
export function normaliseAdvertInt(version: number, seconds: number): { us: number; adjusted: boolean } {
  let us = Math.round(seconds * TIMER_HZ);
  if (us <= 0) us = TIMER_HZ;
  const unit = version === 2 ? TIMER_HZ : TIMER_CENTI_HZ;
  const max = version === 2 ? 255 * TIMER_HZ : 4095 * TIMER_CENTI_HZ;
  if (us > max) return { us: max, adjusted: true };
  if (us % unit === 0) return { us, adjusted: false };
  let r = us + unit / 2;
  r -= r % unit;
  if (r === 0) r = unit;
  return { us: r, adjusted: true };
}
