// The reader thread behind raw-socket.ts: poll() over the registered descriptors and a wake pipe, then
// recvmsg() each readable one until EAGAIN (at most 64 datagrams per descriptor per round), and post
// the datagrams to the main thread in one batch. Commands (add/remove a descriptor) arrive on a
// MessagePort read synchronously after a wake-up. When the main thread has more than `maxPending`
// datagrams unprocessed, the thread stops reading and lets the kernel queue (and, if full, drop) them.
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import koffi from 'koffi';

const { port, wakeFd, shared, maxPending } = workerData as { port: MessagePort; wakeFd: number; shared: SharedArrayBuffer; maxPending: number };
const pending = new Int32Array(shared);

const lib = koffi.load('libc.so.6');
const poll = lib.func('int poll(void *, uint64_t, int)');
const recvmsg = lib.func('long recvmsg(int, void *, int)');
const read = lib.func('long read(int, void *, size_t)');
const malloc = lib.func('void *malloc(size_t)');

const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const POLLIN = 0x1;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IP_PKTINFO = 8;
const IPPROTO_IPV6 = 41;
const IPV6_PKTINFO = 50;
const IPV6_HOPLIMIT = 52;
const EINTR = 4;
const BATCH = 64;
const DATA_LEN = 65536;
const NAME_LEN = 128;
const CTRL_LEN = 256;

type Kind = 'inet4' | 'inet6' | 'netlink' | 'packet';

/** One native receive area per descriptor: msghdr | iovec | name | control | data. */
interface Slot {
  readonly fd: number;
  readonly kind: Kind;
  readonly base: bigint;
  readonly view: DataView;
  readonly bytes: Uint8Array;
}

const OFF_MSG = 0;
const OFF_IOV = 64;
const OFF_NAME = 80;
const OFF_CTRL = OFF_NAME + NAME_LEN;
const OFF_DATA = OFF_CTRL + CTRL_LEN;
const SLOT_LEN = OFF_DATA + DATA_LEN;

function makeSlot(fd: number, kind: Kind): Slot {
  const base = malloc(SLOT_LEN) as bigint;
  const ab = koffi.view(base, SLOT_LEN) as ArrayBuffer;
  const view = new DataView(ab);
  // struct iovec { void *base; size_t len; }
  view.setBigUint64(OFF_IOV, base + BigInt(OFF_DATA), true);
  view.setBigUint64(OFF_IOV + 8, BigInt(DATA_LEN), true);
  return { fd, kind, base, view, bytes: new Uint8Array(ab) };
}

function resetMsg(s: Slot): void {
  // struct msghdr { void *name; u32 namelen; (pad) iovec *iov; size_t iovlen; void *control; size_t controllen; int flags; }
  const v = s.view;
  v.setBigUint64(OFF_MSG + 0, s.base + BigInt(OFF_NAME), true);
  v.setUint32(OFF_MSG + 8, NAME_LEN, true);
  v.setBigUint64(OFF_MSG + 16, s.base + BigInt(OFF_IOV), true);
  v.setBigUint64(OFF_MSG + 24, 1n, true);
  v.setBigUint64(OFF_MSG + 32, s.base + BigInt(OFF_CTRL), true);
  v.setBigUint64(OFF_MSG + 40, BigInt(CTRL_LEN), true);
  v.setInt32(OFF_MSG + 48, 0, true);
}

const slots = new Map<number, Slot>();
const wakeBuf = Buffer.alloc(64);

interface Item { fd: number; data: ArrayBuffer; src: ArrayBuffer | null; dst: ArrayBuffer | null; hop: number | null; trunc: boolean }

