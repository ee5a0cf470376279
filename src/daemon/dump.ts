// The SIGUSR1 data dump and SIGUSR2 stats dump, in the spirit of keepalived's /tmp/keepalived.data
// and /tmp/keepalived.stats: the same section banners and "name = value" / indented counter layout,
// with keepvs's names (/tmp/keepvs.data, /tmp/keepvs.stats; docs/daemon.md).
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { servicesSnapshot, type ServiceSnapshot, type DestSnapshot } from '../core/snapshot.ts';
import type { Director } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { SVC_F } from '../core/service.ts';
import { schedFlagNames } from '../config/values.ts';
import { ctime } from './log.ts';

export interface DumpSource {
  readonly director: Director;
  readonly plane: DataPlane;
  readonly version: string;
  readonly controlSocket: string;
  readonly api: string | null;
  readonly configFile: string | null;
  readonly pidFile: string;
  readonly startedAt: Date;
  readonly apiRejected: ReadonlyMap<string, number>;
  readonly now: () => Date;
}

const FWD_TEXT: Readonly<Record<DestSnapshot['fwd'], string>> = {
  masq: 'NAT', route: 'DR', tunnel: 'TUN', fullnat: 'FULLNAT', local: 'LOCAL',
};

export function serviceTitle(s: ServiceSnapshot): string {
  if (s.kind === 'fwmark') return `FWM ${s.fwmark}${s.family === 6 ? ' IPv6' : ''}`;
  const vip = s.family === 6 ? `[${s.vip}]` : s.vip;
  return `${(s.protocol ?? '').toUpperCase()} ${vip}:${s.port}`;
}

function destTitle(d: DestSnapshot): string {
  return d.family === 6 ? `[${d.addr}]:${d.port}` : `${d.addr}:${d.port}`;
}

export function dataDump(src: DumpSource): string {
  const out: string[] = [];
  const w = (s: string): void => { out.push(s); };
  const t = src.director.timeouts.getTimeouts();
  const caps = src.plane.capabilities;
  w('------< Global definitions >------');
  w(` keepvs version = ${src.version}`);
  w(` Node.js version = ${process.version}`);
  w(` Started = ${ctime(src.startedAt)}`);
  w(` Dump time = ${ctime(src.now())}`);
  w(` Pid file = ${src.pidFile}`);
  w(` Configuration file = ${src.configFile ?? 'none (configured through the API)'}`);
  w(` Control socket = ${src.controlSocket}`);
  w(` TCP API = ${src.api ?? 'off'}`);
  w(` Data plane = ${caps.name}, forwarding = ${caps.fwd.join(' ')}, protocols = ${caps.protocols.join(' ')}`);
  w(` LVS timeouts = tcp ${t.tcp}, tcpfin ${t.tcpfin}, udp ${t.udp}`);
  const services = servicesSnapshot(src.director);
  w('------< LVS Topology >------');
  w(` Number of virtual servers = ${services.length}`);
  for (const s of services) {
    w(` ------< Virtual server >------`);
    w(` VS = ${serviceTitle(s)}`);
    w(`   lb_algo = ${s.scheduler}`);
    const flags = schedFlagNames(s.flags, s.scheduler);
    if (flags.length) w(`   sched flags = ${flags.join(',')}`);
    if (s.flags & SVC_F.PERSISTENT) {
      w(`   persistence timeout = ${s.timeout}`);
      w(`   persistence granularity = ${s.netmask}`);
    }
    if (s.flags & SVC_F.ONEPACKET) w('   one packet scheduling = on');
    if (s.pe) w(`   persistence engine = ${s.pe}`);
    w(`   Number of real servers = ${s.dests.length}`);
    for (const d of s.dests) {
      w('   ------< Real server >------');
      w(`   RIP = ${d.addr}, RPORT = ${d.port}, WEIGHT = ${d.weight}`);
      const tun = d.tunnel ? `, type = ${d.tunnel.type.toUpperCase()}${d.tunnel.port ? `, port = ${d.tunnel.port}` : ''}, ${d.tunnel.csum}` : '';
      w(`   forwarding method = ${FWD_TEXT[d.fwd]}${tun}`);
      w(`   connection limit range = ${d.lThreshold} -> ${d.uThreshold}`);
      w(`   ActiveConn = ${d.activeConns}, InActConn = ${d.inactConns}, PersistConn = ${d.persistConns}`);
      w(`   overloaded = ${d.overloaded ? 'yes' : 'no'}`);
    }
  }
  w('------< Connections >------');
  w(` Entries = ${src.director.conns.size}`);
  w(` Open in the data plane = ${src.plane.stats().openConnections}`);
  return out.join('\n') + '\n';
}

function countersBlock(w: (s: string) => void, indent: string, s: ServiceSnapshot['stats']): void {
  const c = s.counters;
  const r = s.rates;
  w(`${indent}Connections: ${c.conns}`);
  w(`${indent}Packets:`);
  w(`${indent}  Incoming: ${c.inpkts}`);
  w(`${indent}  Outgoing: ${c.outpkts}`);
  w(`${indent}Bytes:`);
  w(`${indent}  Incoming: ${c.inbytes}`);
  w(`${indent}  Outgoing: ${c.outbytes}`);
  w(`${indent}Rates:`);
  w(`${indent}  Connections/s: ${r.cps}`);
  w(`${indent}  Incoming packets/s: ${r.inpps}`);
  w(`${indent}  Outgoing packets/s: ${r.outpps}`);
  w(`${indent}  Incoming bytes/s: ${r.inbps}`);
  w(`${indent}  Outgoing bytes/s: ${r.outbps}`);
}

function reasonsBlock(w: (s: string) => void, title: string, counts: Iterable<[string, number]>): void {
  w(`${title}:`);
  let any = false;
  for (const [k, n] of counts) {
    w(`  ${k}: ${n}`);
    any = true;
  }
  if (!any) w('  none');
}

export function statsDump(src: DumpSource): string {
  const out: string[] = [];
  const w = (s: string): void => { out.push(s); };
  w(`keepvs statistics, ${ctime(src.now())}`);
  for (const s of servicesSnapshot(src.director)) {
    w(`Virtual Server: ${serviceTitle(s)}`);
    countersBlock(w, '  ', s.stats);
    for (const d of s.dests) {
      w(`  Real Server: ${destTitle(d)}`);
      w(`    ActiveConn: ${d.activeConns}`);
      w(`    InActConn: ${d.inactConns}`);
      w(`    PersistConn: ${d.persistConns}`);
      countersBlock(w, '    ', d.stats);
    }
  }
  reasonsBlock(w, 'Director drops', Object.entries(src.director.drops));
  const ps = src.plane.stats();
  reasonsBlock(w, 'Data plane drops', Object.entries(ps.drops));
  reasonsBlock(w, 'API rejections', src.apiRejected);
  return out.join('\n') + '\n';
}

/**
 * Write a dump where keepalived would: a fixed name in a world-writable directory. The text goes to
 * a new file (O_EXCL, never following a planted symlink) that is then renamed over the target.
 */
export function writeDump(dir: string, name: string, text: string): string {
  const target = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, target);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  return target;
}

export const DATA_DUMP_FILE = 'keepvs.data';
export const STATS_DUMP_FILE = 'keepvs.stats';
