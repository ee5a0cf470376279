// render(): the director model -> one nftables ruleset, golden-file tested; transaction(): the
// in-place update apply loads. UPDATE_GOLDEN=1 rewrites test/fixtures/nft/. Where nft(8) and root
// are available, every golden ruleset and transaction is also checked by the kernel (`nft -c`)
// inside a throwaway network namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Director } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import { SVC_F, type ServiceKey } from '../../src/core/service.ts';
import type { FwdMethod } from '../../src/core/dest.ts';
import type { SchedulerName } from '../../src/core/sched/scheduler.ts';
import { buildModel, wrrCycle, queueReason, type ModelOptions } from '../../src/dataplane/nft/model.ts';
import { render, rulesetText, transaction, fullnatSnatTarget, type Ruleset } from '../../src/dataplane/nft/render.ts';
import { BackendIds } from '../../src/dataplane/nft/marks.ts';
import { exec } from '../../src/sys/netns.ts';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'nft');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const OPTS: ModelOptions = { table: 'keepvs', queueNum: 107, queueFailure: 'fallback', fullnatSource: null, drFlowTimeoutS: 900, forceQueue: new Set() };

const tcp = (vip: string, port: number): ServiceKey => ({ kind: 'addr', protocol: 'tcp', vip: addr(vip), port });

interface Svc {
  key: ServiceKey;
  sched: SchedulerName;
  flags?: number;
  timeout?: number;
  netmask?: number;
  exactPath?: boolean;
  dests: { rip: string; port: number; fwd: FwdMethod; weight: number; x?: number }[];
}

function director(svcs: readonly Svc[]): Director {
  const d = new Director({ seed: 1 });
  for (const s of svcs) {
    const r = d.addService(s.key, { scheduler: s.sched, flags: s.flags ?? 0, timeout: s.timeout ?? 360, netmask: s.netmask ?? 0xffffffff, pe: null, ...(s.exactPath ? { exactPath: true } : {}) });
    assert.ok(r.ok);
    for (const x of s.dests) {
      const a = d.addDest(s.key, { addr: addr(x.rip), port: x.port, fwd: x.fwd, weight: x.weight, uThreshold: x.x ?? 0, lThreshold: 0 });
      assert.ok(a.ok, a.ok ? '' : a.error.message);
    }
  }
  return d;
}

const two = (fwd: FwdMethod, port = 80, w: [number, number] = [1, 1]) => [
  { rip: '198.18.1.11', port, fwd, weight: w[0] }, { rip: '198.18.1.12', port, fwd, weight: w[1] },
];

