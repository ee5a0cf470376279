// An NFQUEUE consumer over nfnetlink_queue (net/netfilter/nfnetlink_queue.c;
// include/uapi/linux/netfilter/nfnetlink_queue.h), through koffi: socket(AF_NETLINK, SOCK_RAW,
// NETLINK_NETFILTER), bind, the config messages (CMD_BIND, copy mode, queue length, flags), a
// receive loop in a worker thread (nfqueue-worker.ts), and verdicts sent from the main thread with
// a mark. nlmsghdr fields are host order (little-endian here); nfgenmsg.res_id and every NFQA_*
// value are big-endian (kernel-dataplane.md §5). Linux only; needs CAP_NET_ADMIN.
import { Worker } from 'node:worker_threads';
import { libc as lib, lastErrno, SOCK_CLOEXEC, SOL_SOCKET } from './libc.ts';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_NETFILTER = 12;
const SO_RCVBUFFORCE = 33;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;
const NFNL_SUBSYS_QUEUE = 3;
const NFQNL_MSG_PACKET = 0;
const NFQNL_MSG_VERDICT = 1;
const NFQNL_MSG_CONFIG = 2;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLMSG_ERROR = 2;
const NFQA_CFG_CMD = 1;
const NFQA_CFG_PARAMS = 2;
const NFQA_CFG_QUEUE_MAXLEN = 3;
const NFQA_CFG_MASK = 4;
const NFQA_CFG_FLAGS = 5;
const NFQNL_CFG_CMD_BIND = 1;
const NFQNL_CFG_CMD_UNBIND = 2;
const NFQNL_COPY_PACKET = 2;
/** Accept (instead of drop) packets that find the queue full. */
export const NFQA_CFG_F_FAIL_OPEN = 1;
const NFQA_PACKET_HDR = 1;
const NFQA_VERDICT_HDR = 2;
const NFQA_MARK = 3;
const NFQA_PAYLOAD = 10;
export const NF_DROP = 0;
export const NF_ACCEPT = 1;

export interface QueuedPacket {
  readonly id: number;
  /** The packet from its IP header on (at most copyRange bytes). */
  readonly payload: Uint8Array;
  readonly mark: number;
}

export interface NfQueueOptions {
  readonly queueNum: number;
  /** Bytes of each packet copied to user space (headers are enough): default 128. */
  readonly copyRange?: number;
  /** Kernel queue length before overflow: default 4096. */
  readonly maxLen?: number;
  /** Overflow accepts instead of dropping (the plane's settle chain then falls back). */
  readonly failOpen?: boolean;
}

export interface NfQueue {
  onPackets(handler: (batch: readonly QueuedPacket[]) => void): void;
  /** The receive side stopped for good (the message says why). */
  onFailure(handler: (message: string) => void): void;
  /** Queue a verdict; flush() sends every queued verdict in one send(2). */
  verdict(id: number, verdict: number, mark: number | null): void;
  flush(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- message building (pure)

function align4(n: number): number {
  return (n + 3) & ~3;
}

function attr(type: number, payload: Uint8Array): Uint8Array {
  const len = 4 + payload.length;
  const out = new Uint8Array(align4(len));
  const v = new DataView(out.buffer);
  v.setUint16(0, len, true);
  v.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, false);
  return b;
}

/** One nfnetlink message: nlmsghdr + nfgenmsg (AF_UNSPEC, v0, res_id = queue) + attributes. */
export function nfqMessage(msgType: number, flags: number, seq: number, queueNum: number, attrs: readonly Uint8Array[], family = 0): Uint8Array {
  const body = attrs.reduce((n, a) => n + a.length, 0);
  const len = 16 + 4 + body;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, (NFNL_SUBSYS_QUEUE << 8) | msgType, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out[16] = family;
  out[17] = 0;
  v.setUint16(18, queueNum, false);
  let o = 20;
  for (const a of attrs) { out.set(a, o); o += a.length; }
  return out;
}

export function configCommand(seq: number, queueNum: number, cmd: number): Uint8Array {
  const p = new Uint8Array(4);
  p[0] = cmd;
  return nfqMessage(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queueNum, [attr(NFQA_CFG_CMD, p)]);
}

export function configParams(seq: number, queueNum: number, copyRange: number, maxLen: number, flags: number): Uint8Array {
  const params = new Uint8Array(5);
  new DataView(params.buffer).setUint32(0, copyRange, false);
  params[4] = NFQNL_COPY_PACKET;
  return nfqMessage(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queueNum, [
    attr(NFQA_CFG_PARAMS, params), attr(NFQA_CFG_QUEUE_MAXLEN, be32(maxLen)),
    attr(NFQA_CFG_MASK, be32(NFQA_CFG_F_FAIL_OPEN)), attr(NFQA_CFG_FLAGS, be32(flags)),
  ]);
}

export function verdictMessage(seq: number, queueNum: number, id: number, verdict: number, mark: number | null): Uint8Array {
  const hdr = new Uint8Array(8);
  const v = new DataView(hdr.buffer);
  v.setUint32(0, verdict, false);
  v.setUint32(4, id, false);
  const attrs = [attr(NFQA_VERDICT_HDR, hdr)];
  if (mark !== null) attrs.push(attr(NFQA_MARK, be32(mark)));
  return nfqMessage(NFQNL_MSG_VERDICT, NLM_F_REQUEST, seq, queueNum, attrs);
}

/** Parse one received datagram: its packet messages, and netlink errors (acks have error 0). */
export function parseDatagram(buf: Uint8Array): { packets: QueuedPacket[]; errors: number[] } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const packets: QueuedPacket[] = [];
  const errors: number[] = [];
  let o = 0;
  while (o + 16 <= buf.length) {
    const len = v.getUint32(o, true);
    if (len < 16 || o + len > buf.length) break;
    const type = v.getUint16(o + 4, true);
    if (type === NLMSG_ERROR) {
      const e = v.getInt32(o + 16, true);
      if (e !== 0) errors.push(-e);
    } else if (type === ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
      let id = -1;
      let mark = 0;
      let payload: Uint8Array | null = null;
      let a = o + 20;
      while (a + 4 <= o + len) {
        const alen = v.getUint16(a, true);
        const atype = v.getUint16(a + 2, true) & 0x7fff;
        if (alen < 4) break;
        if (atype === NFQA_PACKET_HDR) id = v.getUint32(a + 4, false);
        else if (atype === NFQA_MARK) mark = v.getUint32(a + 4, false);
        else if (atype === NFQA_PAYLOAD) payload = buf.subarray(a + 4, a + alen);
        a += align4(alen);
      }
      if (id >= 0 && payload) packets.push({ id, payload, mark });
    }
    o += align4(len);
  }
  return { packets, errors };
}

