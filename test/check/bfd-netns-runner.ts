// Runs one keepvs BFD process with real sockets (src/sys/bfd-socket.ts) for the network-namespace
// test (bfd-netns.test.ts): argv[2] is a JSON list of bfd_instance settings; it prints one JSON line
// per notified change and, on SIGTERM or after argv[3] ms, its sessions and counters, then exits.
import { BfdProcess } from '../../src/check/bfd/process.ts';
import { bfdInstanceConfigs } from '../../src/check/bfd/config.ts';
import { systemBfdNet } from '../../src/sys/bfd-socket.ts';

const specs = JSON.parse(process.argv[2]) as Array<{ name: string; settings: Record<string, string[]> }>;
const lifetimeMs = Number(process.argv[3] ?? 60_000);
const { instances, problems } = bfdInstanceConfigs(specs.map((s) => ({ name: s.name, settings: new Map(Object.entries(s.settings)), at: { file: 'argv', line: 1, col: 1 } })));
if (problems.length) console.log(JSON.stringify({ problems }));
const t0 = performance.now();
const p = new BfdProcess({ instances, net: systemBfdNet, log: (level, m) => console.log(JSON.stringify({ log: m, level, ms: Math.round(performance.now() - t0) })) });
p.subscribe((name, up) => console.log(JSON.stringify({ event: name, up, wall: Date.now(), ms: Math.round(performance.now() - t0), snapshot: p.snapshot() })));
const finish = async () => {
  console.log(JSON.stringify({ final: true, snapshot: p.snapshot(), stats: p.stats() }));
  await p.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void finish());
const keep = setTimeout(() => void finish(), lifetimeMs);
await p.start();
console.log(JSON.stringify({ started: true, snapshot: p.snapshot() }));
void keep;