const CASES: { name: string; desc: string; svcs: Svc[]; opts?: Partial<ModelOptions> }[] = [
  { name: 'nat-rr', desc: 'NAT, rr: numgen over the dests in list order', svcs: [{ key: tcp('198.18.0.100', 80), sched: 'rr', dests: two('masq') }] },
  {
    name: 'nat-wrr-quiesced', desc: 'NAT, wrr 3:1 and a quiesced dest: the core\'s wrr cycle, the weight-0 dest only in the DNAT map',
    svcs: [{ key: tcp('198.18.0.100', 80), sched: 'wrr', dests: [...two('masq', 80, [3, 1]), { rip: '198.18.1.13', port: 80, fwd: 'masq', weight: 0 }] }],
  },
  {
    name: 'fullnat-pool-portmap', desc: 'FULLNAT to a DIP pool, port mapping 8080 -> 80',
    svcs: [{ key: tcp('198.18.0.100', 8080), sched: 'rr', dests: two('fullnat') }], opts: { fullnatSource: '198.18.1.1-198.18.1.4' },
  },
  {
    name: 'sh-persistent', desc: 'sh (jhash into the kernel\'s bucket layout) with persistence per /24',
    svcs: [{ key: tcp('198.18.0.100', 443), sched: 'sh', flags: SVC_F.PERSISTENT, timeout: 300, netmask: 0xffffff00, dests: two('masq', 443, [2, 1]) }],
  },
  {
    name: 'fwmark-and-port-zero', desc: 'a firewall-mark service and a persistent port-zero (all ports) service',
    svcs: [
      { key: { kind: 'fwmark', fwmark: 5, family: 4 }, sched: 'rr', dests: two('masq', 0) },
      { key: tcp('198.18.0.101', 0), sched: 'rr', flags: SVC_F.PERSISTENT, timeout: 600, dests: two('masq', 0) },
    ],
  },
  { name: 'dr-rr', desc: 'DR, rr: notrack, flow map, scheduling of the first packet', svcs: [{ key: tcp('198.18.0.100', 80), sched: 'rr', dests: two('route') }] },
  {
    name: 'queue-nat-and-dr', desc: 'queue path: lc over NAT, wlc over DR, fwmark lc; fallback tables for fail-open',
    svcs: [
      { key: tcp('198.18.0.100', 80), sched: 'lc', dests: two('masq') },
      { key: tcp('198.18.0.100', 443), sched: 'wlc', dests: two('route', 443, [2, 1]) },
      { key: { kind: 'fwmark', fwmark: 7, family: 4 }, sched: 'lc', dests: two('fullnat', 80) },
    ],
  },
  {
    name: 'queue-drop-thresholds', desc: 'rr with an upper threshold takes the queue; queue failure = drop',
    svcs: [{ key: tcp('198.18.0.100', 80), sched: 'rr', dests: two('masq').map((x) => ({ ...x, x: 100 })) }], opts: { queueFailure: 'drop' },
  },
  {
    name: 'exact-path-wrr', desc: 'wrr with --exact-path: the queue path although wrr could run in the kernel; a plain wrr next to it stays in the kernel',
    svcs: [
      { key: tcp('198.18.0.100', 80), sched: 'wrr', exactPath: true, dests: two('masq', 80, [3, 1]) },
      { key: tcp('198.18.0.100', 81), sched: 'wrr', dests: two('masq', 81, [3, 1]) },
    ],
  },
  {
    name: 'ipv6-nat-fullnat', desc: 'IPv6 (table ip6): NAT wrr, FULLNAT to a v6 pool with port mapping, sh persistent per /64, lc on the queue path',
    opts: { family: 6, fullnatSource: '2001:2:0:1::1-2001:2:0:1::4' },
    svcs: [
      { key: tcp('2001:2::100', 80), sched: 'wrr', netmask: 128, dests: [{ rip: '2001:2:0:1::11', port: 80, fwd: 'masq', weight: 3 }, { rip: '2001:2:0:1::12', port: 80, fwd: 'masq', weight: 1 }] },
      { key: tcp('2001:2::100', 8080), sched: 'rr', netmask: 128, dests: [{ rip: '2001:2:0:1::11', port: 80, fwd: 'fullnat', weight: 1 }, { rip: '2001:2:0:1::12', port: 80, fwd: 'fullnat', weight: 1 }] },
      { key: tcp('2001:2::100', 443), sched: 'sh', flags: SVC_F.PERSISTENT, timeout: 300, netmask: 64, dests: [{ rip: '2001:2:0:1::11', port: 443, fwd: 'masq', weight: 1 }] },
      { key: { kind: 'addr', protocol: 'udp', vip: addr('2001:2::100'), port: 53 }, sched: 'lc', netmask: 128, dests: [{ rip: '2001:2:0:1::12', port: 53, fwd: 'masq', weight: 1 }] },
    ],
  },
  {
    name: 'ipv6-dr', desc: 'IPv6 DR (table ip6): notrack, flow map keyed by ip6 saddr, rr in the kernel and wlc on the queue path',
    opts: { family: 6 },
    svcs: [
      { key: tcp('2001:2::100', 80), sched: 'rr', netmask: 128, dests: [{ rip: '2001:2:0:1::11', port: 80, fwd: 'route', weight: 1 }, { rip: '2001:2:0:1::12', port: 80, fwd: 'route', weight: 1 }] },
      { key: tcp('2001:2::100', 443), sched: 'wlc', netmask: 128, dests: [{ rip: '2001:2:0:1::11', port: 443, fwd: 'route', weight: 2 }, { rip: '2001:2:0:1::12', port: 443, fwd: 'route', weight: 1 }] },
    ],
  },
  {
    name: 'one-packet-udp', desc: 'one-packet (-o) UDP in the kernel: NAT rewritten per datagram, untracked, replies rewritten back; DR per datagram; FULLNAT -o on the queue path',
    svcs: [
      { key: { kind: 'addr', protocol: 'udp', vip: addr('198.18.0.100'), port: 53 }, sched: 'wrr', flags: SVC_F.ONEPACKET, dests: two('masq', 5353, [2, 1]) },
      { key: { kind: 'addr', protocol: 'udp', vip: addr('198.18.0.100'), port: 5060 }, sched: 'rr', flags: SVC_F.ONEPACKET, dests: two('route', 5060) },
      { key: { kind: 'addr', protocol: 'udp', vip: addr('198.18.0.100'), port: 123 }, sched: 'rr', flags: SVC_F.ONEPACKET, dests: two('fullnat', 123) },
    ],
  },
  {
    name: 'udp-sctp', desc: 'UDP and SCTP services',
    svcs: [
      { key: { kind: 'addr', protocol: 'udp', vip: addr('198.18.0.100'), port: 53 }, sched: 'wrr', dests: two('masq', 53, [2, 1]) },
      { key: { kind: 'addr', protocol: 'sctp', vip: addr('198.18.0.100'), port: 3868 }, sched: 'rr', dests: two('masq', 3868) },
    ],
  },
  {
    name: 'fullnat-source-list', desc: 'FULLNAT to a list of a range and a lone address: numgen round-robin over the items, the lone one as A-A',
    svcs: [{ key: tcp('198.18.0.100', 80), sched: 'rr', dests: two('fullnat') }], opts: { fullnatSource: '198.18.1.1-198.18.1.4,198.18.2.1' },
  },
];

