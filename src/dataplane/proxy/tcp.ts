// TCP through the proxy plane: one accepted client socket and one connection to the real server per
// IPVS connection entry, with the entry fed from socket events so that its state, ActiveConn /
// InActConn and the counters read as the kernel's would for the equivalent packets.
//
// Synthetic packets (net/netfilter/ipvs/ip_vs_proto_tcp.c, tcp_states[] for a NAT conn, which has no
// NOOUTPUT flag). Each is counted as one packet (ip_vs_in_stats / ip_vs_out_stats) and then drives
// the state machine (ip_vs_set_state), in that order, as ip_vs_in does:
//   accept                      input  SYN       NONE -> SYN_RECV            (active: a SYN is enough)
//   real server connected       output SYN|ACK   SYN_RECV -> SYN_RECV
//                               input  ACK       SYN_RECV -> ESTABLISHED
//   client half-close ('end')   input  FIN|ACK   ESTABLISHED -> CLOSE_WAIT   (or FIN_WAIT -> TIME_WAIT)
//   server half-close ('end')   output FIN|ACK   ESTABLISHED -> FIN_WAIT     (or CLOSE_WAIT -> TIME_WAIT)
//   after the second FIN        the ACK of the side that closed first: TIME_WAIT stays TIME_WAIT
//   reset / error on a side     that side's RST  -> CLOSE
//   real server refused / timed out: output RST  SYN_RECV -> CLOSE
// So a normal close leaves the entry in TIME_WAIT (inactive, 120 s) and a reset in CLOSE (10 s),
// exactly what ipvsadm -L -n -c shows on a kernel director.
//
// Packets are counted one per read chunk (a read can coalesce several segments, so this is a lower
// bound of the kernel's count for bulk data) plus one per synthetic control packet above; bytes are
// payload bytes, exactly (the kernel counts whole IP packets, headers included).
import * as net from 'node:net';
import type { Addr } from '../../core/addr.ts';
import type { Dest } from '../../core/dest.ts';
import type { Flow } from '../../core/director.ts';
import type { Conn, ConnDirection } from '../../core/conn/conn.ts';
import type { TcpFlags } from '../../core/conn/protocol.ts';
import { TCP_S } from '../../core/conn/tcp-state.ts';
import type { DropReason, PlaneContext } from './plane-context.ts';
import { encodeProxyHeader } from './proxy-protocol.ts';

const SYN: TcpFlags = Object.freeze({ syn: true });
const SYN_ACK: TcpFlags = Object.freeze({ syn: true, ack: true });
const ACK: TcpFlags = Object.freeze({ ack: true });
const FIN: TcpFlags = Object.freeze({ fin: true, ack: true });
const RST: TcpFlags = Object.freeze({ rst: true });

const kSession: unique symbol = Symbol('keepvs.tcpSession');
type SessionSocket = net.Socket & { [kSession]?: TcpSession };

/** The libuv TCP handle net.Server hands to its accept callback (node:net internals, see listener.ts). */
export interface RawTcpHandle {
  getpeername(out: { address?: string; port?: number; family?: string }): number;
  reset?(cb: () => void): number;
  close(cb?: () => void): void;
}

/**
 * ip_vs_core.c: ip_vs_in_hook with conn_reuse_mode 1 (the default) — a SYN that finds an entry in
 * TIME_WAIT or CLOSE that no template controls expires it and is scheduled afresh; any other entry
 * keeps the flow (and its dest).
 */
export function reschedulable(c: Conn): boolean {
  return c.control === null && c.nControl === 0 && (c.state === TCP_S.TIME_WAIT || c.state === TCP_S.CLOSE);
}

