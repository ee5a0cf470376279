// The io_uring TCP engine: the proxy plane's connections driven through one io_uring
// (src/sys/io-uring.ts) instead of libuv handles. Same behaviour as tcp-handles.ts — the same
// TcpSession feeds the director's table and counters — at a fraction of the calls into and out of
// JavaScript: an event-loop turn is one io_uring_enter(2) that submits every queued operation and
// reaps every completion, and each completion is a few typed-array loads.
//
// Per connection, as operations on the ring (direct descriptors, never in the process's file table):
//   accept (into a slot the kernel picks; the client's address comes with it, no getpeername)
//   socket → setsockopt(TCP_NODELAY) → connect to the dest (slot = half + session id), queued together
//   once connected: the PROXY header if any, then one recv per side into a buffer the kernel picks
//   from the provided-buffer ring (an idle connection holds none); each chunk is sent whole to the
//   other side (MSG_WAITALL) with the source's next recv linked behind it, so that recv runs only
//   once the send is done — the same backpressure as the handles engine, and one send in flight per
//   socket keeps the order; the send's completion frees its buffer at once.
//   an EOF becomes our FIN on the other side: close() when that side has ended too (decided at the
//   end of the batch, so a FIN arriving in the same batch saves a shutdown), else shutdown(SHUT_WR).
//   a failure resets both sides: cancel → SO_LINGER {1, 0} → close.
// A session's id (and so its upstream slot) is reused only after every operation it queued has
// completed; completions carry a generation besides the id, so a late one is never misread.
import type { Addr } from '../../core/addr.ts';
import { addrFromBytes, addrFromU32 } from '../../core/addr.ts';
import type { Flow } from '../../core/director.ts';
import {
  type BufferRing, type Mapped, Ring, type Waker, CQE_BUFFER_SHIFT, CQE_F_BUFFER, MSG_NOSIGNAL, MSG_WAITALL,
  SQE_CQE_SKIP_SUCCESS, SQE_IO_LINK, mapAnonymous, prepAccept, prepCancelFd, prepCancelSlot,
  prepClose, prepConnect, prepRecvSelect, prepSend, prepSetsockopt, prepShutdown, prepSocket, watchEventfd,
} from '../../sys/io-uring.ts';
import { closeFd, listenSocket, openFileLimit } from '../../sys/listen-socket.ts';
import { errnoName } from '../../sys/libc.ts';
import type { PlaneContext } from './plane-context.ts';
import { type Admission, TcpSession, admitTcp } from './tcp-session.ts';

// User data: session id (or accept slot) << 4 | kind.
const K_IGNORE = 0;
const K_ACCEPT = 1;
const K_CONNECT = 2;
const K_RECV_C = 3;
const K_RECV_S = 4;
const K_SEND_TO_S = 5;
const K_SEND_TO_C = 6;
const K_SHUT_TO_S = 7;
const K_SHUT_TO_C = 8;
const K_ABORT_CLOSE = 9;

const BGID = 0;
const ACCEPTS_PER_LISTENER = 8;
const MAX_ACCEPT_SLOTS = 4096;
const ACCEPT_SLOT_BYTES = 64;
const SESSION_SLOT_BYTES = 256;
const HEADER_OFFSET = 128;
const ECANCELED = 125;
const ENOBUFS = 105;
const SOL_SOCKET = 1;
const SO_LINGER = 13;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SHUT_WR = 1;


/** A listener whose accepts are queued on the ring. */
export class UringListener {
  readonly fd: number;
  readonly vaddr: Addr;
  readonly vport: number;
  closed = false;

  constructor(fd: number, vaddr: Addr, vport: number) {
    this.fd = fd;
    this.vaddr = vaddr;
    this.vport = vport;
  }
}

/** What the plane needs to know when the engine cannot run here. */
export interface UringUnavailable {
  readonly reason: string;
}

