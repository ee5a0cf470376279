// One proxied TCP connection as the director sees it: the IPVS entry, fed from socket events so that
// its state, ActiveConn / InActConn and the counters read as the kernel's would for the equivalent
// packets. Both TCP engines (tcp-handles.ts, the fast one, and tcp.ts on net.Socket) build on this.
//
// Synthetic packets (net/netfilter/ipvs/ip_vs_proto_tcp.c, tcp_states[] for a NAT conn, which has no
// NOOUTPUT flag). Each is counted as one packet (ip_vs_in_stats / ip_vs_out_stats) and then drives
// the state machine (ip_vs_set_state), in that order, as ip_vs_in does:
//   accept                      input  SYN       NONE -> SYN_RECV            (active: a SYN is enough)
//   real server connected       output SYN|ACK   SYN_RECV -> SYN_RECV
//                               input  ACK       SYN_RECV -> ESTABLISHED
//   client half-close (EOF)     input  FIN|ACK   ESTABLISHED -> CLOSE_WAIT   (or FIN_WAIT -> TIME_WAIT)
//   server half-close (EOF)     output FIN|ACK   ESTABLISHED -> FIN_WAIT     (or CLOSE_WAIT -> TIME_WAIT)
//   after the second FIN        the ACK of the side that closed first: TIME_WAIT stays TIME_WAIT
//   reset / error on a side     that side's RST  -> CLOSE
//   real server refused / timed out: output RST  SYN_RECV -> CLOSE
// So a normal close leaves the entry in TIME_WAIT (inactive, 120 s) and a reset in CLOSE (10 s),
// exactly what ipvsadm -L -n -c shows on a kernel director.
//
// Packets are counted one per read chunk (a read can coalesce several segments, so this is a lower
// bound of the kernel's count for bulk data) plus one per synthetic control packet above; bytes are
// payload bytes, exactly (the kernel counts whole IP packets, headers included).
import type { Addr } from '../../core/addr.ts';
import type { Dest } from '../../core/dest.ts';
import type { Flow } from '../../core/director.ts';
import type { Conn, ConnDirection } from '../../core/conn/conn.ts';
import type { TcpFlags } from '../../core/conn/protocol.ts';
import { TCP_S } from '../../core/conn/tcp-state.ts';
import type { DropReason, PlaneContext } from './plane-context.ts';
import { encodeProxyHeader } from './proxy-protocol.ts';

export const SYN: TcpFlags = Object.freeze({ syn: true });
export const SYN_ACK: TcpFlags = Object.freeze({ syn: true, ack: true });
export const ACK: TcpFlags = Object.freeze({ ack: true });
export const FIN: TcpFlags = Object.freeze({ fin: true, ack: true });
export const RST: TcpFlags = Object.freeze({ rst: true });

/**
 * ip_vs_core.c: ip_vs_in_hook with conn_reuse_mode 1 (the default) — a SYN that finds an entry in
 * TIME_WAIT or CLOSE that no template controls expires it and is scheduled afresh; any other entry
 * keeps the flow (and its dest).
 */
export function reschedulable(c: Conn): boolean {
  return c.control === null && c.nControl === 0 && (c.state === TCP_S.TIME_WAIT || c.state === TCP_S.CLOSE);
}

export interface Admission {
  readonly conn: Conn;
  readonly dest: Dest;
}

/** What both accept paths need of an accepted libuv handle: its peer, and a way to drop it. */
export interface AcceptedHandle {
  getpeername(out: { address?: string; port?: number }): number;
  close(): void;
}

const peerOut: { address?: string; port?: number; family?: string } = { address: undefined, port: undefined, family: undefined };

/**
 * The client's flow for an accepted handle, or null after counting 'client-gone' and closing it
 * (the client vanished between accept and getpeername).
 */
export function acceptedFlow(ctx: PlaneContext, vaddr: Addr, vport: number, handle: AcceptedHandle): Flow | null {
  // One object for every call (getpeername overwrites its fields): nothing allocated for it per connection.
  const peer = peerOut;
  peer.address = undefined;
  peer.port = undefined;
  const caddr = handle.getpeername(peer) === 0 && peer.address !== undefined ? ctx.addrOf(peer.address) : null;
  if (caddr === null || peer.port === undefined) {
    ctx.drop('client-gone');
    handle.close();
    return null;
  }
  return { protocol: 'tcp', caddr, cport: peer.port, vaddr, vport };
}

/** Find or create the entry for a new TCP connection, or say why not. */
export function admitTcp(ctx: PlaneContext, flow: Flow, now: number): Admission | DropReason {
  const director = ctx.director;
  if (director === null || ctx.stopping) return 'stopping';
  let conn = director.lookupConn(flow);
  if (conn !== undefined) {
    if (reschedulable(conn)) {
      director.expireNow(conn);
      conn = undefined;
    } else if (conn.dest === null || !conn.dest.available) {
      // ip_vs_in_hook: an entry whose dest is gone drops the packet (expire_nodest_conn off).
      return 'dest-unavailable';
    } else {
      return { conn, dest: conn.dest };
    }
  }
  const svc = director.findServiceForFlow(flow);
  if (svc === undefined) return 'no-service';
  const d = director.schedule(svc, flow, now);
  if (d.conn === null || d.dest === null) return d.reason === 'not-scheduled' ? 'not-scheduled' : 'no-dest';
  return { conn: d.conn, dest: d.dest };
}

