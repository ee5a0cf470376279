// IPv6 on the nft data plane, proven with real packets: the namespace lab of nft-netns.test.ts plus
// IPv6 addresses from the benchmarking range 2001:2::/48 (RFC 5180) only — front LAN 2001:2::/64,
// back LAN 2001:2:0:1::/64 — and a small HTTP server on [::]:8080 in each real server. NAT (the RS
// sees the client), FULLNAT (the RS sees the DIP, no route back), the queue path (lc decided by the
// core through NFQUEUE / ip6tables-nft), the conntrack view, and DR (ip -6 rule/route; replies via
// the router, never the director; stop removes the rules and routes); IPv6 TUN refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { exec, inNs, labUnavailable, labUp, type Lab } from '../../src/sys/netns.ts';
import { NODE, startNftDaemon, until } from './nft-harness.ts';

const unavailable = await labUnavailable(['ip', 'nft', 'iptables-nft', 'ip6tables-nft', 'conntrack', 'curl']);
const V6 = {
  client: '2001:2::10', dirFront: '2001:2::1', vip: '2001:2::100', dip: '2001:2:0:1::1', rs: ['2001:2:0:1::11', '2001:2:0:1::12'],
  routerFront: '2001:2::fe', routerBack: '2001:2:0:1::fe',
};

const RS6_SERVER = `
const name = process.argv[1];
require('http').createServer((q, s) => { s.setHeader('Connection', 'close'); s.end(name + ' ' + q.socket.remoteAddress + '\\n'); })
  .listen({ port: 8080, host: '::', ipv6Only: true });
`;

async function must(ns: string, cmd: string[]): Promise<void> {
  const r = await inNs(ns, cmd);
  if (r.code !== 0) throw new Error(`[${ns}] ${cmd.join(' ')}: ${r.stderr.trim()}`);
}

/** IPv6 addresses and routes on top of the IPv4 lab; the RS default route is the director (NAT). */
async function addIpv6(lab: Lab): Promise<void> {
  await must(lab.ns.client, ['ip', '-6', 'addr', 'add', `${V6.client}/64`, 'dev', 'eth0', 'nodad']);
  await must(lab.ns.client, ['ip', '-6', 'route', 'add', '2001:2:0:1::/64', 'via', V6.dirFront]);
  await must(lab.ns.director, ['ip', '-6', 'addr', 'add', `${V6.dirFront}/64`, 'dev', 'eth0', 'nodad']);
  await must(lab.ns.director, ['ip', '-6', 'addr', 'add', `${V6.vip}/128`, 'dev', 'eth0', 'nodad']);
  await must(lab.ns.director, ['ip', '-6', 'addr', 'add', `${V6.dip}/64`, 'dev', 'eth1', 'nodad']);
  await must(lab.ns.director, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  for (const [i, r] of lab.ns.rs.entries()) {
    await must(r, ['ip', '-6', 'addr', 'add', `${V6.rs[i]}/64`, 'dev', 'eth0', 'nodad']);
    await must(r, ['ip', '-6', 'route', 'replace', 'default', 'via', V6.dip, 'dev', 'eth0']);
    spawn('ip', ['netns', 'exec', r, NODE, '-e', RS6_SERVER, r], { stdio: 'ignore' }).unref();
  }
  for (const r of lab.ns.rs) {
    let up = false;
    for (let i = 0; i < 50 && !up; i++) {
      up = (await inNs(r, ['curl', '-s', '-g', '--max-time', '1', 'http://[::1]:8080/'])).code === 0;
      if (!up) await new Promise((res) => setTimeout(res, 100));
    }
    if (!up) throw new Error(`IPv6 server in ${r} did not start`);
  }
}

/** N sequential HTTP requests from the client: "<rs-ns> <peer address>" per reply, or "error". */
async function get6(lab: Lab, port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await inNs(lab.ns.client, ['curl', '-s', '-g', '--max-time', '3', `http://[${V6.vip}]:${port}/`]);
    out.push(r.code === 0 ? r.stdout.trim() : `error ${r.code}`);
  }
  return out;
}

const rsOf = (lab: Lab, reply: string): number => lab.ns.rs.indexOf(reply.split(' ')[0]);

