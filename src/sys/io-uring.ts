// io_uring from JavaScript, through koffi: one ring whose submission and completion queues are
// mapped into the process and read and written as typed arrays, so queuing an operation or reading
// its result is a few stores and loads, and one io_uring_enter(2) submits a whole batch and reaps
// what completed.
//
// Why: the proxy plane's cost per new connection on libuv is mostly Node's glue — a callback into
// JavaScript per event and a call out of it per operation, ~1 µs each, ~20 per connection
// (BENCHMARKS.md). With a ring, an event-loop turn costs one call out (io_uring_enter) however many
// operations it carries.
//
// What it relies on (Linux ≥ 6.7; probed by openRing(), which returns an error value otherwise):
// IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN (completions are posted only when this thread asks,
// so nothing runs behind the event loop's back), a sparse registered file table (direct
// descriptors: accept, socket, connect, recv, send, shutdown and close never touch the process's
// file table), a provided-buffer ring (a socket holds no buffer while nothing is in flight), and
// SOCKET_URING_OP_SETSOCKOPT (TCP_NODELAY and SO_LINGER on direct descriptors).
//
// Waking the event loop: a registered eventfd is signalled when completions are pending; the
// eventfd is opened in libuv as a pipe handle (pipe_wrap), which reads it when readable and calls
// back into JavaScript, once per batch. Upstream names: include/uapi/linux/io_uring.h (structure
// layouts and constants below), io_uring/{net,opdef,register,kbuf,eventfd}.c (behaviour).
import koffi from 'koffi';
import { type Libc, libc } from './libc.ts';

const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;
const SYS_IO_URING_REGISTER = 427;

const SETUP_CQSIZE = 1 << 3;
const SETUP_SUBMIT_ALL = 1 << 7;
const SETUP_TASKRUN_FLAG = 1 << 9;
const SETUP_SINGLE_ISSUER = 1 << 12;
const SETUP_DEFER_TASKRUN = 1 << 13;
const FEAT_SINGLE_MMAP = 1 << 0;
const FEAT_NODROP = 1 << 1;
const ENTER_GETEVENTS = 1;
const SQ_CQ_OVERFLOW = 1 << 1;
const SQ_TASKRUN = 1 << 2;
const CQ_EVENTFD_DISABLED = 1 << 0;

const REGISTER_EVENTFD = 4;
const REGISTER_FILES2 = 13;
const REGISTER_PBUF_RING = 22;
const REGISTER_FILE_ALLOC_RANGE = 25;
const RSRC_REGISTER_SPARSE = 1;

const OFF_SQ_RING = 0;
const OFF_SQES = 0x10000000;
const PROT_RW = 3;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;
const MAP_PRIVATE_ANON = 0x02 | 0x20;

export const OP = {
  TIMEOUT: 11, ASYNC_CANCEL: 14, ACCEPT: 13, CONNECT: 16, CLOSE: 19, SEND: 26, RECV: 27, SHUTDOWN: 34, SOCKET: 45, URING_CMD: 46,
} as const;

export const SQE_FIXED_FILE = 1 << 0;
export const SQE_IO_LINK = 1 << 2;
export const SQE_IO_HARDLINK = 1 << 3;
export const SQE_BUFFER_SELECT = 1 << 5;
export const SQE_CQE_SKIP_SUCCESS = 1 << 6;

export const CQE_F_BUFFER = 1 << 0;
export const CQE_BUFFER_SHIFT = 16;

export const CANCEL_ALL = 1 << 0;
export const CANCEL_FD = 1 << 1;
export const CANCEL_FD_FIXED = 1 << 3;

export const FILE_INDEX_ALLOC = 0xffffffff;
const SOCKET_URING_OP_SETSOCKOPT = 3;

export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;

/** Why a ring could not be opened: the step and the errno, for the plane's fallback message. */
export interface RingError {
  readonly step: string;
  readonly errno: number;
}

interface Sys {
  setup: (nr: number, entries: number, params: Uint8Array) => number;
  enter: (nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, sig: null, sz: number) => number;
  register: (nr: number, fd: number, opcode: number, arg: Uint8Array | null, nrArgs: number) => number;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  eventfd: (init: number, flags: number) => number;
  close: Libc['close'];
}

