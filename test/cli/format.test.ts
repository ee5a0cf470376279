// ipvsadm's listing and -S text from snapshots. The golden files in golden/ were written by hand
// from ipvsadm.c's printf formats (print_title, print_service_entry, print_largenum, print_conn,
// list_conn) — "|" marks the end of each line so trailing blanks show — never by this formatter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FMT_NONE, NO_NAMES, expireText, largeNum, listAll, listConnections, listService, listTimeouts, saveRules, type Format, type Names } from '../../src/cli/keepvsadm/format.ts';
import { glibcQsort, sortDests, sortServices } from '../../src/cli/keepvsadm/sort.ts';
import { ServicesDb } from '../../src/config/endpoint.ts';
import { CONNECTIONS, INFO, SERVICES, dest, service } from './fixtures.ts';
import type { ServiceSnapshot } from '../../src/core/snapshot.ts';

function golden(name: string): string {
  const lines = readFileSync(join(import.meta.dirname, 'golden', name), 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${l.replace(/\|$/, '')}\n`).join('');
}

const N: Format = { ...FMT_NONE, numeric: true };

const GOLDEN: readonly { file: string; desc: string; render: () => string }[] = [
  { file: 'list-n.txt', desc: '-L -n', render: () => listAll(INFO, SERVICES, N, NO_NAMES) },
  { file: 'list-n-tun-info.txt', desc: '-L -n --tun-info', render: () => listAll(INFO, SERVICES, { ...N, tunInfo: true }, NO_NAMES) },
  { file: 'list-n-stats.txt', desc: '-L -n --stats', render: () => listAll(INFO, SERVICES, { ...N, stats: true }, NO_NAMES) },
  { file: 'list-n-stats-exact.txt', desc: '-L -n --stats --exact', render: () => listAll(INFO, SERVICES, { ...N, stats: true, exact: true }, NO_NAMES) },
  { file: 'list-n-rate.txt', desc: '-L -n --rate', render: () => listAll(INFO, SERVICES, { ...N, rate: true }, NO_NAMES) },
  { file: 'list-n-thresholds.txt', desc: '-L -n --thresholds', render: () => listAll(INFO, SERVICES, { ...N, thresholds: true }, NO_NAMES) },
  { file: 'list-n-persistent-conn.txt', desc: '-L -n --persistent-conn', render: () => listAll(INFO, SERVICES, { ...N, persistentConn: true }, NO_NAMES) },
  { file: 'save-n.txt', desc: '-S -n', render: () => saveRules(SERVICES, { ...N, rule: true }, NO_NAMES) },
  { file: 'conn-n.txt', desc: '-L -n -c', render: () => listConnections(CONNECTIONS, N, NO_NAMES) },
  { file: 'conn-n-persistent-conn.txt', desc: '-L -n -c --persistent-conn', render: () => listConnections(CONNECTIONS.slice(0, 1), { ...N, persistentConn: true }, NO_NAMES) },
];

for (const g of GOLDEN) {
  test(`format (ipvsadm.c printf formats): ${g.desc} matches golden/${g.file}`, () => {
    assert.equal(g.render(), golden(g.file));
  });
}

/** Names as gethostbyaddr/getservbyport would give them. */
const DB = new ServicesDb('http 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n');
const NAMES: Names = {
  host: (_f, a) => ({ '10.0.0.1': 'a-very-long-virtual-hostname.example.com', '10.0.0.2': 'backend-server-number-one.example.com' } as Record<string, string>)[a] ?? null,
  service: (port, proto) => DB.nameOf(port, proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'sctp'),
};
const ADDR_SERVICES = SERVICES.filter((s) => s.kind === 'addr');

test('format: names, with the 33-column service and 28-column dest cuts of print_service_entry', () => {
  assert.equal(listAll(INFO, ADDR_SERVICES, FMT_NONE, NAMES), golden('names.txt'));
});

test('format: -S writes names uncut', () => {
  assert.equal(saveRules(ADDR_SERVICES, { ...FMT_NONE, rule: true }, NAMES), golden('names-save.txt'));
});

test('format: -L -t (list_service) has no banner; --timeout', () => {
  const tcp = SERVICES[3];
  assert.equal(listService(tcp, N, NO_NAMES), golden('list-n.txt').split('\n').slice(1, 6).join('\n') + '\n');
  assert.equal(listTimeouts({ tcp: 900, tcpfin: 120, udp: 300 }), 'Timeout (tcp tcpfin udp): 900 120 300\n');
});

test('format: --nosort keeps the daemon order of services and dests', () => {
  const out = listAll(INFO, SERVICES.slice(3), { ...N, nosort: true }, NO_NAMES);
  assert.deepEqual(out.split('\n').slice(4, 6).map((l) => l.slice(0, 16)), ['  -> 10.0.0.3:80', '  -> 10.0.0.2:80']);
});

test('format: sched flags that print_sched_flags cannot name leave " ()" and a dangling -b', () => {
  // sh only names SCHED1/SCHED2; with SCHED3 alone the brackets (and -S's -b) stay empty.
  const s = service({ kind: 'addr', protocol: 'tcp', vip: '10.0.0.9', port: 80, scheduler: 'sh', flags: 0x20 });
  assert.equal(listAll(INFO, [s], N, NO_NAMES).split('\n')[3], 'TCP  10.0.0.9:80 sh ()');
  assert.equal(saveRules([s], { ...N, rule: true }, NO_NAMES), '-A -t 10.0.0.9:80 -s sh -b \n');
});

test('format: --pe is saved even without persistence; -M only inside it; LOCALNODE saves as -g, FULLNAT as --fullnat', () => {
  const s = service({
    kind: 'addr', protocol: 'sctp', vip: '10.0.0.9', port: 5060, pe: 'sip', netmask: '255.255.0.0',
    dests: [dest({ addr: '10.0.0.10', port: 5060, fwd: 'local' }), dest({ addr: '10.0.0.11', port: 5061, fwd: 'fullnat', weight: 7 })],
  });
  assert.equal(saveRules([s], { ...N, rule: true }, NO_NAMES),
    '-A --sctp-service 10.0.0.9:5060 -s wlc --pe sip\n'
    + '-a --sctp-service 10.0.0.9:5060 -r 10.0.0.10:5060 -g -w 1\n'
    + '-a --sctp-service 10.0.0.9:5060 -r 10.0.0.11:5061 --fullnat -w 7\n');
  assert.equal(listAll(INFO, [s], N, NO_NAMES).split('\n').slice(3, 6).join('\n'),
    'SCTP 10.0.0.9:5060 wlc\n'
    + '  -> 10.0.0.10:5060               Local   1      0          0         \n'
    + '  -> 10.0.0.11:5061               FullNat 7      0          0         ');
});

test('format: fwmarks print unsigned (the fix after 1.31)', () => {
  const s = service({ kind: 'fwmark', fwmark: 2882430849, scheduler: 'rr' });
  assert.equal(listAll(INFO, [s], N, NO_NAMES).split('\n')[3], 'FWM  2882430849 rr');
  assert.equal(saveRules([s], { ...N, rule: true }, NO_NAMES), '-A -f 2882430849 -s rr\n');
});

const LARGE: readonly [number, boolean, string][] = [
  [0, false, '        0'],
  [99999999, false, ' 99999999'],
  [100000000, false, '  100000K'],
  [999999999, false, '  999999K'],
  [1000000000, false, '    1000M'],
  [99999999999, false, '   99999M'],
  [100000000000, false, '     100G'],
  [99999999999999, false, '   99999G'],
  [100000000000000, false, '     100T'],
  [12345678, true, ' 12345678'],
  [123456789, true, ' 123456789'],
];

for (const [v, exact, want] of LARGE) {
  test(`format: print_largenum(${v}${exact ? ', exact' : ''}) = "${want}"`, () => {
    assert.equal(largeNum(v, exact), want);
  });
}

const EXPIRE: readonly [number, string][] = [
  [0, '00:00'], [999, '00:00'], [1000, '00:01'], [59999, '00:59'], [60000, '01:00'], [-1, '00:00'], [5999999, '99:59'], [6000000, '100:00'],
];

for (const [ms, want] of EXPIRE) {
  test(`format: expire ${ms} ms shows ${want} (whole seconds, truncated: ip_vs_conn.c)`, () => {
    assert.equal(expireText(ms), want);
  });
}

/** Sort rows: input addresses (kernel order) → listing order, worked by hand through glibc's msort. */
const SORTS: readonly { desc: string; vips: string[]; want: string[] }[] = [
  { desc: 'plain ascending', vips: ['10.0.0.3', '10.0.0.1', '10.0.0.2'], want: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
  { desc: '(int)(a-b): 200.0.0.1 before 10.0.0.1', vips: ['10.0.0.1', '200.0.0.1'], want: ['200.0.0.1', '10.0.0.1'] },
  // 10 < 100 < 200 < 10: msort's merges decide, so the kernel order shows through.
  { desc: 'non-transitive cycle, order 10,100,200', vips: ['10.0.0.1', '100.0.0.1', '200.0.0.1'], want: ['10.0.0.1', '100.0.0.1', '200.0.0.1'] },
  { desc: 'non-transitive cycle, order 200,100,10', vips: ['200.0.0.1', '100.0.0.1', '10.0.0.1'], want: ['200.0.0.1', '10.0.0.1', '100.0.0.1'] },
  { desc: 'non-transitive cycle, order 100,10,200', vips: ['100.0.0.1', '10.0.0.1', '200.0.0.1'], want: ['100.0.0.1', '200.0.0.1', '10.0.0.1'] },
];

for (const row of SORTS) {
  test(`sort (libipvs.c ipvs_cmp_services + glibc msort): ${row.desc}`, () => {
    const svcs = row.vips.map((vip) => service({ kind: 'addr', protocol: 'tcp', vip, port: 80 }));
    assert.deepEqual(sortServices(svcs).map((s) => s.vip), row.want);
  });
}

test('sort: a fwmark 2^31 or more above 0 sorts before the address services', () => {
  const list = [service({ kind: 'addr', protocol: 'tcp', vip: '10.0.0.1', port: 80 }), service({ kind: 'fwmark', fwmark: 0x80000001 })];
  // 0 - 0x80000001 as an int is positive.
  assert.deepEqual(sortServices(list).map((s) => s.fwmark), [0x80000001, 0]);
});

test('sort: fwmark, family, protocol, address, port — and the fwmark cycle resolved by msort', () => {
  const list = [
    service({ kind: 'fwmark', fwmark: 3 }),
    service({ kind: 'addr', protocol: 'udp', vip: '10.0.0.1', port: 53 }),
    service({ kind: 'addr', protocol: 'tcp', vip: '2001:db8::1', port: 80, family: 6 }),
    service({ kind: 'addr', protocol: 'tcp', vip: '10.0.0.1', port: 443 }),
    service({ kind: 'addr', protocol: 'tcp', vip: '10.0.0.1', port: 80 }),
    service({ kind: 'fwmark', fwmark: 3, family: 6 }),
    service({ kind: 'fwmark', fwmark: 0x80000001 }),
  ];
  const key = (s: ReturnType<typeof service>) => (s.kind === 'fwmark' ? `fwm${s.fwmark}/${s.family}` : `${s.protocol} ${s.vip}:${s.port}`);
  // By hand: msort splits 3|4; left [fwm3, udp, tcp6] -> [udp, tcp6, fwm3]; right -> [tcp80, tcp443,
  // fwm3/6, fwmBig]; the final merge never compares fwmBig with an address service, so it ends last.
  assert.deepEqual(sortServices(list).map(key), [
    'tcp 10.0.0.1:80', 'tcp 10.0.0.1:443', 'udp 10.0.0.1:53', 'tcp 2001:db8::1:80', 'fwm3/4', 'fwm3/6', 'fwm2147483649/4',
  ]);
});

test('sort: dests by address then port (libipvs.c ipvs_cmp_dests)', () => {
  const ds = [dest({ addr: '10.0.0.2', port: 81 }), dest({ addr: '10.0.0.1', port: 90 }), dest({ addr: '10.0.0.2', port: 80 })];
  assert.deepEqual(sortDests(ds).map((d) => `${d.addr}:${d.port}`), ['10.0.0.1:90', '10.0.0.2:80', '10.0.0.2:81']);
});

test('sort: glibc msort merges stably (left first on ties)', () => {
  const items = [{ k: 1, id: 'a' }, { k: 0, id: 'b' }, { k: 1, id: 'c' }, { k: 0, id: 'd' }];
  assert.deepEqual(glibcQsort(items, (x, y) => x.k - y.k).map((x) => x.id), ['b', 'd', 'a', 'c']);
});

// keepvs's --proxy-protocol: saved at the end of an -A/-a rule when the service or dest has a
// choice of its own (a dest that inherits saves nothing), and shown in no ipvsadm listing.
const PP_SERVICES: readonly ServiceSnapshot[] = [
  service({
    kind: 'addr', protocol: 'tcp', vip: '10.0.0.1', port: 80, scheduler: 'rr', proxyProtocol: 'v2',
    dests: [
      dest({ addr: '10.0.0.4', port: 8080, proxyProtocol: 'v1', effectiveProxyProtocol: 'v1' }),
      dest({ addr: '10.0.0.3', port: 8080, fwd: 'fullnat', weight: 2, proxyProtocol: 'none', effectiveProxyProtocol: null }),
      dest({ addr: '10.0.0.2', port: 8080, proxyProtocol: null, effectiveProxyProtocol: 'v2' }),
    ],
  }),
  service({
    kind: 'addr', protocol: 'udp', vip: '10.0.0.1', port: 53, scheduler: 'sh', flags: 0x4 | 0x10, proxyProtocol: 'v2',
    dests: [dest({ addr: '10.0.0.5', port: 53, proxyProtocol: null, effectiveProxyProtocol: 'v2' })],
  }),
  service({
    kind: 'fwmark', fwmark: 3, scheduler: 'lc', flags: 0x1, timeout: 360, proxyProtocol: null,
    dests: [dest({ addr: '10.0.0.6', port: 0, fwd: 'tunnel', tunnel: { type: 'gre', port: 0, csum: 'csum' }, proxyProtocol: 'v2', effectiveProxyProtocol: 'v2' })],
  }),
];

/** The same table as a daemon without the extension would describe it. */
const PP_STRIPPED: readonly ServiceSnapshot[] = PP_SERVICES.map(({ proxyProtocol: _p, ...s }) => ({
  ...s, dests: s.dests.map(({ proxyProtocol: _d, effectiveProxyProtocol: _e, ...d }) => d),
}));

test('format: -S -n saves --proxy-protocol at the end of -A/-a (golden/save-n-proxy-protocol.txt)', () => {
  assert.equal(saveRules(PP_SERVICES, { ...N, rule: true }, NO_NAMES), golden('save-n-proxy-protocol.txt'));
});

test('format: -L -n shows no PROXY protocol (golden/list-n-proxy-protocol.txt)', () => {
  assert.equal(listAll(INFO, PP_SERVICES, N, NO_NAMES), golden('list-n-proxy-protocol.txt'));
});

test('format: every ipvsadm listing is byte for byte the same with and without PROXY protocol choices', async (t) => {
  const formats: readonly [string, Format][] = [
    ['-L', FMT_NONE], ['-L -n', N], ['--stats', { ...N, stats: true }], ['--stats --exact', { ...N, stats: true, exact: true }],
    ['--rate', { ...N, rate: true }], ['--thresholds', { ...N, thresholds: true }],
    ['--persistent-conn', { ...N, persistentConn: true }], ['--tun-info', { ...N, tunInfo: true }], ['--nosort', { ...N, nosort: true }],
  ];
  for (const [desc, f] of formats) {
    await t.test(desc, () => {
      assert.equal(listAll(INFO, PP_SERVICES, f, NO_NAMES), listAll(INFO, PP_STRIPPED, f, NO_NAMES));
      assert.equal(listService(PP_SERVICES[0], f, NO_NAMES), listService(PP_STRIPPED[0], f, NO_NAMES));
    });
  }
  await t.test('-S of a table without choices has no --proxy-protocol', () => {
    assert.doesNotMatch(saveRules(PP_STRIPPED, { ...N, rule: true }, NO_NAMES), /proxy-protocol/);
  });
});

// keepvs's --exact-path: saved at the end of the -A rule (after --proxy-protocol) so -S -> -R
// round-trips; no ipvsadm listing shows it.
test('format: --exact-path is saved by -S and shown by no listing', async (t) => {
  const exact: readonly ServiceSnapshot[] = PP_STRIPPED.map((s, i) => (i === 0 ? { ...s, exactPath: true } : s));
  await t.test('-S -n ends the -A line with --exact-path', () => {
    const saved = saveRules(exact, { ...N, rule: true }, NO_NAMES);
    assert.match(saved, /^-A -t 10\.0\.0\.1:80 -s rr --exact-path$/m);
    assert.equal(saved.match(/--exact-path/g)?.length, 1);
    const withPp = saveRules([{ ...PP_SERVICES[0], exactPath: true }], { ...N, rule: true }, NO_NAMES);
    assert.match(withPp, /^-A -t 10\.0\.0\.1:80 -s rr --proxy-protocol v2 --exact-path$/m);
  });
  for (const [desc, f] of [['-L', FMT_NONE], ['-L -n', N], ['--stats', { ...N, stats: true }], ['--rate', { ...N, rate: true }]] as const) {
    await t.test(`${desc} is byte for byte the same`, () => {
      assert.equal(listAll(INFO, exact, f, NO_NAMES), listAll(INFO, PP_STRIPPED, f, NO_NAMES));
    });
  }
});