const OPEN = 0;
const CLOSED = 2;

class UringSession extends TcpSession {
  readonly e: UringEngine;
  readonly sid: number;
  readonly cSlot: number;
  readonly sSlot: number;
  cState = OPEN;
  sState = OPEN;
  /** Our FIN toward that side: 0 not asked, 1 shutdown queued, 2 sent, 3 deferred to the batch's end. */
  cShut = 0;
  sShut = 0;
  /** Operations queued whose completion has not come yet. */
  inflight = 0;
  /** Waiting for a free buffer to read that side again. */
  starvedC = false;
  starvedS = false;
  released = false;

  /** User data of this session's operations, kind aside: generation << 20 | id << 4. */
  readonly tag: number;

  constructor(e: UringEngine, sid: number, gen: number, cSlot: number, flow: Flow, a: Admission, now: number) {
    super(e.ctx, flow, a, now);
    this.e = e;
    this.sid = sid;
    this.tag = ((gen << 20) | (sid << 4)) >>> 0;
    this.cSlot = cSlot;
    this.sSlot = e.half + sid;
  }

  get finished(): boolean {
    return this.cState === CLOSED && this.sState === CLOSED;
  }

  start(): void {
    const e = this.e;
    const r = e.ring;
    const base = e.sessionBase + this.sid * SESSION_SLOT_BYTES;
    const daddr = this.conn.daddr;
    const len = e.writeSockaddr(base, daddr, this.conn.dport);
    const data = this.tag;
    // Not linked: socket and setsockopt always complete inline, in queue order, so connect finds
    // the socket in its slot (or fails with EBADF if socket() failed). Links would cost a deferred
    // task-work hop per request and leave IORING_SQ_TASKRUN stale (run()).
    prepSocket(r, daddr.family === 6 ? 10 : 2, this.sSlot, SQE_CQE_SKIP_SUCCESS, data | K_IGNORE);
    prepSetsockopt(r, this.sSlot, IPPROTO_TCP, TCP_NODELAY, e.scratch.address, 4, SQE_CQE_SKIP_SUCCESS, data | K_IGNORE);
    prepConnect(r, this.sSlot, e.scratch.address + base, len, 0, data | K_CONNECT);
    this.inflight++;
    e.kick();
  }

  recvClient(): void {
    prepRecvSelect(this.e.ring, this.cSlot, BGID, this.tag | K_RECV_C);
    this.inflight++;
  }

  recvServer(): void {
    prepRecvSelect(this.e.ring, this.sSlot, BGID, this.tag | K_RECV_S);
    this.inflight++;
  }

  /**
   * One chunk (buffer `bid`, or the PROXY header: -1) to one side, and behind it, linked, the next
   * recv from the side it came from: that recv is issued only once the whole chunk has been sent
   * (MSG_WAITALL), which is the backpressure, keeps one send in flight per socket, which keeps the
   * order, and saves a trip through JavaScript per chunk. The send's completion carries its buffer
   * (user data, upper word) and frees it at once, so an idle connection holds none. A failed send
   * completes with its error, and the recv with ECANCELED.
   */
  forward(toServer: boolean, bid: number, address: number, n: number): void {
    prepSend(this.e.ring, toServer ? this.sSlot : this.cSlot, address, n, MSG_NOSIGNAL | MSG_WAITALL, SQE_IO_LINK,
      this.tag | (toServer ? K_SEND_TO_S : K_SEND_TO_C), bid + 1);
    this.inflight++;
    if (toServer) this.recvClient();
    else this.recvServer();
  }

  onConnect(res: number): void {
    if (res < 0) {
      this.connectFailed(res === -ECANCELED ? undefined : errnoName(-res));
      return;
    }
    this.connected();
    const h = this.header;
    if (h !== null) {
      const at = this.sid * SESSION_SLOT_BYTES + HEADER_OFFSET;
      this.e.scratchBytes.set(h, this.e.sessionBase + at);
      this.forward(true, -1, this.e.scratch.address + this.e.sessionBase + at, h.length);
    } else {
      // The client is read only now, so the PROXY header is the first thing the real server gets.
      this.recvClient();
    }
    this.recvServer();
  }

