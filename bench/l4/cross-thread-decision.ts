// cross-thread-decision.ts — what it costs a proxy worker thread to ask the director's thread for
// one scheduling decision, the price of "several workers, one director state" (BENCHMARKS.md, L4).
//   node bench/l4/cross-thread-decision.ts [--count 20000] [--warmup 2000]
// Three ways, one decision at a time (a new connection waits for its real server):
//   inline       the decision in the same thread (a plain call: the baseline)
//   messageport  worker -> owner and back over a MessageChannel (postMessage, 'message' events)
//   atomics      a SharedArrayBuffer slot: the worker writes the flow, Atomics.notify()s and blocks in
//                Atomics.wait(); the owner wakes from Atomics.waitAsync() in its event loop, decides,
//                writes the answer and Atomics.notify()s the worker
// For each: process CPU (all threads, process.cpuUsage), the owner thread's share of it
// (process.threadCpuUsage: what one director thread would spend per decision for all workers) and
// wall time per decision. The decision
// itself is a round robin over two dests, so what is measured is the crossing. Bounded: --count
// decisions per way, and the process exits after 120 s whatever happens.
import { Worker, MessageChannel, isMainThread, parentPort, workerData } from 'node:worker_threads';

interface Job { mode: 'messageport' | 'atomics'; count: number; sab: SharedArrayBuffer; port?: import('node:worker_threads').MessagePort }

// ctl[0]: request sequence (worker), ctl[1]: answer sequence (owner), ctl[2..3]: flow, ctl[4]: dest.
const REQ = 0;
const ANS = 1;
const CADDR = 2;
const CPORT = 3;
const DEST = 4;

if (!isMainThread) {
  const job = workerData as Job;
  const ctl = new Int32Array(job.sab);
  if (job.mode === 'atomics') {
    let sum = 0;
    for (let seq = 1; seq <= job.count; seq++) {
      ctl[CADDR] = 0x7f000001;
      ctl[CPORT] = 32768 + (seq & 0x7fff);
      Atomics.store(ctl, REQ, seq);
      Atomics.notify(ctl, REQ);
      while (Atomics.load(ctl, ANS) !== seq) Atomics.wait(ctl, ANS, seq - 1, 1000);
      sum += ctl[DEST];
    }
    parentPort!.postMessage(sum);
  } else {
    const port = job.port!;
    let seq = 0;
    let sum = 0;
    const ask = () => {
      seq++;
      port.postMessage([0x7f000001, 32768 + (seq & 0x7fff)]);
    };
    port.on('message', (dest: number) => {
      sum += dest;
      if (seq < job.count) ask();
      else {
        parentPort!.postMessage(sum);
        port.close();
      }
    });
    ask();
  }
} else {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const count = arg('count', 20000);
  const warmup = arg('warmup', 2000);
  setTimeout(() => { process.stderr.write('cross-thread-decision: gave up after 120 s\n'); process.exit(1); }, 120_000).unref();
  let rr = 0;
  const decide = (caddr: number, cport: number): number => {
    rr = (rr + 1) & 1;
    return (caddr ^ cport ^ rr) & 1;
  };

  const measure = async (mode: 'inline' | 'messageport' | 'atomics', n: number) => {
    const c0 = process.cpuUsage();
    const o0 = process.threadCpuUsage();
    const t0 = process.hrtime.bigint();
    if (mode === 'inline') {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += decide(0x7f000001, 32768 + (i & 0x7fff));
      if (sum < 0) throw new Error('unreachable');
    } else {
      const sab = new SharedArrayBuffer(64);
      const ctl = new Int32Array(sab);
      let w: Worker;
      let stopOwner = false;
      if (mode === 'messageport') {
        const { port1, port2 } = new MessageChannel();
        port1.on('message', (m: [number, number]) => port1.postMessage(decide(m[0], m[1])));
        w = new Worker(new URL(import.meta.url), { workerData: { mode, count: n, sab, port: port2 }, transferList: [port2] });
        await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        port1.close();
      } else {
        w = new Worker(new URL(import.meta.url), { workerData: { mode, count: n, sab } });
        const done = new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        // The owner: wake on a new request sequence, answer, wait again; the event loop stays free between.
        let seen = 0;
        const serve = async () => {
          while (!stopOwner) {
            const r = Atomics.waitAsync(ctl, REQ, seen, 1000);
            if (r.async) await r.value;
            const seq = Atomics.load(ctl, REQ);
            if (seq === seen) continue;
            seen = seq;
            ctl[DEST] = decide(ctl[CADDR], ctl[CPORT]);
            Atomics.store(ctl, ANS, seq);
            Atomics.notify(ctl, ANS);
          }
        };
        const owner = serve();
        await done;
        stopOwner = true;
        Atomics.store(ctl, REQ, -1);
        Atomics.notify(ctl, REQ);
        await owner;
      }
      await w.terminate();
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const own = process.threadCpuUsage(o0);
    return { cpuUs: (cpu.user + cpu.system) / n, ownerUs: (own.user + own.system) / n, wallUs: wall / n };
  };

  // The worker's start-up is in every crossing figure; measure it alone and take it out.
  const startup = async () => {
    const c0 = process.cpuUsage();
    const o0 = process.threadCpuUsage();
    const t0 = process.hrtime.bigint();
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(0)', { eval: true });
    await new Promise((resolve) => w.once('message', resolve));
    await w.terminate();
    const cpu = process.cpuUsage(c0);
    const own = process.threadCpuUsage(o0);
    return { cpuUs: cpu.user + cpu.system, ownerUs: own.user + own.system, wallUs: Number(process.hrtime.bigint() - t0) / 1000 };
  };

  process.stdout.write(`node ${process.version}; ${count} decisions per way, one at a time, after ${warmup} warm-up\n`);
  process.stdout.write('way           CPU µs/decision  owner thread µs  wall µs/decision\n');
  const base = await startup();
  for (const mode of ['inline', 'messageport', 'atomics'] as const) {
    if (mode !== 'inline') await measure(mode, warmup);
    const r = await measure(mode, count);
    const cpu = mode === 'inline' ? r.cpuUs : Math.max(0, r.cpuUs - base.cpuUs / count);
    const wall = mode === 'inline' ? r.wallUs : Math.max(0, r.wallUs - base.wallUs / count);
    const owner = mode === 'inline' ? r.ownerUs : Math.max(0, r.ownerUs - base.ownerUs / count);
    process.stdout.write(`${mode.padEnd(13)} ${cpu.toFixed(2).padStart(15)}  ${owner.toFixed(2).padStart(15)}  ${wall.toFixed(2).padStart(16)}\n`);
  }
  process.exit(0);
}