interface Admission {
  readonly conn: Conn;
  readonly dest: Dest;
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

/** Accept path with the raw handle: schedule before any Socket exists, so a refusal costs nothing. */
export function acceptTcpHandle(ctx: PlaneContext, vaddr: Addr, vport: number, handle: RawTcpHandle): void {
  const peer: { address?: string; port?: number } = {};
  const caddr = handle.getpeername(peer) === 0 && peer.address !== undefined ? ctx.addrOf(peer.address) : null;
  if (caddr === null || peer.port === undefined) {
    ctx.drop('client-gone');
    handle.close();
    return;
  }
  const flow: Flow = { protocol: 'tcp', caddr, cport: peer.port, vaddr, vport };
  const now = ctx.clock();
  const a = admitTcp(ctx, flow, now);
  if (typeof a === 'string') {
    ctx.drop(a);
    // A reset, the user-space stand-in for the kernel's ICMP port unreachable.
    if (handle.reset) handle.reset(noop);
    else handle.close();
    return;
  }
  const cbuf = ctx.buffers.take();
  const client = new net.Socket({
    handle, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true,
    onread: { buffer: cbuf, callback: onClientRead },
  } as unknown as net.SocketConstructorOpts) as SessionSocket;
  startSession(ctx, client, cbuf, flow, a, now);
}

/** Accept path through net.Server's 'connection' event (used when the handle hook is unavailable). */
export function acceptTcpSocket(ctx: PlaneContext, vaddr: Addr, vport: number, socket: net.Socket): void {
  const client = socket as SessionSocket;
  const caddr = client.remoteAddress !== undefined ? ctx.addrOf(client.remoteAddress) : null;
  if (caddr === null || client.remotePort === undefined) {
    ctx.drop('client-gone');
    client.destroy();
    return;
  }
  const flow: Flow = { protocol: 'tcp', caddr, cport: client.remotePort, vaddr, vport };
  const now = ctx.clock();
  const a = admitTcp(ctx, flow, now);
  if (typeof a === 'string') {
    ctx.drop(a);
    client.on('error', noop);
    client.resetAndDestroy();
    return;
  }
  client.on('data', onClientData);
  startSession(ctx, client, null, flow, a, now);
}

function startSession(ctx: PlaneContext, client: SessionSocket, cbuf: Buffer | null, flow: Flow, a: Admission, now: number): void {
  const s = new TcpSession(ctx, client, cbuf, a.conn, a.dest, now);
  ctx.tcpSessions.add(s);
  s.packet('input', SYN, now);
  const version = ctx.proxyProtocolFor(a.dest.svc.id, a.dest);
  if (version !== null) {
    s.header = encodeProxyHeader(version, { transport: 'tcp', src: flow.caddr, sport: flow.cport, dst: flow.vaddr, dport: flow.vport });
  }
  client[kSession] = s;
  client.setNoDelay(true);
  client.on('error', onClientError);
  client.on('end', onClientEnd);
  client.on('close', onClientClose);
  let server: SessionSocket;
  try {
    server = net.connect({
      host: a.conn.daddr.text, port: a.conn.dport, allowHalfOpen: true, noDelay: true,
      onread: { buffer: s.sbuf, callback: onServerRead },
    }) as SessionSocket;
  } catch {
    s.serverClosed = true;
    s.abort('rs-error', 'rst', 'output');
    return;
  }
  server[kSession] = s;
  s.server = server;
  server.on('connect', onServerConnect);
  server.on('error', onServerError);
  server.on('end', onServerEnd);
  server.on('close', onServerClose);
}

export class TcpSession {
  readonly ctx: PlaneContext;
  readonly conn: Conn;
  /** The dest chosen at accept (conn.dest is cleared when the entry is released). */
  readonly dest: Dest;
  readonly client: SessionSocket;
  server!: SessionSocket;
  readonly cbuf: Buffer | null;
  readonly sbuf: Buffer;
  readonly startedAt: number;
  header: Buffer | null = null;
  connecting = true;
  /** No more synthetic packets: the entry was reset, expired, or is no longer this session's. */
  detached = false;
  /** abort() ran: counted once, both sockets reset. */
  aborted = false;
  clientFin = false;
  serverFin = false;
  clientClosed = false;
  serverClosed = false;
  /** Reading from that side is stopped until the other side has flushed what it got. */
  clientStalled = false;
  serverStalled = false;
  readonly afterServerWrite: () => void;
  readonly afterClientWrite: () => void;

  constructor(ctx: PlaneContext, client: SessionSocket, cbuf: Buffer | null, conn: Conn, dest: Dest, now: number) {
    this.ctx = ctx;
    this.client = client;
    this.cbuf = cbuf;
    this.sbuf = ctx.buffers.take();
    this.conn = conn;
    this.dest = dest;
    this.startedAt = now;
    // Two closures per connection (not per chunk): write callbacks that restart a stalled reader.
    this.afterServerWrite = () => {
      if (this.clientStalled && this.server.writableLength === 0) {
        this.clientStalled = false;
        if (!this.client.destroyed) this.client.resume();
      }
    };
    this.afterClientWrite = () => {
      if (this.serverStalled && this.client.writableLength === 0) {
        this.serverStalled = false;
        if (!this.server.destroyed) this.server.resume();
      }
    };
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
    if (d === null) return;
    const now = this.ctx.clock();
    const c = this.conn;
    d.account(c, dir, 1, bytes, now);
    if (c.timeout !== d.timeouts.tcp[c.state]) d.stateEvent(c, dir, ACK, now);
  }

  /**
   * Close both sides with a reset and count why. `entry` says what happens to the IPVS entry:
   * 'rst' feeds a RST from `rstDir`, 'expire' drops it now (ip_vs_conn_expire_now), 'keep' leaves
   * it to its own timer (it has run out already).
   */
  abort(reason: DropReason, entry: 'rst' | 'expire' | 'keep', rstDir: ConnDirection = 'input'): void {
    if (this.aborted || (this.clientClosed && this.serverClosed)) return;
    this.aborted = true;
    this.ctx.drop(reason);
    if (!this.detached) {
      if (entry === 'rst') this.packet(rstDir, RST, this.ctx.clock());
      else if (entry === 'expire') this.ctx.director?.expireNow(this.conn);
    }
    this.detached = true;
    resetSocket(this.client);
    resetSocket(this.server);
  }

