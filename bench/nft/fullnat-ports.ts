// FULLNAT's new-connection ceiling: the SNAT tuple space toward one real server. Every FULLNAT
// connection holds a conntrack entry whose reply tuple is RIP:port -> DIP:sport; after the close it
// stays in TIME_WAIT for nf_conntrack_tcp_timeout_time_wait (120 s), and the source port it holds
// cannot be given to a new connection toward the same RIP:port. One DIP therefore gives at most
// 64 512 ports (1024-65535, nf_nat_core.c) per RIP:port per 120 s, and as the space fills the
// kernel's search (a random start, then 128, 64, 32, 16 tries) costs more per new connection.
// This measures, in the namespace lab: NAT (no SNAT) next to FULLNAT with masquerade (one DIP),
// SNAT to one DIP, SNAT to a pool of four DIPs, masquerade fully-random, and — to show the ceiling
// itself — SNAT narrowed to 1 000 ports on one DIP and on four. Each case runs fresh (conntrack
// flushed) and again straight after (the table still holds the first run's TIME_WAIT entries), in
// two rounds, with conntrack's statistics (insert_failed, drop, clash_resolve, search_restart) and
// the table size. The narrowed and fully-random cases replace keepvs's nat_post rule by hand (nft)
// after the service is loaded: they are measurements, not options.
// Writes bench/results/nft-fullnat-ports.md. Needs root, wrk, nginx, nft, iptables-nft, conntrack.
//   flock /tmp/keepvs-bench.lock node bench/nft/fullnat-ports.ts [--quick]
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LAB, inNs, labUnavailable, labUp, type Lab } from '../../src/sys/netns.ts';
import { NODE, startNftDaemon } from '../../test/dataplane/nft-harness.ts';
import { startNginx, wrkClose } from './wrk-lab.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 3 : 6;
const CONNS = 64;
const PORT = 8080;
const VIP = LAB.vip;
const POOL = ['198.18.1.1', '198.18.1.2', '198.18.1.3', '198.18.1.4'];

interface Run { readonly connPerSec: number; readonly requests: number; readonly errors: number; readonly stats: Record<string, number>; readonly entries: number; readonly timeWait: number }
interface Case { readonly name: string; readonly runs: Run[] }

const STAT_KEYS = ['insert_failed', 'drop', 'early_drop', 'clash_resolve', 'search_restart', 'invalid'] as const;