test('nft data plane over IPv6 in network namespaces (2001:2::/48)', { timeout: 300_000 }, async (t) => {
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const lab = await labUp({ prefix: `kpi6${process.pid % 10000}`, rsCount: 2, node: NODE });
  t.after(() => lab.down());
  await addIpv6(lab);
  const k = await startNftDaemon(lab);
  t.after(async () => { await k.stop(); });
  const metric = async (name: string): Promise<number> => {
    const r = await exec('curl', ['-s', '--unix-socket', k.socket, 'http://keepvs/metrics']);
    const m = new RegExp(`^keepvs_dataplane_drops_total\\{reason="${name}"\\} (\\d+)`, 'm').exec(r.stdout);
    return m ? Number(m[1]) : 0;
  };

  await t.test('NAT rr: in the kernel (table ip6), the RS sees the client; ActiveConn/InActConn from IPv6 conntrack', async () => {
    await k.adm('-A', '-t', `[${V6.vip}]:80`, '-s', 'rr');
    for (const rip of V6.rs) await k.adm('-a', '-t', `[${V6.vip}]:80`, '-r', `[${rip}]:8080`, '-m');
    const tables = (await inNs(lab.ns.director, ['nft', 'list', 'tables'])).stdout;
    assert.match(tables, /^table ip6 keepvs$/m);
    const replies = await get6(lab, 80, 6);
    assert.deepEqual(replies.map((r) => rsOf(lab, r)), [1, 0, 1, 0, 1, 0], replies.join(', '));
    for (const r of replies) assert.match(r, /^kpi6\d+r\d 2001:2::10$/, 'NAT keeps the client address');
    const ok = await until(async () => /\[2001:2:0:1::1[12]\]:8080\s+Masq\s+1\s+0\s+3/.test(await k.adm('-L', '-n')), 5000);
    assert.ok(ok, await k.adm('-L', '-n'));
    assert.match(await k.adm('-L', '-n', '-c'), /TIME_WAIT\s+\[2001:2::10\]:\d+\s+\[2001:2::100\]:80\s+\[2001:2:0:1::1[12]\]:8080/);
    await k.adm('-C');
  });

  await t.test('FULLNAT: the RS sees the DIP and needs no route back', async () => {
    for (const r of lab.ns.rs) await must(r, ['ip', '-6', 'route', 'del', 'default']);
    try {
      await k.adm('-A', '-t', `[${V6.vip}]:81`, '-s', 'rr');
      for (const rip of V6.rs) await k.adm('-a', '-t', `[${V6.vip}]:81`, '-r', `[${rip}]:8080`, '--fullnat');
      const replies = await get6(lab, 81, 4);
      assert.deepEqual(replies.map((r) => rsOf(lab, r)), [1, 0, 1, 0], replies.join(', '));
      for (const r of replies) assert.match(r, /^kpi6\d+r\d 2001:2:0:1::1$/, 'the RS sees the DIP');
    } finally {
      await k.adm('-C');
      for (const r of lab.ns.rs) await inNs(r, ['ip', '-6', 'route', 'replace', 'default', 'via', V6.dip, 'dev', 'eth0']);
    }
  });

  await t.test('queue path over IPv6: lc decided by the core through ip6tables-nft NFQUEUE; wrr with --exact-path too', async () => {
    for (const [port, sched, extra] of [[82, 'lc', []], [83, 'wrr', ['--exact-path']]] as const) {
      await k.adm('-A', '-t', `[${V6.vip}]:${port}`, '-s', sched, ...extra);
      for (const rip of V6.rs) await k.adm('-a', '-t', `[${V6.vip}]:${port}`, '-r', `[${rip}]:8080`, '-m');
      const before = await metric('queue-decisions');
      const replies = await get6(lab, port, 6);
      for (const r of replies) assert.match(r, /^kpi6\d+r\d 2001:2::10$/, `${sched}: ${replies.join(', ')}`);
      assert.ok(await metric('queue-decisions') - before >= 6, `${sched}: the core decided each connection`);
      assert.equal(new Set(replies.map((r) => rsOf(lab, r))).size, 2, `${sched}: both RS used`);
      assert.match((await inNs(lab.ns.director, ['ip6tables-nft', '-t', 'mangle', '-S'])).stdout, /-A KEEPVS .*NFQUEUE/);
      await k.adm('-C');
    }
    assert.doesNotMatch((await inNs(lab.ns.director, ['ip6tables-nft', '-t', 'mangle', '-S'])).stdout, /KEEPVS/, 'the chain goes with the last queue-path service');
  });

  await t.test('IPv6 DR: the RS sees the client, no reply crosses the director, stop removes the ip -6 rules and routes', async () => {
    // Replies go RS -> router -> client: the router gets IPv6 on both LANs, the RS's default route
    // points at it, and each RS holds the VIP on lo. No arp_ignore equivalent is needed: an RS
    // answers a neighbour solicitation only for an address on the interface it arrived on
    // (ndisc.c: ndisc_recv_ns looks the target up strictly on that device), never for lo's VIP.
    await must(lab.ns.router, ['ip', '-6', 'addr', 'add', `${V6.routerFront}/64`, 'dev', 'eth0', 'nodad']);
    await must(lab.ns.router, ['ip', '-6', 'addr', 'add', `${V6.routerBack}/64`, 'dev', 'eth1', 'nodad']);
    await must(lab.ns.router, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    for (const r of lab.ns.rs) {
      await must(r, ['ip', '-6', 'route', 'replace', 'default', 'via', V6.routerBack, 'dev', 'eth0']);
      await must(r, ['ip', '-6', 'addr', 'add', `${V6.vip}/128`, 'dev', 'lo', 'nodad']);
    }
    await assert.rejects(k.adm('-A', '-t', `[${V6.vip}]:84`, '-s', 'rr').then(() => k.adm('-a', '-t', `[${V6.vip}]:84`, '-r', V6.rs[0], '-i')),
      /IPv6 tunnelling \(-i\) is not supported/);
    await k.adm('-C');
    await k.adm('-A', '-t', `[${V6.vip}]:8080`, '-s', 'rr');
    for (const rip of V6.rs) await k.adm('-a', '-t', `[${V6.vip}]:8080`, '-r', `[${rip}]:8080`, '-g');
    assert.match(await k.adm('-L', '-n'), /\[2001:2:0:1::11\]:8080\s+Route/);
    const rules = (await inNs(lab.ns.director, ['ip', '-6', 'rule'])).stdout;
    assert.match(rules, /^90:\s+from all to 2001:2::100 fwmark 0x6b0+\d+ lookup \d+ proto 107/m, rules);
    assert.match(rules, /^100:\s+from all lookup local proto 107/m, rules);
    assert.doesNotMatch(rules, /^0:/m, 'the local rule moved below the fwmark rules');
    // Link counters on the director's client-side link: requests come in, (almost) nothing goes out.
    const stats = async (ns: string, dev: string): Promise<{ rx: number; tx: number }> => {
      const j = JSON.parse((await inNs(ns, ['ip', '-s', '-j', 'link', 'show', dev])).stdout) as { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
      return { rx: j[0].stats64.rx.packets, tx: j[0].stats64.tx.packets };
    };
    const front = await stats(lab.ns.director, 'eth0');
    const routerFront = await stats(lab.ns.router, 'eth0');
    const replies = await get6(lab, 8080, 6);
    assert.deepEqual(replies.map((r) => rsOf(lab, r)), [1, 0, 1, 0, 1, 0], replies.join(', '));
    for (const r of replies) assert.match(r, /^kpi6\d+r\d 2001:2::10$/, 'DR keeps the client address');
    const after = await stats(lab.ns.director, 'eth0');
    assert.ok(after.rx - front.rx >= 24, `requests came in (${after.rx - front.rx} packets)`);
    assert.ok(after.tx - front.tx < 6, `no reply crosses the director (${after.tx - front.tx} packets out on eth0)`);
    assert.ok((await stats(lab.ns.router, 'eth0')).tx - routerFront.tx >= 18, 'the replies went through the router');
    // The exact flow record (conns set) feeds the connection view: 3 flows per RS, ActiveConn.
    assert.ok(await until(async () => /\[2001:2:0:1::11\]:8080\s+Route\s+1\s+3\s+0/.test(await k.adm('-L', '-n')), 5000), await k.adm('-L', '-n'));
    assert.equal(await k.stop(), 0);
    const left = (await inNs(lab.ns.director, ['ip', '-6', 'rule'])).stdout;
    assert.match(left, /^0:\s+from all lookup local/m, 'stop puts the IPv6 local rule back');
    assert.doesNotMatch(left, /proto 107|fwmark/, left);
    assert.equal((await inNs(lab.ns.director, ['ip', '-6', 'route', 'show', 'table', 'all', 'proto', '107'])).stdout.trim(), '');
    assert.doesNotMatch((await inNs(lab.ns.director, ['nft', 'list', 'tables'])).stdout, /keepvs/);
  });
});
