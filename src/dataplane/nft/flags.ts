// The nft data plane's options as `keepvs` long flags (--nft-*), each with the KEEPVS_NFT_*
// environment variable it replaces (kept as a fallback: a flag wins over its variable). One row per
// option: the daemon's flag table, its --help, the value checks and docs/dataplane-nft.md's table
// all follow these rows. Pure.
import type { NftEnvOptions } from './factory.ts';
import { parseAddr } from '../../core/addr.ts';
import { VXLAN_DEFAULT_VNI, VXLAN_PORT } from './dr-routes.ts';

export type NftFlagName =
  | 'nft-table' | 'nft-fullnat-source' | 'nft-flush-on-stop' | 'nft-fix-sysctls' | 'nft-exact-all'
  | 'nft-queue-failure' | 'nft-queue-num' | 'nft-map-timeouts' | 'nft-view-interval' | 'nft-no-queue' | 'nft-tunnel';

export interface NftFlag {
  readonly long: NftFlagName;
  /** The argument's name in --help; absent = a switch without a value. */
  readonly metavar?: string;
  readonly env: string;
  readonly help: string;
}

export const NFT_FLAGS: readonly NftFlag[] = [
  { long: 'nft-table', metavar: 'NAME', env: 'KEEPVS_NFT_TABLE', help: 'nft plane: the nftables table keepvs owns (default keepvs)' },
  { long: 'nft-fullnat-source', metavar: 'ADDR[-ADDR][,...]', env: 'KEEPVS_NFT_FULLNAT_SOURCE', help: 'nft plane: FULLNAT source address, range or comma-separated list of them, round-robin per connection (default: masquerade to the DIP)' },
  { long: 'nft-flush-on-stop', metavar: 'yes|no', env: 'KEEPVS_NFT_FLUSH_ON_STOP', help: 'nft plane: remove the rules on stop (default yes)' },
  { long: 'nft-fix-sysctls', env: 'KEEPVS_NFT_FIX_SYSCTLS', help: 'nft plane: set ip_forward, rp_filter, nf_conntrack_acct instead of only reporting them' },
  { long: 'nft-exact-all', env: 'KEEPVS_NFT_EXACT', help: 'nft plane: every service takes the exact (NFQUEUE) path' },
  { long: 'nft-queue-failure', metavar: 'fallback|drop', env: 'KEEPVS_NFT_QUEUE_FAILURE', help: 'nft plane: what an unanswered queued packet becomes (default fallback)' },
  { long: 'nft-queue-num', metavar: 'N', env: 'KEEPVS_NFT_QUEUE_NUM', help: 'nft plane: the NFQUEUE number (default 107)' },
  { long: 'nft-map-timeouts', env: 'KEEPVS_NFT_MAP_TIMEOUTS', help: 'nft plane: map keepvsadm --set onto the host\'s conntrack timeouts' },
  { long: 'nft-view-interval', metavar: 'MS', env: 'KEEPVS_NFT_VIEW_MS', help: 'nft plane: connection-view refresh period (default 1000)' },
  { long: 'nft-no-queue', env: 'KEEPVS_NFT_NO_QUEUE', help: 'nft plane: bind no NFQUEUE consumer (tests of the failure behaviour)' },
  { long: 'nft-tunnel', metavar: 'ipip|vxlan[:VNI[:PORT]]', env: 'KEEPVS_NFT_TUNNEL', help: 'nft plane: how -i (TUN) real servers are reached: ipip (default) or VXLAN (keepvs extension; default VNI 107, port 4789)' },
];

export type FlagValue = { readonly ok: true; readonly value: NftEnvOptions } | { readonly ok: false; readonly message: string };

/**
 * A FULLNAT source: a comma-separated list of items, each one address or "A-B" (A <= B), all of
 * one family. One item is nft's `snat to A` / `snat to A-B`; a list becomes a round-robin choice
 * among the items (render.ts, fullnatSnatTarget). The message names the bad item.
 */
