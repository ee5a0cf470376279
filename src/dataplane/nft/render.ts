// The model -> one nftables ruleset, purely. The ruleset lives in the plane's own table (family ip,
// default name "keepvs") and never names another table. Two texts come out of one Ruleset:
// - rulesetText(): the whole table as `nft list table` would show it (golden files, `nft -c`);
// - transaction(prev, next): the flat command list apply.ts loads with one `nft -f` — one atomic
//   kernel transaction that updates the table in place. Declarations are `add` (a no-op for an
//   object that exists), every chain and every static map is flushed and refilled, and objects
//   that the new model no longer has are deleted last. Dynamic maps (persistence templates, DR
//   flows) are never flushed, so live clients and flows survive every change and every reload.
//
// Packet path (proven on this kernel: shared/reference/kernel-dataplane.md):
//   prerouting raw  (-300) dr_pre     DR services: notrack, per-flow map, schedule the first packet
//   prerouting -160        classify   NAT services (VIP:port and port zero): schedule new conns
//   prerouting mangle(-150)           iptables' mangle table: user fwmarks, keepvs's NFQUEUE rule
//   prerouting -145        classify_fwm  fwmark services (their mark is set by now)
//   prerouting -140        settle     queue verdicts: ct mark / DR flow; queue bypassed: fallback
//   prerouting dstnat(-100) nat_pre   DNAT to `ct mark map @dnat_*`
//   postrouting srcnat(100) nat_post  FULLNAT: masquerade (or SNAT to a pool) for fullnat marks
//   input 0                guard      a packet for a service that was not forwarded is dropped,
//                                     never handed to the director's own sockets
import type { NftBackend, NftModel, NftService } from './model.ts';
import { BACKEND_TAG, QUEUE_TAG, MARK_ID_MASK, hex } from './marks.ts';
import { fullnatSourceItems } from './flags.ts';

export interface NftObject {
  readonly kind: 'map' | 'set' | 'chain' | 'counter';
  readonly name: string;
  /** Declaration inside braces, without elements (maps/sets) or rules (chains). */
  readonly decl: string;
  /** Map/set elements or chain rules. */
  readonly body: readonly string[];
  /** Dynamic maps keep their elements across applies. */
  readonly dynamic: boolean;
}

export interface Ruleset {
  readonly table: string;
  /** nftables family: ip (IPv4 services) or ip6 (IPv6 services). */
  readonly family: NftFamily;
  readonly objects: readonly NftObject[];
}

export type NftFamily = 'ip' | 'ip6';

/** The nft words of a family: its table family / payload protocol, and its address type. */
function fam(f: 4 | 6): { readonly p: NftFamily; readonly addr: string } {
  return f === 6 ? { p: 'ip6', addr: 'ipv6_addr' } : { p: 'ip', addr: 'ipv4_addr' };
}

const PROTO_MATCH: Readonly<Record<string, string>> = { tcp: 'tcp', udp: 'udp', sctp: 'sctp' };

function map(name: string, decl: string, body: string[], dynamic = false): NftObject {
  return { kind: 'map', name, decl, body, dynamic };
}
function set(name: string, decl: string, body: string[]): NftObject {
  return { kind: 'set', name, decl, body, dynamic: false };
}
function chain(name: string, decl: string, body: string[]): NftObject {
  return { kind: 'chain', name, decl, body, dynamic: false };
}

const SCHED_MAP_TYPE = 'typeof numgen inc mod 1 : meta mark;';
const TAG_MASK = '0xff000000';

/** The expression that picks a slot of the service's table. */
function slotExpr(s: NftService): string {
  const k = s.sched;
  switch (k.kind) {
    case 'numgen': return `numgen inc mod ${k.modulus}`;
    case 'hash-src': return `jhash ${fam(s.family).p} saddr mod ${k.modulus} seed 0x6b7673`;
    case 'hash-dst': return `jhash ${fam(s.family).p} daddr mod ${k.modulus} seed 0x6b7673`;
  }
}

