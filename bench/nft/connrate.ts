// New TCP connections per second and connect latency, run inside the client namespace:
//   node connrate.ts HOST PORT DURATION_MS CONCURRENCY [SRC,SRC,…]
// Keeps CONCURRENCY connects in flight; each connection is closed as soon as it is established
// (the server side closes too). Prints {"conns":n,"errors":n,"rate":per_s,"p50Ms":…,"p99Ms":…}.
import * as net from 'node:net';

const [host, portText, durText, concText, srcText] = process.argv.slice(2);
const port = Number(portText);
const duration = Number(durText);
const conc = Number(concText);
const srcs = srcText ? srcText.split(',') : [undefined];
const lat: number[] = [];
let errors = 0;
let n = 0;
const start = performance.now();
const end = start + duration;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host, port, localAddress: srcs[n++ % srcs.length] });
    s.setTimeout(3000);
    s.once('connect', () => { lat.push(performance.now() - t0); s.destroy(); resolve(); });
    s.once('timeout', () => { errors++; s.destroy(); resolve(); });
    s.once('error', () => { errors++; resolve(); });
  });
}

async function worker(): Promise<void> {
  while (performance.now() < end) await one();
}

await Promise.all(Array.from({ length: conc }, worker));
const took = (performance.now() - start) / 1000;
lat.sort((a, b) => a - b);
const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
process.stdout.write(JSON.stringify({ conns: lat.length, errors, rate: Math.round(lat.length / took), p50Ms: Number(q(0.5).toFixed(3)), p99Ms: Number(q(0.99).toFixed(3)) }));
