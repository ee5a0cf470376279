// Direct routing's (and tunnelling's) half outside nftables: each DR backend mark selects a routing table whose
// default route is the real server itself, so the packet leaves unchanged (daddr still the VIP)
// towards the RS's MAC. The VIP is a local address of the director, and the kernel consults the
// `local` table at rule preference 0 before anything else; the fwmark rules must come first, so the
// local rule is moved to a preference just below them (add the new one, then remove pref 0: there is
// never a moment without a local rule) and put back on stop. Every rule and route keepvs adds
// carries rtnetlink protocol 107, so a start after a crash finds and removes them.
// Pure: the desired rules and routes for a model, and the commands that take one state to another.
import type { NftModel } from './model.ts';
import { DR_RULE_PREF, DR_TABLE_BASE, LOCAL_RULE_PREF, RT_PROTO_KEEPVS, hex, markId } from './marks.ts';

/**
 * How TUN (-i) dests are encapsulated: ipip (LVS-TUN proper, ip_vs_xmit.c: ip_vs_tunnel_xmit) where
 * the kernel has it, or — a keepvs extension for kernels without ipip — VXLAN: the packet, unchanged
 * (daddr still the VIP), goes out as an Ethernet frame inside UDP to the real server, whose VXLAN
 * device (same VNI and port, MAC VXLAN_RS_MAC) hands it to its IP stack.
 */
export type TunnelEncap =
  | { readonly kind: 'ipip' }
  | { readonly kind: 'vxlan'; readonly vni: number; readonly port: number };

export const IPIP: TunnelEncap = { kind: 'ipip' };
/** IANA's VXLAN port (RFC 7348 §5). */
export const VXLAN_PORT = 4789;
export const VXLAN_DEFAULT_VNI = 107;
/**
 * The MAC every real server gives its VXLAN device: the director addresses the inner frame to it
 * (a static neighbour entry for the VIP). TCP drops frames not addressed to the host (PACKET_HOST),
 * so a broadcast MAC would not do. Each RS's VXLAN link is point-to-point with the director, so
 * they can all use the same, locally administered, address ("kvsvx").
 */
export const VXLAN_RS_MAC = '02:6b:76:73:76:78';
/** 1500 minus the outer IPv4 + UDP + VXLAN + inner Ethernet headers (50 bytes). */
export const VXLAN_MTU = 1450;
/**
 * The one VXLAN device of the director, in external (collect_md) mode: each backend's route names
 * its real server and VNI (`encap ip id VNI dst RIP`, lightweight tunnel). One device per real
 * server would not do: two VXLAN devices with the same VNI and port collide in the kernel.
 */
export const VXLAN_DEVICE = 'kvx0';

export interface DrRoute {
  readonly table: number;
  /** The real server. */
  readonly via: string;
  /**
   * LVS-TUN: the packet leaves through a tunnel device whose remote end is the real server (the
   * outer header DIP -> RIP), named kvip<id> (ipip) or kvx<id> (VXLAN); null for DR.
   */
  readonly tunnel: string | null;
  /** The VIP (VXLAN: its static neighbour entry on the tunnel device). */
  readonly vip: string;
  readonly encap: TunnelEncap;
}

export interface DrRule {
  readonly vip: string;
  readonly mark: number;
  readonly table: number;
}

export interface DrPlan {
  readonly routes: readonly DrRoute[];
  readonly rules: readonly DrRule[];
  /** Whether the local-table rule must sit below the fwmark rules. */
  readonly moveLocal: boolean;
}

export const EMPTY_DR_PLAN: DrPlan = { routes: [], rules: [], moveLocal: false };

/** A DR backend that was removed while flows may still use it (IPVS keeps forwarding those). */
export interface LingeringBackend {
  readonly vip: string;
  readonly mark: number;
  readonly addr: string;
  readonly tunnel: boolean;
}

/** The tunnel device of a TUN backend (IFNAMSIZ: at most 15 characters). */
export function tunnelName(mark: number, encap: TunnelEncap = IPIP): string {
  return encap.kind === 'vxlan' ? VXLAN_DEVICE : `kvip${markId(mark)}`;
}