/** The persistence key: the client network (ip_vs_sched_persist masks the client address). */
function persistKey(s: NftService): string {
  const p = s.persistence!;
  const saddr = `${fam(s.family).p} saddr`;
  return p.netmask === '255.255.255.255' || p.netmask === 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' ? saddr : `${saddr} & ${p.netmask}`;
}

function l4(s: Pick<NftService, 'match'>): string {
  return s.match.kind === 'addr' ? PROTO_MATCH[s.match.protocol] : 'th';
}

/**
 * DR flow key: the client's address and port (the VIP and service port are the service's).
 * IPv6: nft 1.0.6 (Debian 12) mis-allocates registers for a map update whose key is longer than
 * 16 bytes — `ip6 saddr . sport` aborts nft (netlink_linearize.c: `dreg < ctx->reg_low`), and
 * `sport . ip6 saddr` loads but the mark overwrites the address's last 32 bits in the stored key.
 * So the IPv6 key is the port and the address's low 96 bits (@nh,96,96: bytes 12..23 of the
 * header), 16 bytes. Two live flows that differ only in the address's top 32 bits share an entry:
 * both then go to the first one's real server, consistently, so no connection breaks. The exact
 * client address is kept for the connection view in conns_<svc> (a set: no data register).
 */
export function flowKey(s: Pick<NftService, 'family' | 'match'>): string {
  return s.family === 6 ? `${l4(s)} sport . @nh,96,96` : `${fam(s.family).p} saddr . ${l4(s)} sport`;
}

/** The view's exact record of an IPv6 DR flow (key only, so nft 1.0.6 stores it right). */
function connKey(s: NftService): string {
  return `${l4(s)} sport . ip6 saddr . meta mark`;
}

/** The statements that create or refresh a flow's entry (and, for IPv6, its view record). */
function flowUpdate(s: NftService, m: NftModel): string {
  const u = `update @flows_${s.name} { ${flowKey(s)} timeout ${m.drFlowTimeoutS}s : meta mark }`;
  return s.family === 6 ? `${u} update @conns_${s.name} { ${connKey(s)} timeout ${m.drFlowTimeoutS}s }` : u;
}