function rulesetFor(svcs: readonly Svc[], opts: Partial<ModelOptions> = {}): Ruleset {
  return render(buildModel(director(svcs), { services: new BackendIds(), backends: new BackendIds() }, { ...OPTS, ...opts }));
}

function golden(file: string, text: string): void {
  const p = join(FIXTURES, file);
  if (UPDATE || !existsSync(p)) {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(p, text);
    if (!UPDATE) assert.fail(`${file} did not exist and was written; check it and run again`);
    return;
  }
  assert.equal(text, readFileSync(p, 'utf8'), `${file} differs (UPDATE_GOLDEN=1 to rewrite)`);
}

test('render: golden rulesets and start-up transactions', async (t) => {
  for (const c of CASES) {
    await t.test(c.desc, () => {
      const r = rulesetFor(c.svcs, c.opts);
      golden(`${c.name}.nft`, rulesetText(r));
      golden(`${c.name}.tx.nft`, transaction(null, r));
    });
  }
});

test('fullnatSnatTarget: the snat argument for one FULLNAT source item or a list', async (t) => {
  const rows: [string, string, string][] = [
    ['one address as is', '198.18.1.1', '198.18.1.1'],
    ['one range as is', '198.18.1.1-198.18.1.4', '198.18.1.1-198.18.1.4'],
    ['a list of addresses: plain map data', '198.18.1.1,198.18.1.5,198.18.1.9', 'numgen inc mod 3 map { 0 : 198.18.1.1, 1 : 198.18.1.5, 2 : 198.18.1.9 }'],
    ['a range in the list: every item a range', '198.18.2.1,198.18.1.1-198.18.1.4', 'numgen inc mod 2 map { 0 : 198.18.2.1-198.18.2.1, 1 : 198.18.1.1-198.18.1.4 }'],
    ['IPv6', '2001:2:0:1::1,2001:2:0:1::9', 'numgen inc mod 2 map { 0 : 2001:2:0:1::1, 1 : 2001:2:0:1::9 }'],
  ];
  for (const [desc, source, want] of rows) await t.test(desc, () => assert.equal(fullnatSnatTarget(source), want));
});

test('render is pure: the same director gives the same text', () => {
  for (const c of CASES) assert.equal(rulesetText(rulesetFor(c.svcs, c.opts)), rulesetText(rulesetFor(c.svcs, c.opts)), c.name);
});

test('transactions touch only the plane\'s own table', () => {
  for (const c of CASES) {
    const tx = transaction(null, rulesetFor(c.svcs, c.opts));
    for (const line of tx.trim().split('\n')) {
      assert.match(line, /^(add|delete|flush) (table|chain|map|set|counter|element|rule) ip6? keepvs\b/, `${c.name}: ${line}`);
    }
  }
});