/**
 * The ip(8) argument lists of one family: IPv6 DR is the same policy routing in the IPv6 rule and
 * route tables (`ip -6 rule`, `ip -6 route`, whose local rule also sits at preference 0), so every
 * command only gains `-6`. Tunnels are IPv4 only (checkDest refuses IPv6 TUN).
 */
export function forFamily(family: 4 | 6, cmds: readonly string[][]): string[][] {
  return family === 6 ? cmds.map((c) => ['-6', ...c]) : cmds.map((c) => [...c]);
}

export function drPlan(m: NftModel, lingering: readonly LingeringBackend[] = [], encap: TunnelEncap = IPIP): DrPlan {
  const routes = new Map<number, DrRoute>();
  const rules = new Map<string, DrRule>();
  for (const b of lingering) {
    const table = DR_TABLE_BASE + markId(b.mark);
    routes.set(table, { table, via: b.addr, tunnel: b.tunnel ? tunnelName(b.mark, encap) : null, vip: b.vip, encap });
    rules.set(`${b.vip}|${b.mark}`, { vip: b.vip, mark: b.mark, table });
  }
  for (const s of m.services) {
    if (s.mode !== 'dr' || s.match.kind !== 'addr') continue;
    for (const b of s.backends) {
      const table = DR_TABLE_BASE + markId(b.mark);
      routes.set(table, { table, via: b.addr, tunnel: b.fwd === 'tunnel' ? tunnelName(b.mark, encap) : null, vip: s.match.vip, encap });
      rules.set(`${s.match.vip}|${b.mark}`, { vip: s.match.vip, mark: b.mark, table });
    }
  }
  return { routes: [...routes.values()], rules: [...rules.values()], moveLocal: rules.size > 0 };
}

const proto = ['proto', String(RT_PROTO_KEEPVS)];

function ruleArgs(r: DrRule): string[] {
  return ['pref', String(DR_RULE_PREF), 'to', r.vip, 'fwmark', hex(r.mark), 'table', String(r.table)];
}

const isVxlan = (r: DrRoute): boolean => r.tunnel !== null && r.encap.kind === 'vxlan';

