// bfd_instance blocks, from the keyword table's raw settings (src/config/keepalived/keywords/vrrp.ts
// keeps them as written) to the sessions the BFD process runs, with keepalived 2.2.7's ranges,
// units and defaults (keepalived/bfd/bfd_parser.c, bfd_data.c: alloc_bfd, include/bfd.h):
// min_rx / min_tx / idle_tx are milliseconds with up to 3 decimals, kept as microseconds; a bad value
// is reported and the default kept; a bad neighbor_ip drops the instance; a source_ip of the other
// family drops it; ttl defaults to 255 (IPv4) or 64 (IPv6 hop limit); max_hops > ttl is lowered to
// ttl; `vrrp` / `checker` restrict which processes hear the instance (none named: both).
import type { BfdInstance } from '../../config/keepalived/model.ts';
import { readDecimal, readInt, readUnsigned } from '../../config/keepalived/numbers.ts';
import { parseAddress } from '../../config/values.ts';
import type { Addr } from '../../core/addr.ts';
import type { BfdSessionConfig } from './session.ts';

/** include/bfd.h: BFD_*_DEFAULT / _MIN / _MAX (ms), multiplier and TTL bounds. */
export const BFD_DEFAULTS = {
  min_rx: 10, min_tx: 10, idle_tx: 1000, multiplier: 5, ttl: 255, hoplimit: 64, max_hops: 0,
  interval_max: Math.floor(0xffffffff / 1000), idle_tx_min: 1000, multiplier_max: 255,
} as const;

/** RFC 5881 §4: the well-known destination port; 4784 (RFC 5883 multihop) is not used by keepalived 2.2.7. */
export const BFD_CONTROL_PORT = 3784;

export interface BfdInstanceConfig {
  readonly name: string;
  readonly neighbor: Addr;
  readonly source: Addr | null;
  readonly session: BfdSessionConfig;
  /** Whether BFD_CHECK may name it (keepalived: bfd->checker). */
  readonly checker: boolean;
  readonly at: { readonly file: string; readonly line: number; readonly col: number };
}

export const BFD_CONFIG_PROBLEMS = {
  BFD_BAD_ADDRESS: 'neighbor_ip / source_ip is not an address',
  BFD_FAMILY_MISMATCH: 'source_ip and neighbor_ip are of different families',
  BFD_DUPLICATE_NEIGHBOR: 'another bfd_instance has the same neighbor (and source)',
  BFD_BAD_VALUE: 'a bfd_instance value is out of range; the default is kept',
} as const;
export type BfdConfigProblemCode = keyof typeof BFD_CONFIG_PROBLEMS;

export interface BfdConfigProblem {
  readonly code: BfdConfigProblemCode;
  readonly message: string;
  readonly instance: string;
  /** true: the instance is not run. */
  readonly dropped: boolean;
}

export function bfdInstanceConfigs(instances: readonly BfdInstance[]): { instances: BfdInstanceConfig[]; problems: BfdConfigProblem[] } {
  const out: BfdInstanceConfig[] = [];
  const problems: BfdConfigProblem[] = [];
  for (const b of instances) {
    const c = oneInstance(b, problems);
    if (!c) continue;
    // bfd_parser.c: bfd_end_handler refuses a second instance for the same neighbor/source pair.
    if (out.some((o) => o.neighbor.text === c.neighbor.text && (o.source?.text ?? '') === (c.source?.text ?? ''))) {
      problems.push({ code: 'BFD_DUPLICATE_NEIGHBOR', message: `BFD instance ${b.name} has duplicate neighbor address ${c.neighbor.text}, ignoring instance`, instance: b.name, dropped: true });
      continue;
    }
    out.push(c);
  }
  return { instances: out, problems };
}