export function fullnatSourceProblem(text: string): string | null {
  const items = text.split(',');
  let family = 0;
  const seen = new Set<string>();
  for (const raw of items) {
    const item = raw.trim();
    const parts = item.split('-');
    if (parts.length > 2 || parts.some((p) => p === '')) {
      return items.length > 1 ? `item '${item}' of '${text}': expected ADDR or ADDR-ADDR` : `expected ADDR or ADDR-ADDR, got '${text}'`;
    }
    const addrs = parts.map((p) => parseAddr(p));
    if (addrs.some((a) => !a.ok)) return items.length > 1 ? `item '${item}' of '${text}' is not an address or an address range` : `'${text}' is not an address or an address range`;
    const ok = addrs.map((a) => (a.ok ? a.value : null!));
    if (ok.some((a) => a.family !== (family || ok[0].family))) return `'${text}' mixes IPv4 and IPv6`;
    family = ok[0].family;
    // nft refuses a range whose end comes before its start.
    if (ok.length === 2 && compareBytes(ok[0].bytes, ok[1].bytes) > 0) return `range '${item}' ends before it starts`;
    const canon = ok.map((a) => a.text).join('-');
    if (seen.has(canon)) return `'${item}' is listed twice`;
    seen.add(canon);
  }
  return null;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The items of a FULLNAT source list (already checked by fullnatSourceProblem), trimmed. */
export function fullnatSourceItems(text: string): string[] {
  return text.split(',').map((i) => i.trim());
}

/**
 * The option one flag sets, or the error message. `arg` is null for a switch. `source` names the
 * flag or the variable in the message.
 */
export function nftFlagValue(name: string, arg: string | null, source = `--${name}`): FlagValue {
  const bad = (why: string): FlagValue => ({ ok: false, message: `${source}: ${why}` });
  const int = (lo: number, hi: number): number | null => (/^\d+$/.test(arg ?? '') && Number(arg) >= lo && Number(arg) <= hi ? Number(arg) : null);
  switch (name) {
    case 'nft-table':
      // nft identifiers: a letter, then letters, digits, _ . / (scanner.l: identifier).
      if (!/^[A-Za-z][A-Za-z0-9_./]{0,62}$/.test(arg ?? '')) return bad(`'${arg}' is not an nftables table name`);
      return { ok: true, value: { table: arg! } };
    case 'nft-fullnat-source': {
      const p = fullnatSourceProblem(arg ?? '');
      return p === null ? { ok: true, value: { fullnatSource: fullnatSourceItems(arg ?? '').join(',') } } : bad(p);
    }
    case 'nft-flush-on-stop':
      if (arg === 'yes' || arg === '1' || arg === 'true') return { ok: true, value: { flushOnStop: true } };
      if (arg === 'no' || arg === '0' || arg === 'false') return { ok: true, value: { flushOnStop: false } };
      return bad(`expected yes or no, not '${arg}'`);
    case 'nft-fix-sysctls': return { ok: true, value: { fixSysctls: true } };
    case 'nft-exact-all': return { ok: true, value: { exactAll: true } };
    case 'nft-queue-failure':
      if (arg === 'fallback' || arg === 'drop') return { ok: true, value: { queueFailure: arg } };
      return bad(`expected fallback or drop, not '${arg}'`);
    case 'nft-queue-num': {
      const n = int(0, 65535);
      return n === null ? bad(`expected a queue number 0..65535, not '${arg}'`) : { ok: true, value: { queueNum: n } };
    }
    case 'nft-map-timeouts': return { ok: true, value: { mapTimeouts: true } };
    case 'nft-view-interval': {
      const n = int(100, 86_400_000);
      return n === null ? bad(`expected milliseconds 100..86400000, not '${arg}'`) : { ok: true, value: { viewIntervalMs: n } };
    }
    case 'nft-no-queue': return { ok: true, value: { noQueue: true } };
    case 'nft-tunnel': {
      if (arg === 'ipip') return { ok: true, value: { tunnel: { kind: 'ipip' } } };
      const m = /^vxlan(?::(\d+))?(?::(\d+))?$/.exec(arg ?? '');
      const vni = m?.[1] === undefined ? VXLAN_DEFAULT_VNI : Number(m[1]);
      const port = m?.[2] === undefined ? VXLAN_PORT : Number(m[2]);
      // RFC 7348 §5: the VNI is 24 bits.
      if (!m || vni < 1 || vni > 0xffffff || port < 1 || port > 65535) return bad(`expected ipip or vxlan[:VNI[:PORT]] (VNI 1..16777215), not '${arg}'`);
      return { ok: true, value: { tunnel: { kind: 'vxlan', vni, port } } };
    }
    default: return bad('unknown nft option');
  }
}

/**
 * The options from KEEPVS_NFT_* (the fallback), then the flags over them. A variable with a bad
 * value is an error too, named by the variable.
 */
export function mergeNftOptions(env: NodeJS.ProcessEnv, flags: NftEnvOptions = {}): FlagValue {
  let out: NftEnvOptions = {};
  for (const f of NFT_FLAGS) {
    const v = env[f.env];
    if (v === undefined || v === '') continue;
    let arg: string | null = v;
    if (f.metavar === undefined) {
      // Switches: 1/yes/true turn them on; KEEPVS_NFT_EXACT takes "all".
      const on = f.long === 'nft-exact-all' ? v === 'all' : v === '1' || v === 'yes' || v === 'true';
      if (!on) continue;
      arg = null;
    }
    const r = nftFlagValue(f.long, arg, f.env);
    if (!r.ok) return r;
    out = { ...out, ...r.value };
  }
  return { ok: true, value: { ...out, ...flags } };
}