function readOne(s: Slot): Item | null {
  resetMsg(s);
  const n = Number(recvmsg(s.fd, s.base + BigInt(OFF_MSG), MSG_DONTWAIT | MSG_TRUNC));
  if (n < 0) return null;
  const v = s.view;
  const flags = v.getInt32(OFF_MSG + 48, true);
  const len = Math.min(n, DATA_LEN);
  const data = s.bytes.slice(OFF_DATA, OFF_DATA + len).buffer;
  let src: ArrayBuffer | null = null;
  const family = v.getUint16(OFF_NAME, true);
  if (family === 2) src = s.bytes.slice(OFF_NAME + 4, OFF_NAME + 8).buffer;
  else if (family === 10) src = s.bytes.slice(OFF_NAME + 8, OFF_NAME + 24).buffer;
  let dst: ArrayBuffer | null = null;
  let hop: number | null = null;
  // Control messages: IPv6 (PKTINFO, HOPLIMIT), and IPv4 UDP sockets with IP_RECVTTL / IP_PKTINFO
  // (bfd-socket.ts; raw IPv4 sockets enable neither and read the header instead).
  if (s.kind === 'inet6' || s.kind === 'inet4') {
    const clen = Number(v.getBigUint64(OFF_MSG + 40, true));
    for (let o = 0; o + 16 <= clen;) {
      const cl = Number(v.getBigUint64(OFF_CTRL + o, true));
      const level = v.getInt32(OFF_CTRL + o + 8, true);
      const type = v.getInt32(OFF_CTRL + o + 12, true);
      if (cl < 16) break;
      if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && cl >= 16 + 20) dst = s.bytes.slice(OFF_CTRL + o + 16, OFF_CTRL + o + 32).buffer;
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && cl >= 16 + 4) hop = v.getInt32(OFF_CTRL + o + 16, true);
      if (level === IPPROTO_IP && type === IP_TTL && cl >= 16 + 4) hop = v.getInt32(OFF_CTRL + o + 16, true);
      // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }: the header's destination.
      if (level === IPPROTO_IP && type === IP_PKTINFO && cl >= 16 + 12) dst = s.bytes.slice(OFF_CTRL + o + 24, OFF_CTRL + o + 28).buffer;
      o += (cl + 7) & ~7;
    }
  }
  return { fd: s.fd, data, src, dst, hop, trunc: (flags & MSG_TRUNC) !== 0 || n > DATA_LEN };
}

function commands(): boolean {
  for (;;) {
    const m = receiveMessageOnPort(port);
    if (!m) return true;
    const c = m.message as { type: 'add' | 'remove' | 'stop'; fd: number; kind: Kind };
    if (c.type === 'add') slots.set(c.fd, makeSlot(c.fd, c.kind));
    else if (c.type === 'remove') {
      slots.delete(c.fd);
      // The native slot is kept (a few dozen KiB per closed socket, once): freeing it safely would need
      // care about a recvmsg in flight, and sockets are opened once per instance.
      port.postMessage({ type: 'removed', fd: c.fd });
    } else if (c.type === 'stop') return false;
  }
}

const pfdBase = malloc(8 * 1024) as bigint;
const pfdView = new DataView(koffi.view(pfdBase, 8 * 1024) as ArrayBuffer);

function loop(): void {
  for (;;) {
    if (!commands()) return;
    // Back-pressure: wait while the main thread is behind.
    while (Atomics.load(pending, 0) > maxPending) Atomics.wait(pending, 0, Atomics.load(pending, 0), 100);
    const list = [...slots.values()].slice(0, 1023);
    pfdView.setInt32(0, wakeFd, true);
    pfdView.setInt16(4, POLLIN, true);
    pfdView.setInt16(6, 0, true);
    list.forEach((s, i) => {
      pfdView.setInt32(8 * (i + 1), s.fd, true);
      pfdView.setInt16(8 * (i + 1) + 4, POLLIN, true);
      pfdView.setInt16(8 * (i + 1) + 6, 0, true);
    });
    // A bounded wait, so that a terminating process (process.exit, worker.terminate) never waits on a
    // poll() that nothing will wake.
    const r = Number(poll(pfdBase, list.length + 1, 250));
    if (r < 0) {
      if (koffi.errno() === EINTR) continue;
      return;
    }
    if (pfdView.getInt16(6, true) !== 0) while (Number(read(wakeFd, wakeBuf, wakeBuf.length)) > 0) { /* drain */ }
    const items: Item[] = [];
    list.forEach((s, i) => {
      if (!slots.has(s.fd)) return;
      const rev = pfdView.getInt16(8 * (i + 1) + 6, true);
      if (rev === 0) return;
      for (let k = 0; k < BATCH; k++) {
        const it = readOne(s);
        if (!it) break;
        items.push(it);
      }
    });
    if (items.length) {
      Atomics.add(pending, 0, items.length);
      port.postMessage({ type: 'batch', items }, items.flatMap((it) => [it.data, ...(it.src ? [it.src] : []), ...(it.dst ? [it.dst] : [])]));
    }
  }
}

loop();
port.close();
