// VRRP failover time, keepvs and keepalived 2.2.7 in the same run, on the netns lab of
// test/vrrp/netns-lab.ts (two routers on a bridge; router a = MASTER priority 150, b = BACKUP 100).
//
//   node bench/failover/run.ts [--runs N] [--out bench/failover/results.md]
//
// For each pair (old master -> new master), event (SIGTERM, SIGKILL, link down) and mode (VRRPv2
// advert_int 1, VRRPv3 advert_int 0.1), a tcpdump in b's namespace timestamps the adverts; reported:
//   takeover = first advert from b - the moment of the event (what clients feel, before GARPs land);
//   protocol = first advert from b - last advert from a (compare with Skew_Time / Master_Down_Interval).
// Expected: SIGTERM = Skew_Time of b (0.609 s at 1 s, 0.061 s at 0.1 s); SIGKILL and link down =
// Master_Down_Interval of b after a's last advert (3.609 s / 0.361 s). Needs root, tcpdump, keepalived.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { VrrpLab, keepvsConf, labUnavailable, type Router, type Side } from '../../test/vrrp/netns-lab.ts';

type Kind = 'keepvs' | 'keepalived';
type Event = 'SIGTERM' | 'SIGKILL' | 'link-down';
interface Mode { name: string; version: 2 | 3; advertInt: number }

const MODES: Mode[] = [
  { name: 'v2 1 s', version: 2, advertInt: 1 },
  { name: 'v3 0.1 s', version: 3, advertInt: 0.1 },
];
const PAIRS: [Kind, Kind][] = [['keepvs', 'keepalived'], ['keepalived', 'keepvs'], ['keepalived', 'keepalived'], ['keepvs', 'keepvs']];
const EVENTS: Event[] = ['SIGTERM', 'SIGKILL', 'link-down'];

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 1) || 1;
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'bench/failover/results.md';

const why = labUnavailable(true) ?? (spawnSync('tcpdump', ['--version']).error ? 'needs tcpdump' : null);
if (why) {
  process.stderr.write(`failover bench skipped: ${why}\n`);
  process.exit(0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(L: VrrpLab, kind: Kind, side: Side, prio: number, m: Mode): Router {
  const state = side === 'a' ? 'MASTER' : 'BACKUP';
  return kind === 'keepvs'
    ? L.startKeepvs(side, keepvsConf(L, { side, state, priority: prio, version: m.version, advertInt: m.advertInt }))
    : L.startKeepalived(side, L.keepalivedConf({ side, state, priority: prio, version: m.version, advertInt: m.advertInt }));
}

interface Result { takeover: number | null; protocol: number | null }

async function once(L: VrrpLab, oldKind: Kind, newKind: Kind, ev: Event, m: Mode): Promise<Result> {
  const a = start(L, oldKind, 'a', 150, m);
  const b = start(L, newKind, 'b', 100, m);
  const td = spawn('ip', ['netns', 'exec', L.ns('b'), 'tcpdump', '-i', 'eth0', '-n', '-tt', '-l', '--immediate-mode', 'ip proto 112'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  td.stdout.on('data', (d) => { text += d; });
  try {
    if (!await L.waitHolder('a', 20_000, m.version === 2 ? 2500 : 500)) throw new Error(`no convergence\n${a.log()}\n${b.log()}`);
    await sleep(m.version === 2 ? 1500 : 300);
    const t0 = Date.now() / 1000;
    if (ev === 'SIGTERM') await a.stop('TERM');
    else if (ev === 'SIGKILL') await a.stop('KILL');
    else spawnSync('ip', ['-n', L.ns('a'), 'link', 'set', 'eth0', 'down']);
    await L.waitFor(() => L.holders().includes('b'), m.version === 2 ? 8000 : 3000);
    await sleep(m.version === 2 ? 1200 : 300);
    const lines = text.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w.length > 3 && w[1] === 'IP');
    const fromB = lines.filter((w) => w[2] === L.addr('b')).map((w) => Number(w[0])).filter((t) => t >= t0);
    const firstB = fromB.length ? fromB[0] : null;
    // a's last advert before b's first: the priority-0 release for SIGTERM, the last regular one otherwise.
    const fromA = lines.filter((w) => w[2] === L.addr('a')).map((w) => Number(w[0])).filter((t) => firstB === null || t < firstB);
    const lastA = fromA.length ? fromA[fromA.length - 1] : null;
    return { takeover: firstB === null ? null : firstB - t0, protocol: firstB === null || lastA === null ? null : firstB - lastA };
  } finally {
    td.kill('SIGTERM');
    await a.stop('KILL');
    await b.stop('KILL');
    spawnSync('ip', ['-n', L.ns('a'), 'link', 'set', 'eth0', 'up']);
    L.clearVip('a');
    L.clearVip('b');
    await sleep(200);
  }
}

const fmt = (xs: (number | null)[]) => {
  const ok = xs.filter((x): x is number => x !== null);
  if (!ok.length) return 'n/a';
  const med = [...ok].sort((p, q) => p - q)[Math.floor(ok.length / 2)];
  return `${med.toFixed(3)} s${ok.length > 1 ? ` (${Math.min(...ok).toFixed(3)}–${Math.max(...ok).toFixed(3)})` : ''}`;
};

const L = VrrpLab.create();
const rows: string[] = [];
try {
  for (const m of MODES) {
    for (const [oldKind, newKind] of PAIRS) {
      for (const ev of EVENTS) {
        const rs: Result[] = [];
        for (let i = 0; i < runs; i++) {
          try {
            rs.push(await once(L, oldKind, newKind, ev, m));
          } catch (e) {
            process.stderr.write(`${m.name} ${oldKind}->${newKind} ${ev}: ${(e as Error).message}\n`);
            rs.push({ takeover: null, protocol: null });
          }
        }
        const row = `| ${m.name} | ${oldKind} → ${newKind} | ${ev} | ${fmt(rs.map((r) => r.takeover))} | ${fmt(rs.map((r) => r.protocol))} |`;
        rows.push(row);
        process.stdout.write(row + '\n');
      }
    }
  }
} finally {
  await L.destroy();
}

const doc = [
  '# VRRP failover (bench/failover/run.ts)',
  '',
  `Run ${new Date().toISOString()}, ${runs} run(s) per row (median, min–max), router a priority 150 fails, router b priority 100 takes over.`,
  'takeover = first advert from b after the event; protocol = first advert from b after a\'s last advert.',
  'Expected protocol times: SIGTERM = Skew_Time(100) = 0.609 s / 0.061 s; SIGKILL and link down = Master_Down_Interval(100) = 3.609 s / 0.361 s.',
  '',
  '| mode | old → new master | event | takeover | protocol |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
writeFileSync(out, doc);
process.stdout.write(`written ${out}\n`);