  onRecv(server: boolean, res: number, flags: number): void {
    if (res > 0) {
      this.e.buffers.taken();
      const bid = flags >>> CQE_BUFFER_SHIFT;
      this.forward(!server, bid, this.e.buffers.address(bid), res);
      this.data(server ? 'output' : 'input', res);
    } else if (res === 0) {
      if (server) {
        this.serverEnded();
        this.finTo(false);
      } else {
        this.clientEnded();
        this.finTo(true);
      }
      this.settle();
    } else if (res === -ECANCELED) {
      // The send ahead of it failed (its own completion says why), or a reset is under way.
    } else if (res === -ENOBUFS) {
      this.e.buffers.starved();
      if (server) this.starvedS = true;
      else this.starvedC = true;
      this.e.starved.push(this);
    } else {
      this.sideFailed(server, res);
    }
  }

  onSent(toServer: boolean, res: number): void {
    if (res < 0) this.sideFailed(toServer, res);
  }

  /**
   * One side sent its FIN: the other is owed ours. Nothing is in flight toward it any more (the
   * EOF was read by the recv linked behind the last send), so: close() if that side has ended too,
   * else at the end of the batch (the other FIN often comes in the same one) close() or
   * shutdown(SHUT_WR).
   */
  finTo(toServer: boolean): void {
    if (toServer ? this.serverFin : this.clientFin) {
      this.closeSide(toServer);
      return;
    }
    if (toServer) this.sShut = 3;
    else this.cShut = 3;
    this.e.finQueue.push(this);
  }

  flushFins(): void {
    if (this.aborted) return;
    if (this.cShut === 3 && this.cState === OPEN) {
      if (this.clientFin) this.closeSide(false);
      else this.shutdown(false);
    }
    if (this.sShut === 3 && this.sState === OPEN) {
      if (this.serverFin) this.closeSide(true);
      else this.shutdown(true);
    }
    this.maybeRelease();
  }

  shutdown(toServer: boolean): void {
    if (toServer) this.sShut = 1;
    else this.cShut = 1;
    prepShutdown(this.e.ring, toServer ? this.sSlot : this.cSlot, SHUT_WR, this.tag | (toServer ? K_SHUT_TO_S : K_SHUT_TO_C));
    this.inflight++;
  }

  onShutdown(toServer: boolean, res: number): void {
    if (res < 0) {
      this.sideFailed(toServer, res);
      return;
    }
    if (toServer) this.sShut = 2;
    else this.cShut = 2;
    this.settle();
  }

  /** A side whose FIN we have read and which has ours is done. */
  settle(): void {
    if (this.clientFin && this.cShut === 2 && this.cState === OPEN) this.closeSide(false);
    if (this.serverFin && this.sShut === 2 && this.sState === OPEN) this.closeSide(true);
  }