/** conntrack -S summed over CPUs. */
async function ctStats(lab: Lab): Promise<Record<string, number>> {
  const r = await inNs(lab.ns.director, ['conntrack', '-S']);
  const out: Record<string, number> = {};
  for (const k of STAT_KEYS) {
    out[k] = [...r.stdout.matchAll(new RegExp(`\\b${k}=(\\d+)`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
  }
  return out;
}

async function run(lab: Lab): Promise<Run> {
  const s0 = await ctStats(lab);
  const w = await wrkClose(lab, `http://${VIP}:${PORT}/`, CONNS, SECONDS);
  const s1 = await ctStats(lab);
  const list = (await inNs(lab.ns.director, ['conntrack', '-L', '-p', 'tcp'], { timeoutMs: 60_000 })).stdout.split('\n');
  const stats: Record<string, number> = {};
  for (const k of STAT_KEYS) stats[k] = s1[k] - s0[k];
  return { connPerSec: w.rps, requests: w.requests, errors: w.errors, stats, entries: list.filter((l) => l.startsWith('tcp')).length, timeWait: list.filter((l) => l.includes('TIME_WAIT')).length };
}

async function main(): Promise<void> {
  const why = await labUnavailable(['ip', 'nft', 'iptables-nft', 'conntrack', 'wrk', 'nginx']);
  if (why) {
    process.stderr.write(`bench/nft/fullnat-ports: skipped: ${why}\n`);
    process.exit(0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kpif-'));
  const lab = await labUp({ prefix: `kpif${process.pid % 1000}`, rsCount: 2, node: NODE });
  const children: ChildProcess[] = [];
  const cases: Case[] = [];
  try {
    await inNs(lab.ns.director, ['sysctl', '-qw', 'net.netfilter.nf_conntrack_max=1048576']);
    for (const a of POOL.slice(1)) await inNs(lab.ns.director, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth1']);
    children.push(...await startNginx(lab, dir, PORT));
    const variants: { name: string; fwd: string; gw: 'dip' | 'router'; args: string[]; rule?: string }[] = [
      { name: 'NAT (no SNAT)', fwd: '-m', gw: 'dip', args: [] },
      { name: 'FULLNAT, masquerade (1 DIP; the default)', fwd: '--fullnat', gw: 'router', args: [] },
      { name: 'FULLNAT, SNAT to 1 DIP', fwd: '--fullnat', gw: 'router', args: ['--nft-fullnat-source=198.18.1.1'] },
      { name: 'FULLNAT, SNAT to a pool of 4 DIPs', fwd: '--fullnat', gw: 'router', args: [`--nft-fullnat-source=${POOL[0]}-${POOL[3]}`] },
      { name: 'FULLNAT, masquerade fully-random (by hand)', fwd: '--fullnat', gw: 'router', args: [], rule: 'ct mark @fullnat masquerade fully-random' },
      { name: 'FULLNAT, 1 DIP, ports 20000-20999 (by hand)', fwd: '--fullnat', gw: 'router', args: [], rule: 'meta l4proto tcp ct mark @fullnat snat ip to 198.18.1.1:20000-20999' },
      { name: 'FULLNAT, 4 DIPs, ports 20000-20999 (by hand)', fwd: '--fullnat', gw: 'router', args: [], rule: `meta l4proto tcp ct mark @fullnat snat ip to ${POOL[0]}-${POOL[3]}:20000-20999` },
    ];
    const byName = new Map<string, Run[]>();
    for (let round = 0; round < (QUICK ? 1 : 2); round++) for (const v of variants) {
      await lab.rsGateway(v.gw);
      const k = await startNftDaemon(lab, {}, v.args);
      try {
        await k.adm('-A', '-t', `${VIP}:${PORT}`, '-s', 'rr');
        for (const rip of LAB.rs.slice(0, 2)) await k.adm('-a', '-t', `${VIP}:${PORT}`, '-r', `${rip}:${PORT}`, v.fwd);
        if (v.rule) {
          const r = await inNs(lab.ns.director, ['nft', '-f', '-'], { input: `flush chain ip keepvs nat_post\nadd rule ip keepvs nat_post ${v.rule}\n` });
          if (r.code !== 0) throw new Error(`nft: ${r.stderr}`);
        }
        await inNs(lab.ns.director, ['conntrack', '-F']);
        const fresh = await run(lab);
        const again = await run(lab);
        process.stderr.write(`${v.name}: ${JSON.stringify({ fresh, again })}\n`);
        byName.set(v.name, [...byName.get(v.name) ?? [], fresh, again]);
      } finally {
        await k.stop();
        await lab.rsGateway('dip');
      }
    }
    for (const [name, runs] of byName) cases.push({ name, runs });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await lab.down();
    rmSync(dir, { recursive: true, force: true });
  }
  report(cases);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(cases: readonly Case[]): void {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
  const sum = (rs: readonly Run[], k: string) => rs.reduce((a, r) => a + (r.stats[k] ?? 0), 0);
  const st = (rs: readonly Run[]) => `${sum(rs, 'insert_failed')} / ${sum(rs, 'drop')} / ${sum(rs, 'clash_resolve')} / ${sum(rs, 'search_restart')}`;
  const rate = (rs: readonly Run[]) => { const x = rs.map((r) => r.connPerSec); return `${f(median(x))} (${f(Math.min(...x))}–${f(Math.max(...x))})`; };
  const lines = [
    '# FULLNAT source ports (bench/nft/fullnat-ports.ts)',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} vCPU, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}. wrk -t1 -c${CONNS} -d${SECONDS}s`,
    "-H 'Connection: close' to an rr service over 2 nginx real servers. Each case: \"fresh\" (conntrack flushed first) and \"again\"",
    "(straight after, the first run's TIME_WAIT entries still in the table), in each round; conn/s is the median (min–max) of those runs.",
    'conntrack -S deltas summed over the runs: insert_failed / drop / clash_resolve / search_restart. Entries: the table after each "again" run.',
    '',
    '| case | conn/s, fresh | conn/s, again | wrk socket errors | ct stats | tcp entries (TIME_WAIT) |',
    '|---|---|---|---|---|---|',
    ...cases.map((c) => {
      const fresh = c.runs.filter((_, i) => i % 2 === 0);
      const again = c.runs.filter((_, i) => i % 2 === 1);
      return `| ${c.name} | ${rate(fresh)} | ${rate(again)} | ${c.runs.reduce((a, r) => a + r.errors, 0)} | ${st(c.runs)} | ${again.map((r) => `${r.entries} (${r.timeWait})`).join(', ')} |`;
    }),
    '',
  ];
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'nft-fullnat-ports.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