test('an update transaction: in place, dynamic maps kept, stale objects removed last', () => {
  const before = rulesetFor([CASES[3].svcs[0], CASES[5].svcs[0]].map((s, i) => (i === 1 ? { ...s, key: tcp('198.18.0.102', 80) } : s)));
  const after = rulesetFor([CASES[3].svcs[0]]);
  const tx = transaction(before, after);
  golden('update-remove-dr.tx.nft', tx);
  const lines = tx.trim().split('\n');
  assert.ok(!lines.some((l) => l.startsWith('delete table')), 'no table delete: the update is in place');
  assert.ok(!lines.some((l) => /flush map ip keepvs (persist|flows)_/.test(l) && !l.includes('flows_s2')), 'live dynamic maps are never flushed');
  const firstDelete = lines.findIndex((l) => l.startsWith('delete '));
  assert.ok(firstDelete > lines.findLastIndex((l) => l.startsWith('add rule')), 'deletes come after every rule is in');
  assert.ok(lines.includes('delete chain ip keepvs s2') && lines.includes('delete map ip keepvs flows_s2'));
  // Unchanged model: the same objects, no deletes.
  assert.ok(!transaction(after, after).includes('delete '));
});

test('queueReason: which services need the core', () => {
  const rows: { desc: string; svc: Svc; queue: boolean }[] = [
    { desc: 'rr', svc: CASES[0].svcs[0], queue: false },
    { desc: 'wrr', svc: CASES[1].svcs[0], queue: false },
    { desc: 'sh with persistence', svc: CASES[3].svcs[0], queue: false },
    { desc: 'lc', svc: CASES[6].svcs[0], queue: true },
    { desc: 'rr with a threshold', svc: CASES[7].svcs[0], queue: true },
    { desc: 'sh-port', svc: { ...CASES[3].svcs[0], flags: SVC_F.SCHED2 }, queue: true },
    { desc: 'mh', svc: { ...CASES[0].svcs[0], sched: 'mh' }, queue: true },
    { desc: 'wrr with --exact-path', svc: { ...CASES[1].svcs[0], exactPath: true }, queue: true },
    { desc: 'rr with --exact-path', svc: { ...CASES[0].svcs[0], exactPath: true }, queue: true },
    { desc: '-o UDP, NAT, wrr: per datagram in the kernel', svc: CASES.find((c) => c.name === 'one-packet-udp')!.svcs[0], queue: false },
    { desc: '-o UDP, DR, rr: per datagram in the kernel', svc: CASES.find((c) => c.name === 'one-packet-udp')!.svcs[1], queue: false },
    { desc: '-o UDP, FULLNAT: the queue path', svc: CASES.find((c) => c.name === 'one-packet-udp')!.svcs[2], queue: true },
  ];
  for (const r of rows) {
    const svc = director([r.svc]).services()[0];
    assert.equal(queueReason(svc, false) !== null, r.queue, r.desc);
    assert.notEqual(queueReason(svc, true), null, `${r.desc}: forced`);
  }
});

test('wrrCycle is the core wrr\'s own sequence for a freshly built service', () => {
  const rows: number[][] = [[1, 1], [3, 1], [3, 1, 2], [5, 0, 2], [4, 6, 8], [100, 1]];
  for (const weights of rows) {
    const key = tcp('198.18.0.100', 80);
    const d = director([{ key, sched: 'wrr', dests: weights.map((w, i) => ({ rip: `198.18.1.${11 + i}`, port: 80, fwd: 'masq', weight: w })) }]);
    const svc = d.services()[0];
    const cycle = wrrCycle(svc.dests.map((x) => x.weight)).map((i) => svc.dests[i].addr.text);
    const picks = cycle.map((_, i) => d.schedule(svc, { protocol: 'tcp', caddr: addr('198.18.0.10'), cport: 1000 + i, vaddr: addr('198.18.0.100'), vport: 80 }, 0).dest!.addr.text);
    assert.deepEqual(cycle, picks, `weights ${weights}`);
  }
  assert.deepEqual(wrrCycle([0, 0]), []);
  assert.ok(wrrCycle([65535, 1, 30000]).length <= 1024, 'long cycles are scaled');
});

test('the kernel accepts every golden ruleset (nft -c in a throwaway namespace)', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root: nft -c talks to the kernel'); return; }
  if ((await exec('sh', ['-c', 'command -v nft'])).code !== 0) { t.skip('needs nft (apt-get install nftables)'); return; }
  const ns = `kpegold${process.pid % 100000}`;
  assert.equal((await exec('ip', ['netns', 'add', ns])).code, 0);
  t.after(() => exec('ip', ['netns', 'del', ns]));
  for (const c of CASES) {
    const r = rulesetFor(c.svcs, c.opts);
    for (const text of [rulesetText(r), transaction(null, r)]) {
      const res = await exec('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: text });
      assert.equal(res.code, 0, `${c.name}: ${res.stderr}`);
    }
  }
});