let sys: Sys | null = null;

function loadSys(): Sys {
  if (sys !== null) return sys;
  const l = koffi.load('libc.so.6');
  sys = {
    setup: l.func('syscall', 'long', ['long', 'uint32_t', 'void *']),
    enter: l.func('syscall', 'long', ['long', 'int', 'uint32_t', 'uint32_t', 'uint32_t', 'void *', 'size_t']),
    register: l.func('syscall', 'long', ['long', 'int', 'uint32_t', 'void *', 'uint32_t']),
    mmap: l.func('void *mmap(void *, size_t, int, int, int, int64_t)'),
    munmap: l.func('int munmap(void *, size_t)'),
    eventfd: l.func('int eventfd(unsigned int, int)'),
    close: libc().close,
  } as Sys;
  return sys;
}

const MAP_FAILED = 0xffffffffffffffffn;

/** Memory the kernel reads or writes for us: its address, and a view of it. */
export interface Mapped {
  readonly ptr: unknown;
  readonly address: number;
  readonly buf: ArrayBuffer;
}

function map(s: Sys, len: number, prot: number, flags: number, fd: number, off: number): Mapped | null {
  const ptr = s.mmap(null, len, prot, flags, fd, off);
  if (ptr === null) return null;
  const a = koffi.address(ptr) as bigint;
  if (a === MAP_FAILED) return null;
  return { ptr, address: Number(a), buf: koffi.view(ptr as never, len) as ArrayBuffer };
}