function oneInstance(b: BfdInstance, problems: BfdConfigProblem[]): BfdInstanceConfig | null {
  const arg = (k: string): string | undefined => b.settings.get(k)?.[0];
  const bad = (code: BfdConfigProblemCode, message: string, dropped = false) => problems.push({ code, message, instance: b.name, dropped });
  const nbrText = arg('neighbor_ip') ?? arg('neighbour_ip') ?? '';
  const nbr = parseAddress(nbrText);
  if (!nbr.ok) {
    bad('BFD_BAD_ADDRESS', `BFD instance ${b.name} has malformed neighbor address ${nbrText}, ignoring instance`, true);
    return null;
  }
  let source: Addr | null = null;
  const srcText = arg('source_ip');
  if (srcText !== undefined) {
    const s = parseAddress(srcText);
    if (!s.ok) bad('BFD_BAD_ADDRESS', `BFD instance ${b.name} has malformed source address ${srcText}, ignoring`);
    else source = s.value;
  }
  if (source && source.family !== nbr.value.family) {
    bad('BFD_FAMILY_MISMATCH', `BFD instance ${b.name} source address ${source.text} and neighbor address ${nbr.value.text} are not of the same family, disabling instance`, true);
    return null;
  }
  const quiet = () => {};
  const interval = (k: 'min_rx' | 'min_tx' | 'idle_tx', min: number): number => {
    const t = arg(k);
    const def = BFD_DEFAULTS[k] * 1000;
    if (t === undefined) return def;
    const v = readDecimal(t, min * 1000, BFD_DEFAULTS.interval_max * 1000, 3, quiet);
    if (v === null) {
      bad('BFD_BAD_VALUE', `BFD instance ${b.name} ${k} value ${t} is not valid (must be in range [${min}-${BFD_DEFAULTS.interval_max}]), ignoring`);
      return def;
    }
    return v;
  };
  const minRxUs = interval('min_rx', 1);
  const minTxUs = interval('min_tx', 1);
  const idleTxUs = interval('idle_tx', BFD_DEFAULTS.idle_tx_min);
  let detectMult: number = BFD_DEFAULTS.multiplier;
  const m = arg('multiplier');
  if (m !== undefined) {
    const v = readUnsigned(m, 1, BFD_DEFAULTS.multiplier_max, quiet);
    if (v === null) bad('BFD_BAD_VALUE', `BFD instance ${b.name} multiplier value ${m} not valid (must be in range [1-255]), ignoring`);
    else detectMult = v;
  }
  // ttl and hoplimit are one setting; the later keyword wins as in keepalived (one handler, last write).
  let ttl = 0;
  for (const k of ['ttl', 'hoplimit']) {
    const t = arg(k);
    if (t === undefined) continue;
    const v = readUnsigned(t, 1, 255, quiet);
    if (v === null) bad('BFD_BAD_VALUE', `BFD instance ${b.name} ttl/hoplimit value ${t} not valid (must be in range [1-255]), ignoring`);
    else ttl = v;
  }
  if (ttl === 0) ttl = nbr.value.family === 4 ? BFD_DEFAULTS.ttl : BFD_DEFAULTS.hoplimit;
  let maxHops: number = BFD_DEFAULTS.max_hops;
  const mh = arg('max_hops');
  if (mh !== undefined) {
    const v = readInt(mh, -1, 255, quiet);
    if (v === null) bad('BFD_BAD_VALUE', `BFD instance ${b.name} max_hops value ${mh} not valid (must be in range [-1-255]), ignoring`);
    else maxHops = v & 0xff; // a uint8_t in keepalived: -1 is 255, "no check"
  }
  if (maxHops > ttl) {
    bad('BFD_BAD_VALUE', `BFD instance ${b.name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit`);
    maxHops = ttl;
  }
  const named = b.settings.has('vrrp') || b.settings.has('checker');
  return {
    name: b.name,
    neighbor: nbr.value,
    source,
    session: { minRxUs, minTxUs, idleTxUs, detectMult, passive: b.settings.has('passive'), ttl, maxHops },
    checker: !named || b.settings.has('checker'),
    at: { file: b.at.file, line: b.at.line, col: b.at.col },
  };
}