// ---------------------------------------------------------------- the socket

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

export class NfQueueError extends Error {
  readonly errno: number;
  constructor(message: string, errno: number) {
    super(message);
    this.name = 'NfQueueError';
    this.errno = errno;
  }
}

/** Open and bind queue `queueNum`; packets arrive in batches on onPackets. */
export async function openNfQueue(opts: NfQueueOptions): Promise<NfQueue> {
  const c = lib();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    const e = lastErrno();
    throw new NfQueueError(e === 1 || e === 13 ? 'netlink socket: permission denied (needs CAP_NET_ADMIN)' : `netlink socket: errno ${e}`, e);
  }
  const sa = new Uint8Array(12);
  new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
  if (c.bind(fd, sa, sa.length) < 0) {
    const e = lastErrno();
    c.close(fd);
    throw new NfQueueError(`netlink bind: errno ${e}`, e);
  }
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(8 << 20), 4);
  c.setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, int32(1), 4);
  // struct timeval { 0 s, 200 000 us }: the worker's recv returns EAGAIN at least that often.
  const tv = new Uint8Array(16);
  new DataView(tv.buffer).setBigInt64(8, 200_000n, true);
  c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);

  // Configure synchronously (acks read here, before the worker starts reading).
  let seq = 1;
  const q = opts.queueNum;
  const ackBuf = new Uint8Array(4096);
  const request = (msg: Uint8Array, what: string): void => {
    if (Number(c.send(fd, msg, msg.length, 0)) < 0) throw new NfQueueError(`${what}: send errno ${lastErrno()}`, lastErrno());
    for (let i = 0; i < 10; i++) {
      const n = Number(c.recv(fd, ackBuf, ackBuf.length, 0));
      if (n < 0) throw new NfQueueError(`${what}: no answer (errno ${lastErrno()})`, lastErrno());
      const { errors } = parseDatagram(ackBuf.subarray(0, n));
      if (errors.length > 0) {
        const e = errors[0];
        throw new NfQueueError(e === 1 ? `${what}: EPERM (another process holds queue ${q}, or CAP_NET_ADMIN is missing)` : `${what}: errno ${e}`, e);
      }
      // An ack (error 0) ends the exchange.
      if (new DataView(ackBuf.buffer).getUint16(4, true) === NLMSG_ERROR) return;
    }
  };
  try {
    request(configCommand(seq++, q, NFQNL_CFG_CMD_BIND), `NFQUEUE ${q} bind`);
    request(configParams(seq++, q, opts.copyRange ?? 128, opts.maxLen ?? 4096, opts.failOpen === false ? 0 : NFQA_CFG_F_FAIL_OPEN), `NFQUEUE ${q} config`);
  } catch (e) {
    c.close(fd);
    throw e;
  }

  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./nfqueue-worker.ts', import.meta.url), { workerData: { fd, stop } });
  worker.unref();
  // A worker that fails (it cannot load koffi, recv keeps failing) must not take the daemon down:
  // the kernel then treats the queue as unanswered (fail-open / bypass) and the plane's failure rule applies.
  let failure: ((message: string) => void) | null = null;
  worker.on('error', (e) => failure?.(`NFQUEUE receive thread failed: ${e.message}`));
  let handler: (batch: readonly QueuedPacket[]) => void = () => {};
  worker.on('message', (m: Uint8Array | { error: string }) => {
    if (m instanceof Uint8Array) {
      const { packets } = parseDatagram(m);
      if (packets.length > 0) handler(packets);
    } else {
      failure?.(`NFQUEUE ${q}: ${m.error}`);
    }
  });
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  let closed = false;
  const exited = new Promise<void>((r) => worker.once('exit', () => r()));
  const queue: NfQueue = {
    onPackets(h) { handler = h; },
    onFailure(h) { failure = h; },
    verdict(id, verdict, mark) {
      const m = verdictMessage(seq++, q, id, verdict, mark);
      pending.push(m);
      pendingLen += m.length;
      if (pendingLen > 60_000) queue.flush();
    },
    flush() {
      if (pending.length === 0 || closed) return;
      const out = new Uint8Array(pendingLen);
      let o = 0;
      for (const m of pending) { out.set(m, o); o += m.length; }
      pending = [];
      pendingLen = 0;
      c.send(fd, out, out.length, 0);
    },
    async close() {
      if (closed) return;
      queue.flush();
      closed = true;
      Atomics.store(new Int32Array(stop), 0, 1);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      const un = configCommand(seq++, q, NFQNL_CFG_CMD_UNBIND);
      c.send(fd, un, un.length, 0);
      c.close(fd);
    },
  };
  return queue;
}