/** A flow-map element's key, as `nft delete element` takes it (plane.ts: closing a dest's flows). */
export function flowElementKey(family: 4 | 6, src: Uint8Array | string, sport: number): string {
  if (family === 4 || typeof src === 'string') return `${typeof src === 'string' ? src : src.join('.')} . ${sport}`;
  return `${sport} . 0x${Array.from(src.subarray(4, 16), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The rules that choose a backend mark for a new connection in the kernel: persistence first,
 * then the slot table; no dest => drop (IPVS: "no destination available"), counted.
 */
function scheduleRules(s: NftService, withPersistence: boolean): string[] {
  const r: string[] = ['meta mark set 0'];
  const persist = withPersistence && s.persistence !== null;
  if (persist) {
    r.push(`meta mark set ${persistKey(s)} map @persist_${s.name}`);
    // A template whose dest was deleted is void (ip_vs_check_template): schedule again.
    r.push(`meta mark != 0 meta mark != @avail_${s.name} meta mark set 0`);
  }
  if (s.sched.slots.length > 0) r.push(`meta mark 0 meta mark set ${slotExpr(s)} map @sched_${s.name}`);
  r.push('meta mark 0 counter name "no_dest" drop');
  if (persist) r.push(`update @persist_${s.name} { ${persistKey(s)} timeout ${s.persistence!.timeoutS}s : meta mark }`);
  return r;
}

function natServiceChain(s: NftService): string[] {
  if (s.path === 'queue') return [`meta mark set ${hex(s.queueMark)} accept`];
  return [...scheduleRules(s, true), 'ct mark set meta mark accept'];
}

function natFallbackChain(s: NftService, m: NftModel): string[] {
  if (m.queueFailure === 'drop') return ['counter name "queue_fail" drop'];
  return ['counter name "queue_fallback"', ...scheduleRules(s, false), 'ct mark set meta mark accept'];
}

/**
 * One-packet scheduling (-o) in the kernel, per datagram and untracked: NAT rewrites the
 * destination to the chosen dest (the reply's source is rewritten back in ops_forward); DR only
 * marks the datagram for its fwmark route. No flow map, no conntrack entry: the next datagram of
 * the same client socket is scheduled again, as IPVS's one-packet connections are.
 */
function onePacketChain(s: NftService): string[] {
  const P = fam(s.family).p;
  const r = ['notrack', ...scheduleRules(s, true)];
  if (s.mode === 'dr') return [...r, 'accept'];
  return [...r, `${P} daddr set meta mark map @ops_daddr udp dport set meta mark map @ops_dport accept`];
}

/** The reply of a one-packet NAT dest leaves with the service's address and port, as IPVS-NAT's would. */
function onePacketReplyChain(s: NftService): string[] {
  const P = fam(s.family).p;
  const m = s.match.kind === 'addr' ? s.match : null;
  return [`${P} saddr set ${m!.vip} udp sport set ${m!.port} accept`];
}

function drServiceChain(s: NftService, m: NftModel): string[] {
  if (s.onePacket) return onePacketChain(s);
  const key = flowKey(s);
  const r = ['notrack', 'meta mark set 0', `meta mark set ${key} map @flows_${s.name}`];
  const known = `meta mark ${hex(BACKEND_TAG)}/8`;
  r.push(`${known} ${flowUpdate(s, m)} accept`);
  // Only a connection's first packet is scheduled (TCP: a SYN without ACK); any other packet of
  // an unknown flow falls through to the input guard and is dropped there.
  const first = s.match.kind === 'addr' && s.match.protocol === 'tcp' ? 'tcp flags & (syn | ack) == syn ' : '';
  if (s.path === 'queue') {
    r.push(`${first}meta mark set ${hex(s.queueMark)} accept`);
    return r;
  }
  r.push(`${first}goto new_${s.name}`);
  return r;
}

function drNewChain(s: NftService, m: NftModel, withPersistence: boolean): string[] {
  return [...scheduleRules(s, withPersistence), `${flowUpdate(s, m)} accept`];
}

function drSettleChain(s: NftService, m: NftModel): string[] {
  return [`${flowUpdate(s, m)} accept`];
}

function drFallbackChain(s: NftService, m: NftModel): string[] {
  if (m.queueFailure === 'drop') return ['counter name "queue_fail" drop'];
  return ['counter name "queue_fallback"', ...drNewChain(s, m, false)];
}

function addrKey(s: NftService): string | null {
  if (s.match.kind !== 'addr') return null;
  return s.match.port === 0 ? `${s.match.vip} . ${s.match.protocol}` : `${s.match.vip} . ${s.match.protocol} . ${s.match.port}`;
}

/** The ruleset for a model. Pure: the same model gives the same ruleset, byte for byte. */
export function render(m: NftModel): Ruleset {
  const { p: P, addr: A } = fam(m.family);
  // One-packet NAT services are stateless like DR ones: dispatched in the raw hook (dr_pre), never tracked.
  const opsNat = m.services.filter((s) => s.mode === 'nat' && s.onePacket);
  const nat = m.services.filter((s) => s.mode === 'nat' && !s.onePacket);
  const dr = m.services.filter((s) => s.mode === 'dr');
  const raw = [...dr, ...opsNat];
  const queued = m.services.filter((s) => s.path === 'queue');
  const objects: NftObject[] = [];

  // Counters the plane reads back as drop reasons.
  for (const c of ['no_dest', 'guard', 'queue_fallback', 'queue_fail']) {
    objects.push({ kind: 'counter', name: c, decl: '', body: [], dynamic: false });
  }

  // Backends: mark -> where to DNAT. Port 0 keeps the client's destination port.
  const natBackends: NftBackend[] = nat.flatMap((s) => s.backends);
  objects.push(map('dnat_ap', `type mark : ${A} . inet_service;`,
    natBackends.filter((b) => b.port !== 0).map((b) => `${hex(b.mark)} : ${b.addr} . ${b.port}`)));
  objects.push(map('dnat_a', `type mark : ${A};`,
    natBackends.filter((b) => b.port === 0).map((b) => `${hex(b.mark)} : ${b.addr}`)));
  objects.push(set('fullnat', 'type mark;', natBackends.filter((b) => b.fwd === 'fullnat').map((b) => hex(b.mark))));

  // Dispatch: which service a new connection belongs to (ip_vs_service_find's order: fwmark,
  // then VIP:port, then the VIP's port-zero service).
  const vm = (list: NftService[], pred: (s: NftService) => boolean, key: (s: NftService) => string, target: (s: NftService) => string) =>
    list.filter(pred).map((s) => `${key(s)} : goto ${target(s)}`);
  const isAddr = (s: NftService) => s.match.kind === 'addr' && s.match.port !== 0;
  const isPcc = (s: NftService) => s.match.kind === 'addr' && s.match.port === 0;
  const isFwm = (s: NftService) => s.match.kind === 'fwmark';
  const fwmKey = (s: NftService) => (s.match.kind === 'fwmark' ? hex(s.match.fwmark) : '');
  objects.push(map('svc_addr', `type ${A} . inet_proto . inet_service : verdict;`, vm(nat, isAddr, (s) => addrKey(s)!, (s) => s.name)));
  objects.push(map('svc_pcc', `type ${A} . inet_proto : verdict;`, vm(nat, isPcc, (s) => addrKey(s)!, (s) => s.name)));
  objects.push(map('svc_fwm', 'type mark : verdict;',
    vm(nat, isFwm, fwmKey, (s) => (s.path === 'queue' ? `fb_${s.name}` : s.name))));
  objects.push(map('dr_addr', `type ${A} . inet_proto . inet_service : verdict;`, vm(raw, isAddr, (s) => addrKey(s)!, (s) => s.name)));
  objects.push(map('dr_pcc', `type ${A} . inet_proto : verdict;`, vm(dr, isPcc, (s) => addrKey(s)!, (s) => s.name)));
  const drQueued = dr.filter((s) => s.path === 'queue');
  objects.push(map('dr_settle', `type ${A} . inet_proto . inet_service : verdict;`,
    vm(drQueued, isAddr, (s) => addrKey(s)!, (s) => `settle_${s.name}`)));
  objects.push(map('dr_settle_pcc', `type ${A} . inet_proto : verdict;`,
    vm(drQueued, isPcc, (s) => addrKey(s)!, (s) => `settle_${s.name}`)));
  objects.push(map('fallback', 'type mark : verdict;',
    queued.filter((s) => !isFwm(s)).map((s) => `${hex(s.index)} : goto fb_${s.name}`)));
  // The guard: every VIP:port (and VIP of a port-zero service) the plane forwards.
  objects.push(set('guard_addr', `type ${A} . inet_proto . inet_service;`, m.services.filter(isAddr).map((s) => addrKey(s)!)));
  objects.push(set('guard_pcc', `type ${A} . inet_proto;`, m.services.filter(isPcc).map((s) => addrKey(s)!)));

  // One-packet NAT: each dest's address and port by mark, and the replies to rewrite (a real server
  // shared by two one-packet services answers as the first of them).
  // Declared only while such a service exists, so other rulesets stay as they were.
  const opsBackends = opsNat.flatMap((s) => s.backends.map((b) => ({ s, b })));
  if (opsNat.length > 0) objects.push(map('ops_daddr', `type mark : ${A};`, opsBackends.map(({ b }) => `${hex(b.mark)} : ${b.addr}`)));
  if (opsNat.length > 0) objects.push(map('ops_dport', 'type mark : inet_service;', opsBackends.map(({ b }) => `${hex(b.mark)} : ${b.port}`)));
  const replyOf = new Map<string, NftService>();
  for (const { s, b } of opsBackends) if (!replyOf.has(`${b.addr} . udp . ${b.port}`)) replyOf.set(`${b.addr} . udp . ${b.port}`, s);
  if (opsNat.length > 0) objects.push(set('ops_reply_from', `type ${A} . inet_proto . inet_service;`, [...replyOf.keys()]));
  if (opsNat.length > 0) objects.push(map('ops_reply', `type ${A} . inet_proto . inet_service : verdict;`, [...replyOf].map(([k, s]) => `${k} : goto rp_${s.name}`)));

  // Per service: scheduler table, persistence, DR flows.
  for (const s of m.services) {
    objects.push(map(`sched_${s.name}`, SCHED_MAP_TYPE, s.sched.slots.map(([slot, mark]) => `${slot} : ${hex(mark)}`)));
    if (s.persistence) {
      objects.push(map(`persist_${s.name}`, `type ${A} : mark; flags dynamic,timeout;`, [], true));
      objects.push(set(`avail_${s.name}`, 'type mark;', s.backends.map((b) => hex(b.mark))));
    }
    if (s.mode === 'dr') {
      objects.push(map(`flows_${s.name}`, `typeof ${flowKey(s)} : meta mark; flags dynamic,timeout;`, [], true));
      if (s.family === 6) objects.push({ kind: 'set', name: `conns_${s.name}`, decl: `typeof ${connKey(s)}; flags dynamic,timeout;`, body: [], dynamic: true });
    }
  }

  const hook = (h: string, prio: string, type = 'filter') => `type ${type} hook ${h} priority ${prio}; policy accept;`;
  objects.push(chain('dr_pre', hook('prerouting', 'raw'), [
    `${P} daddr . meta l4proto . th dport vmap @dr_addr`,
    `${P} daddr . meta l4proto vmap @dr_pcc`,
    // Replies of one-packet NAT dests: untracked too (rewritten after routing, in ops_forward).
    ...(opsNat.length > 0 ? [`${P} saddr . meta l4proto . th sport @ops_reply_from notrack`] : []),
  ]));
  // A retransmitted first packet (a SYN nobody answered yet) is still "new" to conntrack, but its
  // entry already carries the dest's mark and its NAT binding: it is not scheduled again, so it
  // neither moves an rr/wrr position nor asks the queue a second time.
  const fresh = `ct state new ct mark != ${hex(BACKEND_TAG)}/8`;
  objects.push(chain('classify', hook('prerouting', '-160'), [
    `${fresh} ${P} daddr . meta l4proto . th dport vmap @svc_addr`,
    `${fresh} ${P} daddr . meta l4proto vmap @svc_pcc`,
  ]));
  objects.push(chain('classify_fwm', hook('prerouting', '-145'), [`${fresh} meta mark vmap @svc_fwm`]));
  objects.push(chain('settle', hook('prerouting', '-140'), [
    // A packet still tagged "to the queue": the consumer never answered (none bound, queue full).
    `meta mark ${hex(QUEUE_TAG)}/8 meta mark & ${hex(MARK_ID_MASK)} vmap @fallback`,
    `ct state new meta mark ${hex(BACKEND_TAG)}/8 ct mark set meta mark accept`,
    `ct state untracked meta mark ${hex(BACKEND_TAG)}/8 ${P} daddr . meta l4proto . th dport vmap @dr_settle`,
    `ct state untracked meta mark ${hex(BACKEND_TAG)}/8 ${P} daddr . meta l4proto vmap @dr_settle_pcc`,
  ]));
  objects.push(chain('nat_pre', hook('prerouting', 'dstnat', 'nat'), [
    `meta l4proto { tcp, udp, sctp } dnat ${P} to ct mark map @dnat_ap`,
    `dnat ${P} to ct mark map @dnat_a`,
  ]));
  // No random / fully-random: the kernel then keeps the client's source port when it is free toward
  // the real server (nf_nat_core.c), so the real server sees the client's own tuples; remapped ports
  // hit its TIME_WAIT sockets and PAWS (measured: bench/nft/fullnat-ports.ts, docs "FULLNAT source ports").
  objects.push(chain('nat_post', hook('postrouting', 'srcnat', 'nat'), [
    m.fullnatSource === null ? 'ct mark @fullnat masquerade' : `ct mark @fullnat snat ${P} to ${fullnatSnatTarget(m.fullnatSource)}`,
  ]));
  // After routing (a local source address would be a martian in prerouting): one-packet replies
  // take the service's address and port.
  if (opsNat.length > 0) {
    objects.push(chain('ops_forward', hook('forward', '0'), [
      `ct state untracked ${P} saddr . meta l4proto . th sport vmap @ops_reply`,
    ]));
  }
  objects.push(chain('guard', hook('input', '0'), [
    `${P} daddr . meta l4proto . th dport @guard_addr counter name "guard" drop`,
    `${P} daddr . meta l4proto @guard_pcc counter name "guard" drop`,
  ]));
  for (const s of nat) {
    // A queue-path fwmark service is never dispatched to its own chain: the NFQUEUE rule matches its
    // mark directly, and classify_fwm sends a packet the queue did not answer to its fallback.
    if (!(s.path === 'queue' && isFwm(s))) objects.push(chain(s.name, '', natServiceChain(s)));
    if (s.path === 'queue') objects.push(chain(`fb_${s.name}`, '', natFallbackChain(s, m)));
  }
  for (const s of opsNat) {
    objects.push(chain(s.name, '', onePacketChain(s)));
    objects.push(chain(`rp_${s.name}`, '', onePacketReplyChain(s)));
  }
  for (const s of dr) {
    objects.push(chain(s.name, '', drServiceChain(s, m)));
    if (s.onePacket) continue;
    if (s.path === 'kernel') objects.push(chain(`new_${s.name}`, '', drNewChain(s, m, true)));
    else {
      objects.push(chain(`settle_${s.name}`, '', drSettleChain(s, m)));
      objects.push(chain(`fb_${s.name}`, '', drFallbackChain(s, m)));
    }
  }
  void TAG_MASK;
  return { table: m.table, family: P, objects };
}

function objectText(o: NftObject, indent: string): string {
  const head = `${indent}${o.kind} ${o.name} {`;
  if (o.kind === 'counter') return `${head}\n${indent}}`;
  const lines: string[] = [head];
  if (o.decl) lines.push(`${indent}\t${o.decl}`);
  if (o.kind === 'chain') {
    for (const r of o.body) lines.push(`${indent}\t${r}`);
  } else if (o.body.length > 0) {
    lines.push(`${indent}\telements = { ${o.body.join(`,\n${indent}\t             `)} }`);
  }
  lines.push(`${indent}}`);
  return lines.join('\n');
}

/** The whole table, declaratively (what the golden files hold; `nft -c -f` accepts it). */
export function rulesetText(r: Ruleset): string {
  const parts = r.objects.map((o) => objectText(o, '\t'));
  return `table ${r.family} ${r.table} {\n${parts.join('\n\n')}\n}\n`;
}

// Chains are added before maps whose verdict elements jump to them, and regular chains before
// the base chains whose rules refer to them; sets and maps before the rules that read them.
const ORDER: Readonly<Record<NftObject['kind'], number>> = { counter: 0, set: 1, map: 1, chain: 2 };

function declCmd(t: string, o: NftObject): string {
  if (o.kind === 'counter') return `add counter ${t} ${o.name}`;
  return o.decl ? `add ${o.kind} ${t} ${o.name} { ${o.decl} }` : `add ${o.kind} ${t} ${o.name}`;
}

/**
 * One atomic transaction from `prev` (what is loaded, or null when unknown: the table is then
 * deleted first — start-up after a crash) to `next`.
 */
export function transaction(prev: Ruleset | null, next: Ruleset): string {
  // "ip keepvs" / "ip6 keepvs": every command names the family with the table.
  const t = `${next.family} ${next.table}`;
  const out: string[] = [];
  if (prev === null) {
    // `add table` + `delete table` never fails, whether or not a previous run left one behind.
    out.push(`add table ${t}`, `delete table ${t}`);
  }
  out.push(`add table ${t}`);
  const sorted = [...next.objects].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  // Regular chains first: verdict-map elements refer to them.
  const chains = sorted.filter((o) => o.kind === 'chain');
  const regular = chains.filter((o) => o.decl === '');
  const base = chains.filter((o) => o.decl !== '');
  for (const o of [...regular, ...sorted.filter((o) => o.kind !== 'chain'), ...base]) out.push(declCmd(t, o));
  // Empty every chain first (stale ones too), so nothing still refers to what goes away.
  const stale = prev === null ? [] : prev.objects.filter((p) => !next.objects.some((o) => o.kind === p.kind && o.name === p.name));
  for (const o of [...chains, ...stale.filter((o) => o.kind === 'chain')]) out.push(`flush chain ${t} ${o.name}`);
  for (const o of sorted) {
    if ((o.kind === 'map' || o.kind === 'set') && !o.dynamic) {
      out.push(`flush ${o.kind} ${t} ${o.name}`);
      if (o.body.length > 0) out.push(`add element ${t} ${o.name} { ${o.body.join(', ')} }`);
    }
  }
  for (const o of stale) if (o.kind === 'map' || o.kind === 'set') out.push(`flush ${o.kind} ${t} ${o.name}`);
  for (const o of [...regular, ...base]) for (const r of o.body) out.push(`add rule ${t} ${o.name} ${r}`);
  // Stale objects go last: chains (now empty and unreferenced), then maps and sets.
  for (const o of stale.filter((o) => o.kind === 'chain')) out.push(`delete chain ${t} ${o.name}`);
  for (const o of stale.filter((o) => o.kind !== 'chain')) out.push(`delete ${o.kind} ${t} ${o.name}`);
  return `${out.join('\n')}\n`;
}

/** Removes everything the plane loaded (stop with flush, or the start-up cleanup). */
export function teardown(table: string, families: readonly NftFamily[] = ['ip']): string {
  return families.map((f) => `add table ${f} ${table}\ndelete table ${f} ${table}\n`).join('');
}

/**
 * The `snat to` argument for a FULLNAT source list. One item is written as is. nft 1.0.6 has no
 * list form (`snat ip to A, B` is "not bitmask", `to { A, B }` a syntax error: checked with nft -c),
 * so a list becomes `numgen inc mod N map { 0 : item0, ... }`: NAT rules run once per new conntrack
 * entry, so each new connection takes the next item, round-robin like LVS FULLNAT's local-address
 * list; inside a range the kernel picks the address (nf_nat_core.c). When any item is a range,
 * every item is written as a range (a lone A as A-A): the kernel refuses a map mixing interval and
 * plain data ("Invalid argument", measured with nft -c).
 */
export function fullnatSnatTarget(source: string): string {
  const items = fullnatSourceItems(source);
  if (items.length === 1) return items[0];
  const ranged = items.some((i) => i.includes('-'));
  const data = items.map((i) => (ranged && !i.includes('-') ? `${i}-${i}` : i));
  return `numgen inc mod ${items.length} map { ${data.map((d, i) => `${i} : ${d}`).join(', ')} }`;
}
