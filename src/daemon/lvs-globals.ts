// The global_defs settings keepalived's checker process applies to IPVS as a whole
// (keepalived/check/check_daemon.c: start_check; check/libipvs.c: ipvs_set_timeout):
//
// - lvs_timeouts tcp/tcpfin/udp: `ipvsadm --set` on the director at every start and reload. A value
//   left out keeps what the director had before keepvs first changed it (libipvs reads the
//   original timeouts the first time it alters them and fills gaps from them); a reload whose file
//   has no lvs_timeouts any more puts those originals back.
// - lvs_flush: empty the director once, at start, before the file's services go in (not on reload).
// - lvs_sync_daemon: IPVS connection synchronisation between directors. keepvs has no sync daemon
//   (its connection table is its own, in user space or in conntrack); the keyword is accepted and
//   one warning names it at every load, so nobody believes connections are being synchronised.
// - lvs_flush_on_stop is the HealthChecker's (which notifies a stop runs; check/quorum.ts).
import type { Director } from '../core/director.ts';
import type { TimeoutSet } from '../core/conn/timeouts.ts';
import type { GlobalDefs } from '../config/keepalived/model.ts';
import type { Logger } from './log.ts';

/** What the runner remembers between loads: the director's timeouts before keepvs first set them. */
export interface LvsGlobalsState {
  original: TimeoutSet | null;
}

export function applyLvsGlobals(
  director: Director, g: GlobalDefs, phase: 'start' | 'reload', state: LvsGlobalsState, log: Logger, now: number,
): void {
  if (phase === 'start' && g.lvsFlush) {
    log.info('Flushing the director (lvs_flush)');
    director.clear(now);
  }
  const t = g.lvsTimeouts;
  if (t.tcp || t.tcpfin || t.udp) {
    state.original ??= director.timeouts.getTimeouts();
    const o = state.original;
    const r = director.timeouts.setTimeouts({ tcp: t.tcp || o.tcp, tcpfin: t.tcpfin || o.tcpfin, udp: t.udp || o.udp });
    if (r.ok) log.info(`Set LVS timeouts (tcp tcpfin udp): ${r.value.tcp} ${r.value.tcpfin} ${r.value.udp}`);
    // check/ipvswrapper.c: ipvs_set_timeouts logs and carries on.
    else log.error(`Failed to set ipvs timeouts: ${r.error.message}`);
  } else if (phase === 'reload' && state.original) {
    director.timeouts.setTimeouts(state.original);
    log.info(`LVS timeouts back to ${state.original.tcp} ${state.original.tcpfin} ${state.original.udp} (lvs_timeouts removed)`);
  }
  const s = g.lvsSyncDaemon;
  if (s) {
    log.warn(`${s.at.file}:${s.at.line}:${s.at.col}: warning: lvs_sync_daemon ${s.interface}${s.instance ? ` inst ${s.instance}` : ''} is accepted but not run: keepvs has no IPVS connection sync daemon, connections are not synchronised to other directors`);
  }
}