  /**
   * Close a side normally: nothing is queued on it (its FIN was read, ours sent or carried by this
   * close). Unlinked, so it runs in queue order, before any later socket() into the same slot.
   */
  closeSide(server: boolean): void {
    if (server) {
      this.sState = CLOSED;
      this.sShut = 2;
    } else {
      this.cState = CLOSED;
      this.cShut = 2;
    }
    prepClose(this.e.ring, server ? this.sSlot : this.cSlot, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
  }

  sideFailed(server: boolean, res: number): void {
    this.sideError(server, errnoName(-res));
  }

  protected resetBoth(): void {
    if (this.cState === OPEN) this.resetSide(false);
    if (this.sState === OPEN) this.resetSide(true);
    this.e.kick();
  }

  /** Cancel what is queued on the side, then close it with a reset (SO_LINGER {1, 0}). */
  resetSide(server: boolean): void {
    const r = this.e.ring;
    const slot = server ? this.sSlot : this.cSlot;
    if (server) this.sState = CLOSED;
    else this.cState = CLOSED;
    // Three inline operations, run in queue order (not linked: see start()).
    prepCancelSlot(r, slot, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
    prepSetsockopt(r, slot, SOL_SOCKET, SO_LINGER, this.e.scratch.address + 8, 8, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
    prepClose(r, slot, 0, this.tag | K_ABORT_CLOSE);
    this.inflight++;
  }

  /** Release the session once both sides are closed and nothing it queued is outstanding. */
  maybeRelease(): void {
    if (this.inflight === 0 && this.cState === CLOSED && this.sState === CLOSED && !this.released) {
      this.released = true;
      this.e.release(this);
    }
  }
}

/**
 * One ring per plane, with its buffers, its listeners and its sessions. Everything runs on the
 * plane's thread: a batch starts when the eventfd says completions wait, or when work was queued
 * outside a batch (kick()).
 */
export class UringEngine {
  readonly ctx: PlaneContext;
  readonly ring: Ring;
  readonly buffers: BufferRing;
  /** Constants, accept addresses and per-session sockaddr / PROXY header, where the kernel reads them. */
  readonly scratch: Mapped;
  readonly scratchBytes: Uint8Array;
  readonly sessionBase: number;
  /** Slots [0, half) are the kernel's for accepted sockets; half + id is session id's upstream socket. */
  readonly half: number;
  readonly #sessions: (UringSession | null)[];
  readonly #freeIds: number[] = [];
  /** Each id's generation (12 bits of user data), so a late completion never reaches a later session. */
  readonly #gens: Uint16Array;
  readonly #acceptOwner: (UringListener | null)[] = new Array(MAX_ACCEPT_SLOTS).fill(null);
  readonly #freeAcceptSlots: number[] = [];
  readonly finQueue: UringSession[] = [];
  readonly starved: UringSession[] = [];
  readonly #waker: Waker;
  readonly #v4 = new Map<number, Addr>();
  #running = false;
  #kicked = false;
  #listeners = 0;
  #closed = false;
  readonly #onCqe = (data: number, res: number, flags: number, high: number) => this.#cqe(data, res, flags, high);
  readonly #runBound = () => {
    this.#kicked = false;
    this.run();
  };

  private constructor(ctx: PlaneContext, ring: Ring, buffers: BufferRing, scratch: Mapped, half: number, waker: Waker) {
    this.ctx = ctx;
    this.ring = ring;
    this.buffers = buffers;
    this.scratch = scratch;
    this.scratchBytes = new Uint8Array(scratch.buf);
    const dv = new DataView(scratch.buf);
    dv.setInt32(0, 1, true); // TCP_NODELAY's value
    dv.setInt32(8, 1, true); // struct linger { l_onoff 1, l_linger 0 }: close sends a reset
    dv.setInt32(12, 0, true);
    this.sessionBase = 64 + MAX_ACCEPT_SLOTS * ACCEPT_SLOT_BYTES;
    this.half = half;
    this.#sessions = new Array(half).fill(null);
    this.#gens = new Uint16Array(half);
    for (let i = half - 1; i >= 0; i--) this.#freeIds.push(i);
    for (let i = MAX_ACCEPT_SLOTS - 1; i >= 0; i--) this.#freeAcceptSlots.push(i);
    this.#waker = waker;
    this.#waker.unref();
  }

  /** An engine, or why this machine cannot run one (the plane then uses the handles engine). */
  static open(ctx: PlaneContext, nBuffers: number, bufferSize: number): UringEngine | UringUnavailable {
    // Two direct slots per connection; the table counts against RLIMIT_NOFILE.
    const files = Math.min(65536, openFileLimit(1024)) & ~1;
    const ring = Ring.open({ entries: 4096, files, allocFiles: files / 2 });
    if (!(ring instanceof Ring)) return { reason: `io_uring unavailable (${ring.step}: ${errnoName(ring.errno)})` };
    const fail = (reason: string) => {
      ring.close();
      return { reason };
    };
    const buffers = ring.bufferRing(BGID, nBuffers, bufferSize);
    if (buffers === null) return fail('io_uring provided-buffer ring refused');
    const half = files / 2;
    const scratch = mapAnonymous(64 + MAX_ACCEPT_SLOTS * ACCEPT_SLOT_BYTES + half * SESSION_SLOT_BYTES);
    if (scratch === null) return fail('mmap failed');
    const efd = ring.registerEventfd();
    if (efd < 0) return fail(`io_uring eventfd refused (${errnoName(-efd)})`);
    let engine: UringEngine | null = null;
    const waker = watchEventfd(efd, () => engine?.run());
    if (waker === null) {
      closeFd(efd);
      return fail('this Node cannot watch a descriptor (pipe_wrap)');
    }
    engine = new UringEngine(ctx, ring, buffers, scratch, half, waker);
    if (!engine.#probe()) {
      engine.close();
      return { reason: 'io_uring socket commands (SOCKET_URING_OP_SETSOCKOPT) unsupported' };
    }
    return engine;
  }

  /** socket + setsockopt on a direct slot, synchronously: the kernel has what the engine uses. */
  #probe(): boolean {
    const slot = this.half + this.half - 1;
    let ok = true;
    prepSocket(this.ring, 2, slot, 0, K_IGNORE);
    prepSetsockopt(this.ring, slot, IPPROTO_TCP, TCP_NODELAY, this.scratch.address, 4, 0, K_IGNORE);
    prepClose(this.ring, slot, 0, K_IGNORE);
    if (this.ring.enter(3) < 0) return false;
    this.ring.reap((_d, res) => {
      if (res < 0) ok = false;
    });
    return ok;
  }

  /** Listen on vip:port; the descriptor or the errno name of the failing step. */
  listen(vaddr: Addr, vport: number, backlog: number, reusePort: boolean): UringListener | { code: string; step: string } {
    const fd = listenSocket(vaddr.family, vaddr.text, vport, { backlog, reusePort });
    if (typeof fd !== 'number') return fd;
    const l = new UringListener(fd, vaddr, vport);
    for (let i = 0; i < ACCEPTS_PER_LISTENER && this.#freeAcceptSlots.length > 0; i++) {
      const slot = this.#freeAcceptSlots.pop()!;
      this.#acceptOwner[slot] = l;
      this.#accept(slot, l);
    }
    if (this.#listeners++ === 0) this.#waker.ref();
    this.kick();
    return l;
  }

  /** Stop accepting: the queued accepts are cancelled, then the socket is closed. */
  closeListener(l: UringListener): void {
    if (l.closed) return;
    l.closed = true;
    prepCancelFd(this.ring, l.fd, K_IGNORE);
    // The batch submits the cancel; the cancelled accepts complete in it, and their slots come back there.
    this.run();
    closeFd(l.fd);
    // Listeners keep the process alive, as a net.Server would; open sessions are waited for by stop().
    if (--this.#listeners === 0) this.#waker.unref();
  }

  #accept(slot: number, l: UringListener): void {
    const at = 64 + slot * ACCEPT_SLOT_BYTES;
    // socklen in, then the length the kernel wrote out.
    new DataView(this.scratch.buf).setUint32(at + 32, 28, true);
    prepAccept(this.ring, l.fd, this.scratch.address + at, this.scratch.address + at + 32, (slot << 4) | K_ACCEPT);
  }

  /** Work was queued outside a batch: run one at the end of this turn. */
  kick(): void {
    if (this.#running || this.#kicked || this.#closed) return;
    this.#kicked = true;
    setImmediate(this.#runBound);
  }

  /**
   * One batch: submit, reap, act, until nothing more completes at once. The eventfd is off
   * meanwhile (our own submissions would signal it and cost a wake-up that finds nothing); once it
   * is back on, one more enter() and reap catch whatever arrived unsignalled in between.
   */
  run(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    const ring = this.ring;
    let rounds = 0;
    let enabled = false;
    try {
      ring.eventfdEnabled = false;
      // Rounds in a row that reaped nothing and queued nothing.
      let quiet = 0;
      for (; rounds < 64; rounds++) {
        ring.enter(0);
        const n = ring.reap(this.#onCqe);
        this.#endOfBatch();
        if (n !== 0 || ring.queued !== 0) {
          quiet = 0;
          if (enabled) {
            ring.eventfdEnabled = false;
            enabled = false;
          }
          continue;
        }
        quiet++;
        // IORING_SQ_TASKRUN can also be stale: work that a running batch adds and then runs itself
        // (the next request of a linked chain) sets it after the kernel cleared it, and nothing
        // clears it until real deferred work runs again. An enter() costs ~0.5 µs; a few empty
        // ones with it set mean nothing is left.
        if (ring.workPending && quiet < 3) continue;
        if (enabled) break;
        ring.eventfdEnabled = true;
        enabled = true;
        // Work that arrived since the last enter() went unsignalled, but it set IORING_SQ_TASKRUN
        // (io_req_local_work_add sets the flag, then tests the eventfd switch; our store above and
        // that locked update order each other): with the flag clear, nothing is owed.
        if (!ring.workPending) break;
      }
    } finally {
      this.#running = false;
      if (!enabled) {
        // Cut short (64 rounds, or a throw): the eventfd back on, and another batch soon.
        ring.eventfdEnabled = true;
        this.kick();
      }
    }
  }

  #endOfBatch(): void {
    const q = this.finQueue;
    for (let i = 0; i < q.length; i++) q[i].flushFins();
    q.length = 0;
    this.buffers.refill();
    const st = this.starved;
    if (st.length > 0) {
      // Buffers came back in this batch (sends completed): read the starved sides again.
      const n = st.length;
      for (let i = 0; i < n; i++) {
        const s = st[i];
        if (s.starvedC) {
          s.starvedC = false;
          if (s.cState === OPEN && !s.aborted) s.recvClient();
        }
        if (s.starvedS) {
          s.starvedS = false;
          if (s.sState === OPEN && !s.aborted) s.recvServer();
        }
      }
      st.splice(0, n);
    }
  }

  #cqe(data: number, res: number, flags: number, high: number): void {
    const kind = data & 15;
    if (kind === K_IGNORE) return;
    const id = (data >>> 4) & 0xffff;
    if (kind === K_ACCEPT) {
      this.#onAccept(id, res);
      return;
    }
    const s = this.#sessions[id];
    // A completion of an earlier session with this id (the generation differs) is not this one's.
    if (s === null || s.tag !== ((data & ~15) >>> 0)) return;
    s.inflight--;
    // A send's buffer (upper word: buffer id + 1; 0 for the PROXY header) is free once it completed.
    if (high !== 0) this.buffers.release(high - 1);
    if (s.aborted) {
      // A buffer the kernel filled for a side being reset goes straight back.
      if ((flags & CQE_F_BUFFER) !== 0) {
        this.buffers.taken();
        this.buffers.release(flags >>> CQE_BUFFER_SHIFT);
      }
      s.maybeRelease();
      return;
    }
    switch (kind) {
      case K_CONNECT: s.onConnect(res); break;
      case K_RECV_C: s.onRecv(false, res, flags); break;
      case K_RECV_S: s.onRecv(true, res, flags); break;
      case K_SEND_TO_S: s.onSent(true, res); break;
      case K_SEND_TO_C: s.onSent(false, res); break;
      case K_SHUT_TO_S: s.onShutdown(true, res); break;
      case K_SHUT_TO_C: s.onShutdown(false, res); break;
      default: break;
    }
    s.maybeRelease();
  }

  #onAccept(slot: number, res: number): void {
    const l = this.#acceptOwner[slot];
    if (l === null || l.closed) {
      if (res >= 0) prepClose(this.ring, res, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
      if (l !== null) {
        this.#acceptOwner[slot] = null;
        this.#freeAcceptSlots.push(slot);
      }
      return;
    }
    if (res < 0) {
      // EMFILE/ENFILE (the slot table is full) and the like: count, and try again shortly rather
      // than spin on an accept that fails at once.
      this.ctx.drop('accept-error');
      setTimeout(() => {
        if (!l.closed) {
          this.#accept(slot, l);
          this.kick();
        }
      }, 50).unref();
      return;
    }
    const flow = this.#flow(slot, l);
    this.#accept(slot, l);
    if (flow === null) {
      this.ctx.drop('client-gone');
      prepClose(this.ring, res, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
      return;
    }
    const now = this.ctx.clock();
    // Never empty in practice: accepted sockets take the other half of the slot table.
    const a = this.#freeIds.length === 0 ? 'accept-error' as const : admitTcp(this.ctx, flow, now);
    if (typeof a === 'string') {
      this.ctx.drop(a);
      // A reset, the user-space stand-in for the kernel's ICMP port unreachable.
      prepSetsockopt(this.ring, res, SOL_SOCKET, SO_LINGER, this.scratch.address + 8, 8, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
      prepClose(this.ring, res, SQE_CQE_SKIP_SUCCESS, K_IGNORE);
      return;
    }
    const sid = this.#freeIds.pop()!;
    const gen = (this.#gens[sid] = (this.#gens[sid] + 1) & 0xfff);
    const s = new UringSession(this, sid, gen, res, flow, a, now);
    this.#sessions[sid] = s;
    s.start();
  }

  /** The client's flow from the address accept wrote. */
  #flow(slot: number, l: UringListener): Flow | null {
    const b = this.scratchBytes;
    const at = 64 + slot * ACCEPT_SLOT_BYTES;
    const family = b[at] | (b[at + 1] << 8);
    const cport = (b[at + 2] << 8) | b[at + 3];
    let caddr: Addr | undefined;
    if (family === 2) {
      const v = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
      caddr = this.#v4.get(v);
      if (caddr === undefined) {
        caddr = addrFromU32(v);
        // Bounded: a flood of distinct clients must not grow it without end.
        if (this.#v4.size >= 65536) this.#v4.clear();
        this.#v4.set(v, caddr);
      }
    } else if (family === 10) {
      caddr = addrFromBytes(b.slice(at + 8, at + 24));
    } else {
      return null;
    }
    return { protocol: 'tcp', caddr, cport, vaddr: l.vaddr, vport: l.vport };
  }

  /** struct sockaddr_in / sockaddr_in6 for a dest at scratch offset `at`; its length. */
  writeSockaddr(at: number, a: Addr, port: number): number {
    const b = this.scratchBytes;
    const bytes = a.bytes;
    b.fill(0, at, at + 28);
    b[at] = a.family === 6 ? 10 : 2;
    b[at + 2] = port >> 8;
    b[at + 3] = port & 0xff;
    if (a.family === 6) {
      b.set(bytes, at + 8);
      return 28;
    }
    b.set(bytes, at + 4);
    return 16;
  }

  release(s: UringSession): void {
    this.#sessions[s.sid] = null;
    this.#freeIds.push(s.sid);
    this.ctx.tcpSessions.delete(s);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The waker's pipe handle owns the eventfd: libuv closes the descriptor with it (closing it here
    // too would close whatever descriptor had reused the number meanwhile).
    this.#waker.close();
    this.ring.close();
  }
}
