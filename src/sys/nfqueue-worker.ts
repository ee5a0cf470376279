// The NFQUEUE receive loop, in a worker thread: a blocking recv(2) through koffi (a blocking call
// in the main thread would stall the event loop; in libuv's pool it would keep Node from exiting —
// kernel-dataplane.md §5). Each datagram (one or more netlink messages) is copied and posted to the
// main thread, which parses it and answers. SO_RCVTIMEO (set by the main thread) bounds each recv so
// the loop sees the stop flag within 200 ms.
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';

const { fd, stop } = workerData as { fd: number; stop: SharedArrayBuffer };
const flag = new Int32Array(stop);
const libc = koffi.load('libc.so.6');
const recv = libc.func('long recv(int, _Out_ uint8_t *buf, size_t len, int flags)');
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const buf = Buffer.alloc(1 << 17);
let errors = 0;
while (Atomics.load(flag, 0) === 0) {
  const n = Number(recv(fd, buf, buf.length, 0));
  if (n > 0) {
    const copy = new Uint8Array(n);
    copy.set(buf.subarray(0, n));
    parentPort!.postMessage(copy, [copy.buffer]);
    continue;
  }
  const e = koffi.errno();
  if (n < 0 && (e === EAGAIN || e === EINTR || e === ENOBUFS)) continue;
  if (++errors > 100) {
    parentPort!.postMessage({ error: `recv failed: errno ${e}` });
    break;
  }
}
