// A stand-alone proxy-plane instance for load tests: the candidate contract of
// /work/shared/bench/l4-anchors.sh (LB_LISTEN_HOST, LB_LISTEN_PORT, LB_BACKENDS=host:port,…), with
// the real Director (rr, NAT dests, weight 1) behind the plane. Runs in the foreground; SIGTERM or
// SIGINT stops it gracefully (1 s).
//   LB_LISTEN_PORT=18080 LB_BACKENDS=127.0.0.1:18081,127.0.0.1:18082 node bench/l4/proxy-plane.ts
// Knobs: LB_SCHED (rr), LB_BUFSIZE (plane bufferSize), LB_INITIAL_BUFSIZE (initialBufferSize), LB_ENGINE (uring|handles|sockets), LB_STATS=1 (print
// plane/table stats on exit).
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import type { SchedulerName } from '../../src/core/sched/scheduler.ts';
import { ProxyPlane, type TcpEngineName } from '../../src/dataplane/proxy/plane.ts';

const host = process.env.LB_LISTEN_HOST ?? '127.0.0.1';
const port = Number(process.env.LB_LISTEN_PORT ?? 18080);
const backends = (process.env.LB_BACKENDS ?? '127.0.0.1:18081,127.0.0.1:18082').split(',').filter(Boolean);
const scheduler = (process.env.LB_SCHED ?? 'rr') as SchedulerName;

const director = new Director({ seed: 1 });
const key = { kind: 'addr', protocol: 'tcp', vip: addr(host), port } as const;
const s = director.addService(key, { scheduler, flags: 0, timeout: 360, netmask: 0xffffffff, pe: null });
if (!s.ok) throw new Error(s.error.message);
for (const b of backends) {
  const i = b.lastIndexOf(':');
  const r = director.addDest(key, { addr: addr(b.slice(0, i)), port: Number(b.slice(i + 1)), fwd: 'masq', weight: 1, uThreshold: 0, lThreshold: 0 });
  if (!r.ok) throw new Error(r.error.message);
}
const plane = new ProxyPlane({
  ...(process.env.LB_BUFSIZE ? { bufferSize: Number(process.env.LB_BUFSIZE) } : {}),
  ...(process.env.LB_INITIAL_BUFSIZE ? { initialBufferSize: Number(process.env.LB_INITIAL_BUFSIZE) } : {}),
  ...(process.env.LB_ENGINE ? { tcpEngine: process.env.LB_ENGINE as TcpEngineName } : {}),
});
await plane.sync(director);
process.stdout.write(`proxy plane (${plane.tcpEngine} engine${plane.engineFallback ? `; ${plane.engineFallback}` : ''}) on ${host}:${port} -> ${backends.join(' ')}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await plane.stop(1000);
  if (process.env.LB_STATS) {
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ plane: plane.stats(), conns: director.conns.size, rssMiB: Math.round(m.rss / 1048576), heapMiB: Math.round(m.heapUsed / 1048576) })}\n`);
  }
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
