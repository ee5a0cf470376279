// FILE_CHECK (keepalived/check/check_file.c, trackers/track_file.c): a real server follows a
// number written in a file. The file is read whole (first 127 bytes) and parsed as C strtol with
// base 0 ("12", "0x1f", "017", leading blanks and sign, trailing text ignored); a missing, empty
// or unreadable file reads 0. With weight 0 a non-zero value means down (zero means down with
// `reverse`). Otherwise value × weight (× −1 with reverse) is added to the real server's weight,
// and the checker is down only when that product is at or below −2^31 (IPVS_WEIGHT_FAULT).
// keepalived watches the file's directory with inotify; we use fs.watch on the directory too.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';

export const IPVS_WEIGHT_FAULT = -2147483648;

/** strtol(buf, NULL, 0) semantics; null when the value is out of the int32 range keepalived accepts. */
export function parseTrackValue(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return 0;
  const sign = m[1] === '-' ? -1n : 1n;
  const digits = m[2];
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === '0') v = BigInt('0o' + digits.slice(1));
  else v = BigInt(digits);
  v *= sign;
  // track_file.c rejects values outside [INT32_MIN, INT32_MAX + 1] and keeps the old status.
  if (v < -2147483648n || v > 2147483648n) return null;
  return Number(v);
}

/** The checker's status for a value: IPVS_WEIGHT_FAULT (down) or the weight share. */
export function trackStatus(value: number, weight: number, reverse: boolean): number {
  if (weight === 0) return (value !== 0) !== reverse ? IPVS_WEIGHT_FAULT : 0;
  const share = value * weight * (reverse ? -1 : 1);
  if (share <= IPVS_WEIGHT_FAULT) return IPVS_WEIGHT_FAULT;
  return Math.min(share, 2147483647);
}

/** Read a tracked file's value (0 when absent); null when keepalived would ignore the content. */
export function readTrackFile(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'latin1').slice(0, 127);
  } catch {
    return 0;
  }
  return parseTrackValue(text);
}

export interface TrackFileWatcher {
  close(): void;
}

/**
 * Call `onChange` when `path` may have changed (written, replaced, removed). Events are coalesced:
 * the caller re-reads the file and compares values.
 */
export function watchTrackFile(path: string, onChange: () => void): TrackFileWatcher {
  const name = basename(path);
  let w: FSWatcher | null = null;
  try {
    w = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === null || file === name) onChange();
    });
    w.on('error', () => {});
  } catch {
    // The directory does not exist: the file reads 0 and never changes.
  }
  return { close: () => w?.close() };
}