/** ip(8) argument lists that take the kernel from `prev` to `next`, in a safe order. */
export function drCommands(prev: DrPlan, next: DrPlan): string[][] {
  const out: string[][] = [];
  const key = (r: DrRule) => `${r.vip}|${r.mark}|${r.table}`;
  const prevRules = new Set(prev.rules.map(key));
  const nextRules = new Set(next.rules.map(key));
  const routeKey = (r: DrRoute) => `${r.via}|${r.tunnel ?? ''}|${r.tunnel && r.encap.kind === 'vxlan' ? `${r.encap.vni}|${r.encap.port}` : ''}`;
  const prevRoutes = new Map(prev.routes.map((r) => [r.table, r]));
  // VXLAN (keepvs's TUN): the shared device first, and a neighbour entry per VIP so the inner frame
  // is addressed to the real servers' agreed MAC.
  const vxPrev = prev.routes.filter(isVxlan);
  const vxNext = next.routes.filter(isVxlan);
  if (vxNext.length > 0 && vxPrev.length === 0) {
    const e = vxNext[0].encap as Extract<TunnelEncap, { kind: 'vxlan' }>;
    out.push(['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'external', 'dstport', String(e.port)]);
    out.push(['link', 'set', VXLAN_DEVICE, 'mtu', String(VXLAN_MTU), 'up']);
  }
  const vipsPrev = new Set(vxPrev.map((r) => r.vip));
  const vipsNext = new Set(vxNext.map((r) => r.vip));
  for (const vip of vipsNext) {
    if (!vipsPrev.has(vip)) out.push(['neigh', 'replace', vip, 'lladdr', VXLAN_RS_MAC, 'dev', VXLAN_DEVICE, 'nud', 'permanent']);
  }
  // Routes first, so a rule never points at an empty table.
  for (const r of next.routes) {
    const was = prevRoutes.get(r.table);
    if (was && routeKey(was) === routeKey(r)) continue;
    if (was?.tunnel && !isVxlan(was) && was.tunnel !== r.tunnel) out.push(['link', 'del', was.tunnel]);
    if (isVxlan(r)) {
      // kernel-dataplane.md §4: the VXLAN stand-in for LVS-TUN, here with lightweight-tunnel routes.
      const e = r.encap as Extract<TunnelEncap, { kind: 'vxlan' }>;
      out.push(['route', 'replace', 'default', 'encap', 'ip', 'id', String(e.vni), 'dst', r.via, 'dev', VXLAN_DEVICE, 'table', String(r.table), ...proto]);
    } else if (r.tunnel) {
      if (was?.tunnel === r.tunnel) out.push(['link', 'del', r.tunnel]);
      out.push(['link', 'add', r.tunnel, 'type', 'ipip', 'remote', r.via]);
      out.push(['link', 'set', r.tunnel, 'up']);
      out.push(['route', 'replace', 'default', 'dev', r.tunnel, 'table', String(r.table), ...proto]);
    } else {
      out.push(['route', 'replace', 'default', 'via', r.via, 'table', String(r.table), ...proto]);
    }
  }
  for (const r of next.rules) if (!prevRules.has(key(r))) out.push(['rule', 'add', ...ruleArgs(r), ...proto]);
  if (next.moveLocal && !prev.moveLocal) {
    out.push(['rule', 'add', 'pref', String(LOCAL_RULE_PREF), 'lookup', 'local', ...proto]);
    out.push(['rule', 'del', 'pref', '0', 'lookup', 'local']);
  }
  if (!next.moveLocal && prev.moveLocal) {
    out.push(['rule', 'add', 'pref', '0', 'lookup', 'local']);
    out.push(['rule', 'del', 'pref', String(LOCAL_RULE_PREF), 'lookup', 'local']);
  }
  for (const r of prev.rules) if (!nextRules.has(key(r))) out.push(['rule', 'del', ...ruleArgs(r)]);
  const nextTables = new Set(next.routes.map((r) => r.table));
  for (const r of prev.routes) {
    if (nextTables.has(r.table)) continue;
    out.push(['route', 'flush', 'table', String(r.table)]);
    if (r.tunnel && !isVxlan(r)) out.push(['link', 'del', r.tunnel]);
  }
  if (vxNext.length === 0 && vxPrev.length > 0) out.push(['link', 'del', VXLAN_DEVICE]);
  else for (const vip of vipsPrev) if (!vipsNext.has(vip)) out.push(['neigh', 'del', vip, 'dev', VXLAN_DEVICE]);
  return out;
}

/**
 * Start-up after a crash (or a stop that kept nothing): remove every rule and route with keepvs's
 * protocol tag, putting the local rule back at preference 0 first when it is missing.
 * `rulesJson` is `ip -j rule list`; `routeTables` are the tables of `ip -j route show table all proto 107`.
 */
export function drCleanupCommands(rulesJson: string, routeTables: readonly number[], links: readonly string[] = []): string[][] {
  let rules: { priority?: number; table?: string; protocol?: string }[] = [];
  try {
    rules = JSON.parse(rulesJson) as typeof rules;
  } catch {
    rules = [];
  }
  const out: string[][] = [];
  const hasLocal0 = rules.some((r) => r.priority === 0 && r.table === 'local');
  const ours = rules.filter((r) => r.protocol === String(RT_PROTO_KEEPVS) || r.protocol === 'keepvs');
  if (ours.length > 0 && !hasLocal0) out.push(['rule', 'add', 'pref', '0', 'lookup', 'local']);
  if (ours.length > 0) out.push(['rule', 'flush', ...proto]);
  for (const t of [...new Set(routeTables)].sort((a, b) => a - b)) out.push(['route', 'flush', 'table', String(t), ...proto]);
  for (const l of links) if (/^(kvip|kvx)\d+$/.test(l)) out.push(['link', 'del', l]);
  return out;
}