/** Anonymous memory for buffers and socket addresses the kernel reads (page-aligned). */
export function mapAnonymous(len: number): Mapped | null {
  return map(loadSys(), len, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
}

export interface RingOptions {
  /** Submission queue entries (a power of two); the completion queue gets four times as many. */
  readonly entries: number;
  /** Registered file table slots (direct descriptors). */
  readonly files: number;
  /** Slots [0, allocFiles) are handed out by the kernel (accept with FILE_INDEX_ALLOC). */
  readonly allocFiles: number;
}

/**
 * One io_uring. SQEs are written straight into the mapped array: take one with `sqe()` (its first
 * 32-bit word index into `sq`), fill it with the prep helpers, and `enter()` submits everything
 * queued since the last call. Completions are read by `reap()`.
 */
export class Ring {
  readonly fd: number;
  readonly #s: Sys;
  /** The SQE array as 32-bit words (16 per SQE); after close(), a dummy one, so late work is a no-op. */
  sq: Uint32Array;
  #closed = false;
  readonly #ring: Uint32Array;
  readonly #ringI32: Int32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqMask: number;
  readonly #sqEntries: number;
  readonly #sqFlags: number;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  readonly #cqFlags: number;
  #tail = 0;
  #submitted = 0;
  readonly #maps: { m: Mapped; len: number }[];

  private constructor(fd: number, s: Sys, params: DataView, ring: Mapped, ringLen: number, sqes: Mapped, sqesLen: number) {
    this.fd = fd;
    this.#s = s;
    this.#maps = [{ m: ring, len: ringLen }, { m: sqes, len: sqesLen }];
    this.sq = new Uint32Array(sqes.buf);
    this.#ring = new Uint32Array(ring.buf);
    this.#ringI32 = new Int32Array(ring.buf);
    const w = (off: number) => params.getUint32(off, true) >>> 2;
    this.#sqHead = w(40);
    this.#sqTail = w(44);
    this.#sqMask = this.#ring[w(48)];
    this.#sqEntries = this.#ring[w(52)];
    this.#sqFlags = w(56);
    const array = w(64);
    // The indirection array maps ring slot i to SQE i, once: SQEs are filled in ring order.
    for (let i = 0; i < this.#sqEntries; i++) this.#ring[array + i] = i;
    this.#cqHead = w(80);
    this.#cqTail = w(84);
    this.#cqMask = this.#ring[w(88)];
    this.#cqes = w(100);
    this.#cqFlags = w(104);
    this.#tail = this.#ring[this.#sqTail];
    this.#submitted = this.#tail;
  }

  /** Open a ring with a sparse file table, or say which step failed (io_uring off, old kernel…). */
  static open(o: RingOptions): Ring | RingError {
    let s: Sys;
    try {
      s = loadSys();
    } catch {
      return { step: 'koffi', errno: 0 };
    }
    const p = new Uint8Array(120);
    const dv = new DataView(p.buffer);
    dv.setUint32(4, o.entries * 4, true);
    dv.setUint32(8, SETUP_CQSIZE | SETUP_SUBMIT_ALL | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_TASKRUN_FLAG, true);
    const fd = s.setup(SYS_IO_URING_SETUP, o.entries, p);
    if (fd < 0) return { step: 'io_uring_setup', errno: koffi.errno() };
    const fail = (step: string): RingError => {
      const errno = koffi.errno();
      s.close(fd);
      return { step, errno };
    };
    const features = dv.getUint32(20, true);
    if ((features & FEAT_SINGLE_MMAP) === 0 || (features & FEAT_NODROP) === 0) return fail('features');
    const sqEntries = dv.getUint32(0, true);
    const cqEntries = dv.getUint32(4, true);
    const sqLen = dv.getUint32(64, true) + sqEntries * 4;
    const cqLen = dv.getUint32(100, true) + cqEntries * 16;
    const ringLen = Math.max(sqLen, cqLen);
    const ring = map(s, ringLen, PROT_RW, MAP_SHARED_POPULATE, fd, OFF_SQ_RING);
    if (ring === null) return fail('mmap rings');
    const sqesLen = sqEntries * 64;
    const sqes = map(s, sqesLen, PROT_RW, MAP_SHARED_POPULATE, fd, OFF_SQES);
    if (sqes === null) return fail('mmap sqes');
    const r = new Ring(fd, s, dv, ring, ringLen, sqes, sqesLen);
    const files = new Uint8Array(32);
    new DataView(files.buffer).setUint32(0, o.files, true);
    new DataView(files.buffer).setUint32(4, RSRC_REGISTER_SPARSE, true);
    if (r.register(REGISTER_FILES2, files, 32) < 0) return r.#fail('register files');
    const range = new Uint8Array(16);
    new DataView(range.buffer).setUint32(4, o.allocFiles, true);
    if (r.register(REGISTER_FILE_ALLOC_RANGE, range, 0) < 0) return r.#fail('register file range');
    return r;
  }

  #fail(step: string): RingError {
    const errno = koffi.errno();
    this.close();
    return { step, errno };
  }

  register(opcode: number, arg: Uint8Array | null, nr: number): number {
    return this.#s.register(SYS_IO_URING_REGISTER, this.fd, opcode, arg, nr);
  }

  /** Signal a new eventfd whenever completions wait; returns its descriptor, or -errno. */
  registerEventfd(): number {
    const efd = this.#s.eventfd(0, 0o4000 | 0o2000000);
    if (efd < 0) return -koffi.errno();
    const arg = new Uint8Array(4);
    new DataView(arg.buffer).setInt32(0, efd, true);
    if (this.register(REGISTER_EVENTFD, arg, 1) < 0) {
      const e = koffi.errno();
      this.#s.close(efd);
      return -e;
    }
    return efd;
  }

  /** A provided-buffer ring for group `bgid`; null with the errno set when the kernel refuses. */
  bufferRing(bgid: number, entries: number, size: number): BufferRing | null {
    const ring = mapAnonymous(entries * 16);
    const data = mapAnonymous(entries * size);
    if (ring === null || data === null) return null;
    const reg = new Uint8Array(40);
    const dv = new DataView(reg.buffer);
    dv.setBigUint64(0, BigInt(ring.address), true);
    dv.setUint32(8, entries, true);
    dv.setUint16(12, bgid, true);
    if (this.register(REGISTER_PBUF_RING, reg, 1) < 0) return null;
    this.#maps.push({ m: ring, len: entries * 16 }, { m: data, len: entries * size });
    return new BufferRing(ring, data, entries, size);
  }

  /** The next free SQE (its first word in `sq`), zeroed; submits first when the queue is full. */
  sqe(): number {
    if (this.#closed) return 0;
    if (this.#tail - Atomics.load(this.#ring, this.#sqHead) >= this.#sqEntries) this.enter(0);
    const base = (this.#tail & this.#sqMask) << 4;
    this.#tail = (this.#tail + 1) >>> 0;
    this.sq.fill(0, base, base + 16);
    return base;
  }

  /**
   * Deferred completions the last enter() left to run: io_uring runs at most 20 per call
   * (IO_LOCAL_TW_DEFAULT_MAX in io_uring/io_uring.c) and says so with IORING_SQ_TASKRUN; or
   * completions held back because the CQ was full (IORING_SQ_CQ_OVERFLOW). The eventfd is only
   * signalled when the deferred list goes from empty to not, so leftovers must be run by calling
   * enter() again, not waited for. It can be stale (true with nothing left): work added while the
   * kernel runs deferred work sets it after the kernel cleared it, and that same run takes the work.
   */
  get workPending(): boolean {
    if (this.#closed) return false;
    return (Atomics.load(this.#ring, this.#sqFlags) & (SQ_TASKRUN | SQ_CQ_OVERFLOW)) !== 0;
  }

  /**
   * IORING_CQ_EVENTFD_DISABLED: while the owner is reaping anyway, completions need not signal the
   * eventfd (each signal would cost the event loop a wake-up that finds nothing). Whoever turns it
   * back on must enter() and reap once more: work that arrived meanwhile went unsignalled.
   */
  set eventfdEnabled(on: boolean) {
    if (this.#closed) return;
    Atomics.store(this.#ring, this.#cqFlags, on ? 0 : CQ_EVENTFD_DISABLED);
  }

  /** SQEs queued and not yet submitted. */
  get queued(): number {
    return (this.#tail - this.#submitted) >>> 0;
  }

  /**
   * Submit what is queued and run the ring's deferred completions (DEFER_TASKRUN posts them only
   * here); with `wait`, block for at least that many. Returns io_uring_enter's result or -errno.
   */
  enter(wait: number): number {
    if (this.#closed) return -9; // EBADF
    const n = this.queued;
    Atomics.store(this.#ring, this.#sqTail, this.#tail);
    const r = this.#s.enter(SYS_IO_URING_ENTER, this.fd, n, wait, ENTER_GETEVENTS, null, 0);
    if (r < 0) return -koffi.errno();
    this.#submitted = (this.#submitted + r) >>> 0;
    return r;
  }

  /** Call `on` for each completion waiting (user data low and high words, result, flags); returns how many. */
  reap(on: (data: number, res: number, flags: number, high: number) => void): number {
    if (this.#closed) return 0;
    const ring = this.#ring;
    let head = ring[this.#cqHead];
    let n = 0;
    for (;;) {
      const tail = Atomics.load(ring, this.#cqTail);
      if (head === tail) break;
      while (head !== tail) {
        const i = this.#cqes + ((head & this.#cqMask) << 2);
        const data = ring[i];
        const high = ring[i + 1];
        const res = this.#ringI32[i + 2];
        const flags = ring[i + 3];
        head = (head + 1) >>> 0;
        n++;
        // The slot is released before the callback runs: it may queue work that completes at once.
        Atomics.store(ring, this.#cqHead, head);
        on(data, res, flags, high);
      }
    }
    return n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.sq = new Uint32Array(16);
    for (const { m, len } of this.#maps) this.#s.munmap(m.ptr, len);
    this.#maps.length = 0;
    this.#s.close(this.fd);
  }
}

/**
 * Buffers the kernel picks from when a recv completes (IORING_REGISTER_PBUF_RING). The ring is
 * kept stocked with only `target` buffers, refilled last-returned-first from a free stack: the
 * kernel takes buffers in ring order, so stocking all of them would cycle through every buffer and
 * make the whole area resident; this way the same few hot buffers are reused and memory follows the
 * peak of data in flight. Running dry (a recv fails with ENOBUFS) doubles the stock.
 */
export class BufferRing {
  readonly size: number;
  readonly entries: number;
  readonly #base: number;
  readonly #ring: Uint32Array;
  readonly #ring16: Uint16Array;
  readonly #mask: number;
  readonly #free: number[] = [];
  #tail = 0;
  #inRing = 0;
  #target: number;

  constructor(ring: Mapped, data: Mapped, entries: number, size: number) {
    this.size = size;
    this.entries = entries;
    this.#base = data.address;
    this.#ring = new Uint32Array(ring.buf);
    this.#ring16 = new Uint16Array(ring.buf);
    this.#mask = entries - 1;
    this.#target = Math.min(entries, 64);
    for (let bid = entries - 1; bid >= 0; bid--) this.#free.push(bid);
    this.refill();
  }

  address(bid: number): number {
    return this.#base + bid * this.size;
  }

  /** The kernel filled one (a completion carried IORING_CQE_F_BUFFER). */
  taken(): void {
    this.#inRing--;
  }

  /** A buffer is free again (its data was sent); it goes back to the ring at the next refill(). */
  release(bid: number): void {
    this.#free.push(bid);
  }

  /** A recv found the ring empty: stock more from now on. */
  starved(): void {
    this.#target = Math.min(this.entries, this.#target * 2);
  }

  /** Top the ring up to its stock, most recently freed first, and publish the new tail. */
  refill(): void {
    if (this.#inRing >= this.#target || this.#free.length === 0) return;
    while (this.#inRing < this.#target && this.#free.length > 0) {
      const bid = this.#free.pop()!;
      const w = (this.#tail & this.#mask) << 2;
      const a = this.#base + bid * this.size;
      this.#ring[w] = a >>> 0;
      this.#ring[w + 1] = Math.floor(a / 0x100000000);
      this.#ring[w + 2] = this.size;
      this.#ring16[(w << 1) + 6] = bid;
      this.#tail = (this.#tail + 1) & 0xffff;
      this.#inRing++;
    }
    // The tail is the u16 at byte 14 of the ring (struct io_uring_buf_ring).
    Atomics.store(this.#ring16, 7, this.#tail);
  }
}

// ---------------------------------------------------------------- SQE preparation (words of a 64-byte SQE)
// 0: opcode | flags << 8 | ioprio << 16; 1: fd; 2-3: off/addr2/cmd_op; 4-5: addr/level,optname;
// 6: len; 7: op flags; 8-9: user_data; 10: buf_index/buf_group | personality << 16;
// 11: file_index/optlen/splice_fd_in; 12-13: addr3/optval.

function u64(sq: Uint32Array, i: number, v: number): void {
  sq[i] = v >>> 0;
  sq[i + 1] = Math.floor(v / 0x100000000);
}

export function prepAccept(r: Ring, listenFd: number, sockaddr: number, socklen: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.ACCEPT;
  sq[b + 1] = listenFd;
  u64(sq, b + 2, socklen);
  u64(sq, b + 4, sockaddr);
  sq[b + 8] = data;
  sq[b + 11] = FILE_INDEX_ALLOC;
}

/** socket(2) into direct slot `slot`. */
export function prepSocket(r: Ring, family: number, slot: number, flags: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.SOCKET | (flags << 8);
  sq[b + 1] = family;
  sq[b + 2] = 1; // SOCK_STREAM
  sq[b + 8] = data;
  sq[b + 11] = slot + 1;
}

export function prepSetsockopt(r: Ring, slot: number, level: number, name: number, optval: number, optlen: number, flags: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.URING_CMD | ((flags | SQE_FIXED_FILE) << 8);
  sq[b + 1] = slot;
  sq[b + 2] = SOCKET_URING_OP_SETSOCKOPT;
  sq[b + 4] = level;
  sq[b + 5] = name;
  sq[b + 8] = data;
  sq[b + 11] = optlen;
  u64(sq, b + 12, optval);
}

export function prepConnect(r: Ring, slot: number, sockaddr: number, len: number, flags: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.CONNECT | ((flags | SQE_FIXED_FILE) << 8);
  sq[b + 1] = slot;
  sq[b + 2] = len;
  u64(sq, b + 4, sockaddr);
  sq[b + 8] = data;
}

/** recv into a buffer the kernel picks from group `bgid`. */
export function prepRecvSelect(r: Ring, slot: number, bgid: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.RECV | ((SQE_FIXED_FILE | SQE_BUFFER_SELECT) << 8);
  sq[b + 1] = slot;
  sq[b + 8] = data;
  sq[b + 10] = bgid;
}

/** `high`: the user data's upper word, returned with the completion (reap()). */
export function prepSend(r: Ring, slot: number, address: number, len: number, msgFlags: number, flags: number, data: number, high: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.SEND | ((flags | SQE_FIXED_FILE) << 8);
  sq[b + 1] = slot;
  u64(sq, b + 4, address);
  sq[b + 6] = len;
  sq[b + 7] = msgFlags;
  sq[b + 8] = data;
  sq[b + 9] = high;
}

export function prepShutdown(r: Ring, slot: number, how: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.SHUTDOWN | (SQE_FIXED_FILE << 8);
  sq[b + 1] = slot;
  sq[b + 6] = how;
  sq[b + 8] = data;
}

/** Close direct slot `slot` (the socket goes once no operation holds it any more). */
export function prepClose(r: Ring, slot: number, flags: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.CLOSE | (flags << 8);
  sq[b + 8] = data;
  sq[b + 11] = slot + 1;
}

/** Cancel every operation on direct slot `slot`. */
export function prepCancelSlot(r: Ring, slot: number, flags: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.ASYNC_CANCEL | (flags << 8);
  sq[b + 1] = slot;
  sq[b + 7] = CANCEL_ALL | CANCEL_FD | CANCEL_FD_FIXED;
  sq[b + 8] = data;
}

/** Cancel every operation on a plain descriptor (a listener's accepts). */
export function prepCancelFd(r: Ring, fd: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.ASYNC_CANCEL;
  sq[b + 1] = fd;
  sq[b + 7] = CANCEL_ALL | CANCEL_FD;
  sq[b + 8] = data;
}

// ---------------------------------------------------------------- waking the event loop

interface PipeHandle {
  open(fd: number): number;
  readStart(): number;
  useUserBuffer(b: Uint8Array): void;
  close(cb?: () => void): void;
  ref(): void;
  unref(): void;
  onread: (() => undefined) | undefined;
}

/** A readable descriptor libuv watches for us (an eventfd): `onReady` runs each time it was read. */
export interface Waker {
  ref(): void;
  unref(): void;
  /** Stop watching and close the descriptor (libuv closes it with the handle). */
  close(): void;
}

/**
 * libuv has no public "watch this descriptor" for Node code, but a pipe handle opened on any
 * readable descriptor does it: libuv polls it, read(2)s it when readable (an eventfd gives its
 * 8-byte counter, which resets it) and calls back. null when this Node lacks pipe_wrap.
 */
export function watchEventfd(fd: number, onReady: () => void): Waker | null {
  try {
    const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
    if (typeof binding !== 'function') return null;
    const pw = binding.call(process, 'pipe_wrap');
    const Pipe = pw.Pipe as (new (type: number) => PipeHandle) | undefined;
    const type = (pw.constants as Record<string, number> | undefined)?.SOCKET;
    if (typeof Pipe !== 'function' || typeof type !== 'number') return null;
    const h = new Pipe(type);
    if (h.open(fd) !== 0) return null;
    // libuv keeps only the buffer's address: the buffer must stay alive (and off the V8 heap, where
    // the GC could move it) as long as the handle, so the closure below holds it.
    const buf = Buffer.allocUnsafeSlow(64);
    h.useUserBuffer(buf);
    h.onread = () => {
      onReady();
      return undefined;
    };
    if (h.readStart() !== 0) return null;
    return { ref: () => h.ref(), unref: () => h.unref(), close: () => h.close(() => buf.length) };
  } catch {
    return null;
  }
}

/** A timeout that completes after the __kernel_timespec at `ts` (16 bytes: seconds, nanoseconds). */
export function prepTimeout(r: Ring, ts: number, data: number): void {
  const sq = r.sq;
  const b = r.sqe();
  sq[b] = OP.TIMEOUT;
  sq[b + 1] = -1 >>> 0;
  u64(sq, b + 4, ts);
  sq[b + 6] = 1;
  sq[b + 8] = data;
}
