// The per-director protocol data (net/netfilter/ipvs/ip_vs_proto.c: one timeout_table per protocol
// per network namespace, copied from the protocol's defaults) and what ipvsadm --set / --timeout do
// with it (ip_vs_ctl.c: ip_vs_set_timeout, __ip_vs_get_timeouts).
import { type Result, ok, err } from '../result.ts';
import { type CoreError, coreError } from '../errors.ts';
import type { ConnProtocol } from './conn.ts';
import { TCP_DEFAULT_TIMEOUTS_S, TCP_S } from './tcp-state.ts';
import { UDP_DEFAULT_TIMEOUTS_S, UDP_S } from './udp-state.ts';
import { SCTP_DEFAULT_TIMEOUTS_S } from './sctp-state.ts';

/** ip_vs_conn.c: ip_vs_conn_new arms a fresh entry for 3 s; its first packet's transition sets the real one. */
export const CONN_NEW_TIMEOUT_MS = 3000;
/** ip_vs_conn.c: a template that still controls entries when it expires is re-armed for 60 s (expire_later). */
export const CONN_EXPIRE_LATER_MS = 60_000;
/** ipvsadm.c: parse_timeout accepts 0..86400*31 seconds for --set. */
export const SET_TIMEOUT_MAX_S = 86400 * 31;

/** The three values --set takes and --timeout prints, in seconds. */
export interface TimeoutSet {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

const toMs = (s: readonly number[]): number[] => s.map((v) => v * 1000);

export class Timeouts {
  /** Per-state timeouts in ms, indexed like Conn.state (pd->timeout_table). */
  readonly tcp: number[] = toMs(TCP_DEFAULT_TIMEOUTS_S);
  readonly udp: number[] = toMs(UDP_DEFAULT_TIMEOUTS_S);
  readonly sctp: number[] = toMs(SCTP_DEFAULT_TIMEOUTS_S);

  /**
   * ipvsadm --set tcp tcpfin udp. Exactly three table entries can change — TCP ESTABLISHED, TCP
   * FIN_WAIT and UDP NORMAL (TIME_WAIT, CLOSE_WAIT, SCTP etc. keep their defaults); 0 leaves an
   * entry unchanged. All three are checked before any is applied, as the kernel does. The range is
   * ipvsadm's (0..2678400); the kernel's own bound is INT_MAX/HZ (2147483 s at HZ=1000), which only
   * matters for callers that bypass ipvsadm.
   */
  setTimeouts(t: TimeoutSet): Result<TimeoutSet, CoreError> {
    for (const name of ['tcp', 'tcpfin', 'udp'] as const) {
      const v = t[name];
      if (!Number.isInteger(v) || v < 0 || v > SET_TIMEOUT_MAX_S) {
        return err(coreError('SET_TIMEOUT_INVALID', `${name} timeout ${v} out of range 0..${SET_TIMEOUT_MAX_S}`, { [name]: v }));
      }
    }
    if (t.tcp) this.tcp[TCP_S.ESTABLISHED] = t.tcp * 1000;
    if (t.tcpfin) this.tcp[TCP_S.FIN_WAIT] = t.tcpfin * 1000;
    if (t.udp) this.udp[UDP_S.NORMAL] = t.udp * 1000;
    return ok(this.getTimeouts());
  }

  /** ipvsadm --timeout: "Timeout (tcp tcpfin udp): 900 120 300" by default. */
  getTimeouts(): TimeoutSet {
    return {
      tcp: Math.trunc(this.tcp[TCP_S.ESTABLISHED] / 1000),
      tcpfin: Math.trunc(this.tcp[TCP_S.FIN_WAIT] / 1000),
      udp: Math.trunc(this.udp[UDP_S.NORMAL] / 1000),
    };
  }

  /** The timeout table of a protocol ('ip', the fwmark template protocol, has none). */
  tableFor(protocol: ConnProtocol): readonly number[] | null {
    switch (protocol) {
      case 'tcp': return this.tcp;
      case 'udp': return this.udp;
      case 'sctp': return this.sctp;
      default: return null;
    }
  }
}