export abstract class TcpSession {
  readonly ctx: PlaneContext;
  readonly conn: Conn;
  /** The dest chosen at accept (conn.dest is cleared when the entry is released). */
  readonly dest: Dest;
  readonly startedAt: number;
  /** The PROXY header to send first, or null. */
  readonly header: Buffer | null;
  connecting = true;
  /** No more synthetic packets: the entry was reset, expired, or is no longer this session's. */
  detached = false;
  /** abort() ran: counted once, both sides reset. */
  aborted = false;
  /** A FIN was read from that side. */
  clientFin = false;
  serverFin = false;

  constructor(ctx: PlaneContext, flow: Flow, a: Admission, now: number) {
    this.ctx = ctx;
    this.conn = a.conn;
    this.dest = a.dest;
    this.startedAt = now;
    const version = ctx.proxyProtocolFor(a.dest.svc.id, a.dest);
    this.header = version === null ? null
      : encodeProxyHeader(version, { transport: 'tcp', src: flow.caddr, sport: flow.cport, dst: flow.vaddr, dport: flow.vport });
    ctx.tcpSessions.add(this);
    this.packet('input', SYN, now);
  }

  /** One synthetic packet: count it, then step the state machine (ip_vs_in: in_stats, set_state). */
  packet(dir: ConnDirection, flags: TcpFlags, now: number): void {
    const d = this.ctx.director;
    if (this.detached || d === null) return;
    d.account(this.conn, dir, 1, 0, now);
    d.stateEvent(this.conn, dir, flags, now);
  }

  /**
   * A chunk of payload: counted, and the entry re-armed. Each data segment carries ACK, and
   * set_tcp_state re-reads the state's timeout on every packet, so a --set made since the last
   * transition takes effect here; in ES/CLOSE_WAIT/FIN_WAIT/TIME_WAIT an ACK never changes the state,
   * so the state machine is only stepped when the timeout is stale (no work per chunk otherwise).
   */
  data(dir: ConnDirection, bytes: number): void {
    const d = this.ctx.director;
    if (this.detached || d === null) return;
    const now = this.ctx.clock();
    const c = this.conn;
    d.account(c, dir, 1, bytes, now);
    if (c.timeout !== d.timeouts.tcp[c.state]) d.stateEvent(c, dir, ACK, now);
  }

  /** The real server accepted: its SYN|ACK and the client's ACK. */
  connected(): void {
    this.connecting = false;
    const now = this.ctx.clock();
    this.packet('output', SYN_ACK, now);
    this.packet('input', ACK, now);
  }

  /** A FIN from the client; after the server's, the server's ACK closes the exchange. */
  clientEnded(): void {
    this.clientFin = true;
    const now = this.ctx.clock();
    this.packet('input', FIN, now);
    if (this.serverFin) this.packet('output', ACK, now);
  }

  serverEnded(): void {
    this.serverFin = true;
    const now = this.ctx.clock();
    this.packet('output', FIN, now);
    if (this.clientFin) this.packet('input', ACK, now);
  }

  /**
   * Close both sides with a reset and count why. `entry` says what happens to the IPVS entry:
   * 'rst' feeds a RST from `rstDir`, 'expire' drops it now (ip_vs_conn_expire_now), 'keep' leaves
   * it to its own timer (it has run out already).
   */
  abort(reason: DropReason, entry: 'rst' | 'expire' | 'keep', rstDir: ConnDirection = 'input'): void {
    if (this.aborted || this.finished) return;
    this.aborted = true;
    this.ctx.drop(reason);
    if (!this.detached) {
      if (entry === 'rst') this.packet(rstDir, RST, this.ctx.clock());
      else if (entry === 'expire') this.ctx.director?.expireNow(this.conn);
    }
    this.detached = true;
    this.resetBoth();
  }

  /**
   * A side failed (a read, write or shutdown error, by errno name): count why, reset both. The
   * real server failing while the connection to it is being made is a connect failure.
   */
  sideError(server: boolean, code: string | undefined): void {
    if (this.aborted) return;
    if (server) {
      if (this.connecting) this.connectFailed(code);
      else this.abort(isPeerReset(code) ? 'rs-reset' : 'rs-error', 'rst', 'output');
    } else {
      this.abort(isPeerReset(code) ? 'client-reset' : 'client-error', 'rst', 'input');
    }
  }

  /** A connect error: why it failed, from the errno name. */
  connectFailed(code: string | undefined): void {
    this.connecting = false;
    this.abort(code === 'ECONNREFUSED' ? 'rs-refused' : code === 'ETIMEDOUT' ? 'rs-timeout' : 'rs-error', 'rst', 'output');
  }

  /** The plane's sweep gives up on a real server that has not answered in time. */
  connectTimedOut(): void {
    this.connecting = false;
    this.abort('rs-timeout', 'rst', 'output');
  }

  /** Both sides are closed for good (the session is out of the plane's set). */
  abstract get finished(): boolean;
  /** Reset whatever is still open on both sides. */
  protected abstract resetBoth(): void;
}

/**
 * errno names for a side's failure that mean the peer reset or left (ECONNRESET on a read, EPIPE on
 * a write, ENOTCONN on a shutdown after its reset); anything else is an error of that side.
 */
export function isPeerReset(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ENOTCONN';
}