  /** Called by the plane's sweep: give up on a real server that has not answered in time. */
  connectTimedOut(): void {
    this.abort('rs-timeout', 'rst', 'output');
  }

  finish(): void {
    this.ctx.tcpSessions.delete(this);
    if (this.cbuf !== null) this.ctx.buffers.give(this.cbuf);
    this.ctx.buffers.give(this.sbuf);
  }
}

function resetSocket(s: net.Socket | undefined): void {
  if (s === undefined || s.destroyed) return;
  // resetAndDestroy waits for 'connect' on a connecting socket; a plain destroy aborts the SYN.
  // While our FIN is still being sent (end() called, shutdown not yet done) libuv refuses to reset
  // (uv_tcp_close_reset: EINVAL with a pending shutdown) and node:net then drops the handle without
  // closing it, leaking the socket: close that one normally instead.
  if (s.connecting || (s.writableEnded && !s.writableFinished)) s.destroy();
  else s.resetAndDestroy();
}

function noop(): void {}

// ---------------------------------------------------------------- data, both ways

function onClientRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]!;
  const server = s.server;
  server.write(n === buf.length ? buf : buf.subarray(0, n), s.afterServerWrite);
  if (!s.detached) s.data('input', n);
  // A write the kernel did not take whole still points into buf: stop reading into it until it is flushed.
  if (server.writableLength !== 0) {
    s.clientStalled = true;
    return false;
  }
  return true;
}

function onServerRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]!;
  const client = s.client;
  client.write(n === buf.length ? buf : buf.subarray(0, n), s.afterClientWrite);
  if (!s.detached) s.data('output', n);
  if (client.writableLength !== 0) {
    s.serverStalled = true;
    return false;
  }
  return true;
}

/** The 'data' path, for client sockets accepted without the handle hook. */
function onClientData(this: SessionSocket, chunk: Buffer): void {
  const s = this[kSession]!;
  const server = s.server;
  server.write(chunk, s.afterServerWrite);
  if (!s.detached) s.data('input', chunk.length);
  if (server.writableLength !== 0) {
    s.clientStalled = true;
    this.pause();
  }
}

// ---------------------------------------------------------------- real server side

function onServerConnect(this: SessionSocket): void {
  const s = this[kSession]!;
  s.connecting = false;
  const now = s.ctx.clock();
  s.packet('output', SYN_ACK, now);
  s.packet('input', ACK, now);
  if (s.header !== null) this.write(s.header);
  // The client is read only now, so the PROXY header is the first thing the real server gets.
  if (!s.client.destroyed) s.client.resume();
}

function onServerError(this: SessionSocket, err: NodeJS.ErrnoException): void {
  const s = this[kSession]!;
  if (s.aborted) return;
  let reason: DropReason;
  if (s.connecting) {
    s.connecting = false;
    reason = err.code === 'ECONNREFUSED' ? 'rs-refused' : err.code === 'ETIMEDOUT' ? 'rs-timeout' : 'rs-error';
  } else {
    reason = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'rs-reset' : 'rs-error';
  }
  s.abort(reason, 'rst', 'output');
}

function onServerEnd(this: SessionSocket): void {
  const s = this[kSession]!;
  s.serverFin = true;
  const now = s.ctx.clock();
  s.packet('output', FIN, now);
  if (s.clientFin) s.packet('input', ACK, now);
  if (!s.client.destroyed) s.client.end();
}

function onServerClose(this: SessionSocket): void {
  const s = this[kSession]!;
  s.serverClosed = true;
  if (!s.clientClosed) {
    // The server side is gone for good; if the client is still up without having seen a FIN or an
    // error path, it cannot be served any more.
    if (!s.serverFin && !s.client.destroyed) s.abort('rs-error', 'rst', 'output');
    return;
  }
  s.finish();
}

// ---------------------------------------------------------------- client side

function onClientError(this: SessionSocket, err: NodeJS.ErrnoException): void {
  const s = this[kSession]!;
  if (s.aborted) return;
  s.abort(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'client-reset' : 'client-error', 'rst', 'input');
}

function onClientEnd(this: SessionSocket): void {
  const s = this[kSession]!;
  s.clientFin = true;
  const now = s.ctx.clock();
  s.packet('input', FIN, now);
  if (s.serverFin) s.packet('output', ACK, now);
  if (!s.server.destroyed) s.server.end();
}

function onClientClose(this: SessionSocket): void {
  const s = this[kSession]!;
  s.clientClosed = true;
  if (!s.serverClosed) {
    if (!s.clientFin && !s.server.destroyed) s.abort('client-error', 'rst', 'input');
    return;
  }
  s.finish();
}
