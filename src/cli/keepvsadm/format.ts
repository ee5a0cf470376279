// Snapshots to ipvsadm's text, byte for byte: every layout here is a printf format of ipvsadm.c
// (print_title, print_service_entry, print_largenum, print_conn, list_conn, list_timeout) rendered
// by hand, trailing blanks included. Pure: names for addresses and ports come through `Names`.
import type { ConnSnapshot, DestSnapshot, InfoSnapshot, ServiceSnapshot, TimeoutsSnapshot } from '../../core/snapshot.ts';
import { addrBytes, addrText, IPPROTO } from '../../config/endpoint.ts';
import { sortDests, sortServices } from './sort.ts';

/** ipvsadm.c: the FMT_* printing flags. */
export interface Format {
  readonly numeric: boolean;
  readonly rule: boolean;
  readonly stats: boolean;
  readonly rate: boolean;
  readonly thresholds: boolean;
  readonly persistentConn: boolean;
  readonly nosort: boolean;
  readonly exact: boolean;
  readonly tunInfo: boolean;
}

export const FMT_NONE: Format = {
  numeric: false, rule: false, stats: false, rate: false, thresholds: false,
  persistentConn: false, nosort: false, exact: false, tunInfo: false,
};

/** Reverse lookups (gethostbyaddr, getservbyport); null when there is no name. */
export interface Names {
  host(family: 4 | 6, addr: string): string | null;
  service(port: number, protocol: number): string | null;
}

export const NO_NAMES: Names = { host: () => null, service: () => null };

const SVC_F_PERSISTENT = 0x1;
const SVC_F_ONEPACKET = 0x4;
const SVC_F_SCHED1 = 0x8;
const SVC_F_SCHED2 = 0x10;
const SVC_F_SCHED3 = 0x20;

/** printf %-Ns */
function left(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

/** printf %Ns */
function right(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** printf %d / %u of an integer (the snapshot may hold a float by accident: C would hold an int). */
function int(n: number): string {
  return String(Math.trunc(n));
}

const PROTO_NUMBER: Readonly<Record<string, number>> = { tcp: IPPROTO.TCP, udp: IPPROTO.UDP, sctp: IPPROTO.SCTP };

/** inet_ntop of a numeric address text, so the daemon's spelling never leaks into the listing. */
function ntop(addr: string): string {
  const b = addrBytes(addr);
  return b ? addrText(b) : addr;
}

/**
 * ipvsadm.c: addrport_to_anyname — "addr:port" numerically, otherwise "name:service" falling back
 * to each number; IPv6 in brackets (even a host name); at most 59 characters (a 60-byte buffer).
 */
export function addrPortName(family: 4 | 6, addr: string, port: number, protocol: number, numeric: boolean, names: Names): string {
  const a = ntop(addr);
  const host = numeric ? a : names.host(family, a) ?? a;
  const svc = numeric ? String(port) : names.service(port, protocol) ?? String(port);
  const text = family === 4 ? `${host}:${svc}` : `[${host}]:${svc}`;
  return text.slice(0, 59);
}

/**
 * print_largenum: a 9-column number, scaled with K/M/G/T (integer division) from 10^8 up;
 * --exact prints it whole, 9 wide or one blank before a longer number.
 */
export function largeNum(i: number, exact: boolean): string {
  const v = Math.max(0, Math.trunc(i));
  if (exact) {
    const s = String(v);
    return right(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (v < 1e8) return right(String(v), 9);
  if (v < 1e9) return right(String(Math.floor(v / 1e3)), 8) + 'K';
  if (v < 1e11) return right(String(Math.floor(v / 1e6)), 8) + 'M';
  if (v < 1e14) return right(String(Math.floor(v / 1e9)), 8) + 'G';
  return right(String(Math.floor(v / 1e12)), 8) + 'T';
}

/** print_title */
export function title(f: Format): string {
  const head = left('Prot LocalAddress:Port', 33);
  if (f.stats) {
    return `${head} ${right('Conns', 8)} ${right('InPkts', 8)} ${right('OutPkts', 8)} ${right('InBytes', 8)} ${right('OutBytes', 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (f.rate) {
    return `${head} ${right('CPS', 8)} ${right('InPPS', 8)} ${right('OutPPS', 8)} ${right('InBPS', 8)} ${right('OutBPS', 8)}\n  -> RemoteAddress:Port\n`;
  }
  if (f.thresholds) {
    return `${head} ${left('Uthreshold', 10)} ${left('Lthreshold', 10)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (f.persistentConn) {
    return `${head} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (f.tunInfo) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  }
  if (!f.rule) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  }
  return '';
}

/** print_sched_flags: sh and mh name SCHED1/SCHED2 (and drop SCHED3); others say flag-N. */
function schedFlagsText(svc: ServiceSnapshot): string {
  const out: string[] = [];
  if (svc.scheduler === 'sh' || svc.scheduler === 'mh') {
    if (svc.flags & SVC_F_SCHED1) out.push(`${svc.scheduler}-fallback`);
    if (svc.flags & SVC_F_SCHED2) out.push(`${svc.scheduler}-port`);
  } else {
    if (svc.flags & SVC_F_SCHED1) out.push('flag-1');
    if (svc.flags & SVC_F_SCHED2) out.push('flag-2');
    if (svc.flags & SVC_F_SCHED3) out.push('flag-3');
  }
  return out.join(',');
}

/** fwd_name; FullNat is keepvs's method (no kernel value), seven letters like the column. */
function fwdName(d: DestSnapshot): string {
  switch (d.fwd) {
    case 'masq': return 'Masq';
    case 'local': return 'Local';
    case 'tunnel': return 'Tunnel';
    case 'route': return 'Route';
    case 'fullnat': return 'FullNat';
  }
}

/** fwd_switch: LOCALNODE is saved as -g (ipvsadm has no switch for it). */
function fwdSwitch(d: DestSnapshot): string {
  switch (d.fwd) {
    case 'masq': return '-m';
    case 'tunnel': return '-i';
    case 'local':
    case 'route': return '-g';
    case 'fullnat': return '--fullnat';
  }
}

const TUN_FLAGS: Readonly<Record<string, string>> = { nocsum: '-c', csum: '+c', remcsum: 'r+c' };
const TUN_FLAG_OPTS: Readonly<Record<string, string>> = { nocsum: '--tun-nocsum', csum: '--tun-csum', remcsum: '--tun-remcsum' };

/** fwd_tun_info: a tunnel dest without options is the default ipip (tun_type 0). */
function tunInfo(d: DestSnapshot): string | null {
  if (d.fwd !== 'tunnel') return null;
  const t = d.tunnel ?? { type: 'ipip', port: 0, csum: 'nocsum' };
  // snprintf into 16 bytes.
  if (t.type === 'gue') return `gue:${t.port}:${TUN_FLAGS[t.csum]}`.slice(0, 15);
  if (t.type === 'gre') return `gre:${TUN_FLAGS[t.csum]}`;
  return 'ipip';
}

/** The svc_name of print_service_entry. */
function serviceName(svc: ServiceSnapshot, f: Format, names: Names): string {
  const v6 = svc.family === 6;
  if (svc.kind === 'fwmark') {
    // %u since the fix after 1.31 ("fix wrong (negative) FWMARK values in output").
    const mark = String(svc.fwmark >>> 0);
    return f.rule ? `-f ${mark}${v6 ? ' -6' : ''}` : `FWM  ${mark}${v6 ? ' IPv6' : ''}`;
  }
  const proto = svc.protocol ?? 'tcp';
  const vname = addrPortName(svc.family, svc.vip ?? (v6 ? '::' : '0.0.0.0'), svc.port, PROTO_NUMBER[proto] ?? 0, f.numeric, names);
  if (f.rule) {
    const stype = proto === 'tcp' ? '-t' : proto === 'udp' ? '-u' : '--sctp-service';
    return `${stype} ${vname}`;
  }
  const name = `${left(proto.toUpperCase(), 4)} ${vname}`;
  return v6 ? name : name.slice(0, 33);
}

function maskDefault(svc: ServiceSnapshot): boolean {
  return svc.family === 6 ? svc.netmask === '128' : svc.netmask === '255.255.255.255';
}

/**
 * keepvs: --proxy-protocol closes an -A/-a rule when the service or dest has its own choice (a dest
 * that inherits saves nothing), so -S → -R round-trips; ipvsadm's listings never show it.
 */
function proxyProtocolRule(v: string | null | undefined): string {
  return v === 'v1' || v === 'v2' || v === 'none' ? ` --proxy-protocol ${v}` : '';
}

function destRule(svcName: string, dname: string, d: DestSnapshot): string {
  const head = `-a ${svcName} -r ${dname} ${fwdSwitch(d)} -w ${int(d.weight)}`;
  const pp = proxyProtocolRule(d.proxyProtocol);
  if (d.fwd !== 'tunnel') return `${head}${pp}\n`;
  const t = d.tunnel ?? { type: 'ipip', port: 0, csum: 'nocsum' };
  if (t.type === 'gre') return `${head} --tun-type gre ${TUN_FLAG_OPTS[t.csum]}${pp}\n`;
  if (t.type === 'gue') return `${head} --tun-type gue --tun-port ${t.port} ${TUN_FLAG_OPTS[t.csum]}${pp}\n`;
  return `${head} --tun-type ipip${pp}\n`;
}

/** print_service_entry: the service line and its dests (sorted unless --nosort). */
export function serviceEntry(svc: ServiceSnapshot, f: Format, names: Names): string {
  const name = serviceName(svc, f, names);
  const st = svc.stats;
  let out: string;
  if (f.rule) {
    out = `-A ${name} -s ${svc.scheduler}`;
    if (svc.flags & SVC_F_PERSISTENT) {
      out += ` -p ${int(svc.timeout)}`;
      if (!maskDefault(svc)) out += ` -M ${svc.netmask}`;
    }
    if (svc.pe) out += ` --pe ${svc.pe}`;
    if (svc.flags & SVC_F_ONEPACKET) out += ' -o';
    if (svc.flags & (SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3)) out += ` -b ${schedFlagsText(svc)}`;
    out += proxyProtocolRule(svc.proxyProtocol);
    // keepvs: the forced exact path (nft plane) is saved so -S -> -R round-trips; listings never show it.
    if (svc.exactPath === true) out += ' --exact-path';
  } else if (f.stats) {
    const c = st.counters;
    out = left(name, 33) + [c.conns, c.inpkts, c.outpkts, c.inbytes, c.outbytes].map((v) => largeNum(v, f.exact)).join('');
  } else if (f.rate) {
    const r = st.rates;
    out = left(name, 33) + [r.cps, r.inpps, r.outpps, r.inbps, r.outbps].map((v) => largeNum(v, f.exact)).join('');
  } else {
    out = `${name} ${svc.scheduler}`;
    if (svc.flags & (SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3)) out += ` (${schedFlagsText(svc)})`;
    if (svc.flags & SVC_F_PERSISTENT) {
      out += ` persistent ${int(svc.timeout)}`;
      if (!maskDefault(svc)) out += ` mask ${svc.netmask}`;
      if (svc.pe) out += ` pe ${svc.pe}`;
    }
    if (svc.flags & SVC_F_ONEPACKET) out += ' ops';
  }
  out += '\n';

  const protocol = svc.kind === 'fwmark' ? IPPROTO.TCP : PROTO_NUMBER[svc.protocol ?? 'tcp'] ?? 0;
  const dests = f.nosort ? svc.dests : sortDests(svc.dests);
  for (const d of dests) {
    let dname = addrPortName(d.family, d.addr, d.port, protocol, f.numeric, names);
    if (!f.rule && d.family !== 6) dname = dname.slice(0, 28);
    if (f.rule) {
      out += destRule(name, dname, d);
    } else if (f.stats) {
      const c = d.stats.counters;
      out += `  -> ${left(dname, 28)}` + [c.conns, c.inpkts, c.outpkts, c.inbytes, c.outbytes].map((v) => largeNum(v, f.exact)).join('') + '\n';
    } else if (f.rate) {
      const r = d.stats.rates;
      // The dest's CPS/InPPS/OutPPS are printed with " %8llu", never scaled.
      out += `  -> ${left(dname, 28)} ${right(int(r.cps), 8)} ${right(int(r.inpps), 8)} ${right(int(r.outpps), 8)}`
        + largeNum(r.inbps, f.exact) + largeNum(r.outbps, f.exact) + '\n';
    } else if (f.thresholds) {
      out += `  -> ${left(dname, 28)} ${left(int(d.uThreshold), 10)} ${left(int(d.lThreshold), 10)} ${left(int(d.activeConns), 10)} ${left(int(d.inactConns), 10)}\n`;
    } else if (f.persistentConn) {
      out += `  -> ${left(dname, 28)} ${left(int(d.weight), 9)} ${left(int(d.persistConns), 11)} ${left(int(d.activeConns), 10)} ${left(int(d.inactConns), 10)}\n`;
    } else if (f.tunInfo) {
      out += `  -> ${left(dname, 28)} ${left(fwdName(d), 7)} ${left(tunInfo(d) ?? 'n/a', 13)} ${left(int(d.weight), 6)} ${left(int(d.activeConns), 10)} ${left(int(d.inactConns), 10)}\n`;
    } else {
      out += `  -> ${left(dname, 28)} ${left(fwdName(d), 7)} ${left(int(d.weight), 6)} ${left(int(d.activeConns), 10)} ${left(int(d.inactConns), 10)}\n`;
    }
  }
  return out;
}

/** list_all: the banner (not for -S), the title, every service sorted unless --nosort. */
export function listAll(info: InfoSnapshot, services: readonly ServiceSnapshot[], f: Format, names: Names): string {
  let out = f.rule ? '' : `IP Virtual Server version ${info.ipvsVersion} (size=${int(info.connTableSize)})\n`;
  out += title(f);
  for (const s of f.nosort ? services : sortServices(services)) out += serviceEntry(s, f, names);
  return out;
}

/** list_service: no banner, the title and the one service. */
export function listService(svc: ServiceSnapshot, f: Format, names: Names): string {
  return title(f) + serviceEntry(svc, f, names);
}

/** The -S text: list_all with FMT_RULE. */
export function saveRules(services: readonly ServiceSnapshot[], f: Format, names: Names): string {
  let out = '';
  const rf = { ...f, rule: true };
  for (const s of rf.nosort ? services : sortServices(services)) out += serviceEntry(s, rf, names);
  return out;
}

/** ip_vs_proto_name, as the kernel writes it into /proc/net/ip_vs_conn. */
function connProtoName(p: string): string {
  return p === 'ip' ? 'IP' : p.toUpperCase();
}

/**
 * The expire column: the kernel prints whole seconds left, (expires - jiffies) in ms / 1000
 * truncated and never negative (ip_vs_conn.c: ip_vs_conn_seq_show); ipvsadm prints "%02d:%02d"
 * of minutes and seconds (print_conn), minutes unbounded.
 */
export function expireText(expiresInMs: number): string {
  const secs = Math.floor(Math.max(0, expiresInMs) / 1000);
  const mm = Math.floor(secs / 60);
  const ss = secs % 60;
  return `${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

/** list_conn + print_conn. keepvs has no persistence-engine data, so rows stay in the short form. */
export function listConnections(conns: readonly ConnSnapshot[], f: Format, names: Names): string {
  let out = 'IPVS connection entries\n';
  out += f.persistentConn
    ? `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data\n`
    : `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination\n`;
  for (const c of conns) {
    const proto = PROTO_NUMBER[c.protocol] ?? 0;
    const dfam: 4 | 6 = c.daddr.includes(':') ? 6 : 4;
    const cname = addrPortName(c.family, c.caddr, c.cport, proto, f.numeric, names);
    const vname = addrPortName(c.family, c.vaddr, c.vport, proto, f.numeric, names);
    const dname = addrPortName(dfam, c.daddr, c.dport, proto, f.numeric, names);
    out += `${left(connProtoName(c.protocol), 3)} ${left(expireText(c.expiresInMs), 6)} ${left(c.state, 11)} ${left(cname, 18)} ${left(vname, 18)} ${dname}\n`;
  }
  return out;
}

/** list_timeout */
export function listTimeouts(t: TimeoutsSnapshot): string {
  return `Timeout (tcp tcpfin udp): ${int(t.tcp)} ${int(t.tcpfin)} ${int(t.udp)}\n`;
}
