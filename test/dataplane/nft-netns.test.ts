// The nft data plane, proven with real packets: a client, a director running `keepvs --dataplane
// nft`, a router and three real servers, each in its own network namespace (198.18.0.0/15 only),
// configured with keepvsadm exactly as a user would. Skips with the reason where it cannot run
// (not root, no nft/iptables-nft/conntrack, no namespaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Director, type Flow } from '../../src/core/director.ts';
import { addr } from '../../src/core/addr.ts';
import type { SchedulerName } from '../../src/core/sched/scheduler.ts';
import { SVC_F } from '../../src/core/service.ts';
import { LAB, exec, inNs, labUnavailable, labUp, type Lab } from '../../src/sys/netns.ts';
import { NODE, ROOT, client, httpReplies, rsIndex, startNftDaemon, until, type RunningDaemon } from './nft-harness.ts';

const unavailable = await labUnavailable(['ip', 'nft', 'iptables-nft', 'conntrack', 'tcpdump']);
const VIP = LAB.vip;
const SRCS = Array.from({ length: 16 }, (_, i) => `198.18.0.${20 + i}`);

/** A director with the same service and dests, to replay decisions. */
function replayDirector(sched: SchedulerName, dests: readonly { rip: string; port?: number; weight: number }[], flags = 0, persist?: number, vport = 80): Director {
  const d = new Director({ seed: 1 });
  const key = { kind: 'addr', protocol: 'tcp', vip: addr(VIP), port: vport } as const;
  d.addService(key, { scheduler: sched, flags: flags | (persist ? SVC_F.PERSISTENT : 0), timeout: persist ?? 360, netmask: 0xffffffff, pe: null });
  for (const x of dests) d.addDest(key, { addr: addr(x.rip), port: x.port ?? 80, fwd: 'masq', weight: x.weight, uThreshold: 0, lThreshold: 0 });
  return d;
}

/** The replies' flows ("<ns> ip:port") as the director saw them. */
function flowsOf(replies: readonly string[], vport = 80): Flow[] {
  return replies.map((r) => {
    const [ip, port] = r.split(' ')[1].split(':');
    return { protocol: 'tcp', caddr: addr(ip), cport: Number(port), vaddr: addr(VIP), vport };
  });
}

function replaySequence(d: Director, flows: readonly Flow[]): number[] {
  const svc = d.services()[0];
  return flows.map((f) => {
    const dec = d.schedule(svc, f, 0);
    return dec.dest ? LAB.rs.indexOf(dec.dest.addr.text as (typeof LAB.rs)[number]) : -1;
  });
}

async function addService(k: RunningDaemon, sched: string, dests: readonly { rip: string; port?: number; weight: number; fwd?: string; x?: number }[], extra: string[] = [], vip = `${VIP}:80`): Promise<void> {
  await k.adm('-A', '-t', vip, '-s', sched, ...extra);
  for (const x of dests) {
    await k.adm('-a', '-t', vip, '-r', `${x.rip}:${x.port ?? 80}`, x.fwd ?? '-m', '-w', String(x.weight), ...(x.x ? ['-x', String(x.x)] : []));
  }
}

/** A trap on the director itself: any connection the plane fails to forward would be answered "DIRECTOR". */
function startTrap(lab: Lab): void {
  const code = `for (const p of [80, 8080, 9000]) require('net').createServer((c) => { c.on('error', () => {}); c.end('HTTP/1.0 200 OK\\r\\n\\r\\nDIRECTOR x:0\\n'); }).listen(p, '0.0.0.0');`;
  spawn('ip', ['netns', 'exec', lab.ns.director, NODE, '-e', code], { stdio: 'ignore' }).unref();
}

test('nft data plane in network namespaces', { timeout: 600_000 }, async (t) => {
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const lab = await labUp({ prefix: `kpe${process.pid % 100000}`, rsCount: 3, node: NODE });
  t.after(() => lab.down());
  startTrap(lab);
  const rs = LAB.rs.map((rip) => ({ rip, weight: 1 }));
  let k = await startNftDaemon(lab);
  t.after(async () => { await k.stop(); });
  // Each case leaves the director empty, whether it passed or not.
  // NFT_NETNS_ONLY=<words>: run only the cases whose name contains them (the lab is built anyway).
  const only = process.env.NFT_NETNS_ONLY;
  const sub = (name: string, fn: () => Promise<void>) => t.test(name, { skip: only !== undefined && !name.includes(only) }, async () => {
    try {
      await fn();
    } finally {
      await k.adm('-C').catch(() => undefined);
    }
  });

  await sub('NAT rr and wrr run in the kernel, in the core scheduler\'s order; the RS sees the client', async () => {
    for (const [sched, weights] of [['rr', [1, 1, 1]], ['wrr', [3, 1, 2]]] as const) {
      const dests = rs.map((x, i) => ({ ...x, weight: weights[i] }));
      await addService(k, sched, dests);
      const replies = await httpReplies(lab, VIP, 24);
      const expected = replaySequence(replayDirector(sched, dests), flowsOf(replies));
      assert.deepEqual(replies.map((r) => rsIndex(lab, r)), expected, `${sched}: ${replies.join(', ')}`);
      for (const r of replies) assert.match(r, /^kpe\d+r\d 198\.18\.0\.10:\d+$/, 'NAT keeps the client address');
      assert.match(k.output(), /nft|Control API/);
      await k.adm('-C');
    }
  });

  await sub('ActiveConn/InActConn and -L -c come from conntrack', async () => {
    await addService(k, 'rr', rs.slice(0, 2));
    await httpReplies(lab, VIP, 6);
    const ok = await until(async () => /198\.18\.1\.1[12]:80\s+Masq\s+1\s+0\s+3/.test(await k.adm('-L', '-n')), 4000);
    const listing = await k.adm('-L', '-n');
    assert.ok(ok, listing);
    const conns = await k.adm('-L', '-n', '-c');
    assert.equal((conns.match(/TIME_WAIT\s+198\.18\.0\.10:\d+\s+198\.18\.0\.100:80\s+198\.18\.1\.1[12]:80/g) ?? []).length, 6, conns);
    await k.adm('-C');
  });

  await sub('sh and persistence in the kernel: every client sticks to one RS', async () => {
    await addService(k, 'sh', rs);
    const replies = await httpReplies(lab, VIP, 48, SRCS);
    const byClient = new Map<string, Set<number>>();
    for (const r of replies) {
      const c = r.split(' ')[1].split(':')[0];
      byClient.set(c, (byClient.get(c) ?? new Set()).add(rsIndex(lab, r)));
    }
    assert.equal(byClient.size, 16);
    for (const [c, s] of byClient) assert.equal(s.size, 1, `sh: ${c} went to ${[...s]}`);
    assert.ok(new Set(replies.map((r) => rsIndex(lab, r))).size >= 2, 'sh spreads clients');
    await k.adm('-C');

    await addService(k, 'rr', rs, ['-p', '30']);
    const p = await httpReplies(lab, VIP, 48, SRCS);
    const firstOf = new Map<string, number>();
    for (const r of p) {
      const c = r.split(' ')[1].split(':')[0];
      if (!firstOf.has(c)) firstOf.set(c, rsIndex(lab, r));
      assert.equal(rsIndex(lab, r), firstOf.get(c), `persistence: ${c}`);
    }
    // New clients are scheduled rr: the 16 first connections go 1,2,3,1,2,3,… over the RS order.
    assert.deepEqual([...firstOf.values()].slice(0, 6), replaySequence(replayDirector('rr', rs), flowsOf(p.slice(0, 6))));
    const template = await k.adm('-L', '-n');
    assert.match(template, /rr persistent 30/);
    await k.adm('-C');
  });

  await sub('FULLNAT: the RS sees the DIP and needs no route back; port mapping', async () => {
    await lab.rsGateway('router');
    try {
      await addService(k, 'rr', rs.slice(0, 2).map((x) => ({ ...x, fwd: '--fullnat' })), [], `${VIP}:8080`);
      const replies = await httpReplies(lab, `${VIP}:8080`, 6);
      assert.deepEqual(replies.map((r) => rsIndex(lab, r)), [1, 0, 1, 0, 1, 0], replies.join(', '));
      for (const r of replies) assert.match(r, /^kpe\d+r[12] 198\.18\.1\.1:\d+$/, 'the RS sees the DIP');
    } finally {
      await k.adm('-C');
      await lab.rsGateway('dip');
    }
  });

  await sub('UDP and firewall-mark services', async () => {
    await k.adm('-A', '-u', `${VIP}:53`, '-s', 'rr');
    await k.adm('-a', '-u', `${VIP}:53`, '-r', `${LAB.rs[0]}:53`, '-m');
    await k.adm('-a', '-u', `${VIP}:53`, '-r', `${LAB.rs[1]}:53`, '-m');
    const u = await client<{ replies: string[] }>(lab, 'udp', VIP, '4');
    assert.deepEqual(u.replies.map((r) => rsIndex(lab, r)), [1, 0, 1, 0], u.replies.join(', '));
    await k.adm('-C');

    // The seed's recipe: iptables mangle marks the packets, the service is the mark.
    const mark = ['-t', 'mangle', '-A', 'PREROUTING', '-d', `${VIP}/32`, '-p', 'tcp', '--dport', '8081', '-j', 'MARK', '--set-mark', '5'];
    assert.equal((await inNs(lab.ns.director, ['iptables-nft', ...mark])).code, 0);
    try {
      await k.adm('-A', '-f', '5', '-s', 'rr');
      await k.adm('-a', '-f', '5', '-r', `${LAB.rs[2]}:80`, '-m');
      const f = await httpReplies(lab, `${VIP}:8081`, 3);
      assert.deepEqual(f.map((r) => rsIndex(lab, r)), [2, 2, 2], f.join(', '));
    } finally {
      await inNs(lab.ns.director, ['iptables-nft', ...mark.map((a) => (a === '-A' ? '-D' : a))]);
      await k.adm('-C');
    }
  });

  await sub('one-packet (-o) UDP: every datagram of one client socket is scheduled on its own, replies come from VIP:port', async () => {
    // Earlier cases' UDP entries (they live 30 s) must not be mistaken for this one's.
    await inNs(lab.ns.director, ['conntrack', '-D', '-p', 'udp', '--orig-dst', VIP]);
    await k.adm('-A', '-u', `${VIP}:53`, '-s', 'rr', '-o');
    for (const rip of LAB.rs) await k.adm('-a', '-u', `${VIP}:53`, '-r', `${rip}:53`, '-m');
    // One connected socket (one 5-tuple): without -o conntrack would keep every datagram on one RS.
    const u = await client<{ replies: string[] }>(lab, 'udp1', `${VIP}:53`, '6');
    assert.deepEqual(u.replies.map((r) => rsIndex(lab, r)), [2, 1, 0, 2, 1, 0], u.replies.join(', '));
    for (const r of u.replies) assert.match(r, /^kpe\d+r\d 198\.18\.0\.10$/, 'the RS sees the client');
    const ct = (await inNs(lab.ns.director, ['conntrack', '-L', '-p', 'udp', '--orig-dst', VIP])).stdout;
    assert.doesNotMatch(ct, /dport=53/, `one-packet datagrams are never tracked:\n${ct}`);
    await k.adm('-C');
    // The same service without -o: one socket, one flow, one RS.
    await k.adm('-A', '-u', `${VIP}:53`, '-s', 'rr');
    for (const rip of LAB.rs) await k.adm('-a', '-u', `${VIP}:53`, '-r', `${rip}:53`, '-m');
    const f = await client<{ replies: string[] }>(lab, 'udp1', `${VIP}:53`, '3');
    assert.equal(new Set(f.replies.map((r) => rsIndex(lab, r))).size, 1, f.replies.join(', '));
  });

  await sub('quiesce, remove, add and a reload (-C then -R) under load: no established connection breaks', async () => {
    await addService(k, 'wrr', rs.map((x) => ({ ...x, port: 9000 })), [], `${VIP}:9000`);
    const load = client<{ conns: { rs: string; sent: number; received: number; error: string | null }[] }>(lab, 'hold', `${VIP}:9000`, '12', '4500');
    await new Promise((r) => setTimeout(r, 700));
    await k.adm('-e', '-t', `${VIP}:9000`, '-r', `${LAB.rs[0]}:9000`, '-m', '-w', '0');
    await new Promise((r) => setTimeout(r, 500));
    await k.adm('-d', '-t', `${VIP}:9000`, '-r', `${LAB.rs[1]}:9000`);
    await new Promise((r) => setTimeout(r, 500));
    await k.adm('-a', '-t', `${VIP}:9000`, '-r', `${LAB.rs[1]}:9000`, '-m', '-w', '2');
    const saved = await k.adm('-S', '-n');
    await k.adm('-C');
    const restored = await exec('sh', ['-c', `KEEPVS_SOCKET=${k.socket} "$0" -R`, `${ROOT}/bin/keepvsadm`], { input: saved });
    assert.equal(restored.code, 0, restored.stderr);
    const r = await load;
    assert.equal(r.conns.length, 12);
    for (const c of r.conns) {
      assert.equal(c.error, null, JSON.stringify(c));
      assert.ok(c.received >= c.sent - 1 && c.received > 40, JSON.stringify(c));
    }
    assert.ok(new Set(r.conns.map((c) => c.rs)).size === 3, 'the load used every RS');
    await k.adm('-C');
  });

  await sub('queue path: each scheduler decides exactly as the core, and the kernel obeys', async () => {
    await k.stop();
    // The connection view is slowed down so the director's counts come only from its own decisions
    // (every earlier connection inactive), which the replay reproduces.
    k = await startNftDaemon(lab, {}, ['--nft-view-interval=3600000']);
    const rows: { sched: SchedulerName; weights: number[]; flags?: string[]; flagBits?: number; x?: number; srcs?: boolean; persist?: number }[] = [
      { sched: 'lc', weights: [1, 1, 1] },
      { sched: 'wlc', weights: [3, 1, 2] },
      { sched: 'sed', weights: [3, 1, 2] },
      { sched: 'nq', weights: [3, 1, 2] },
      { sched: 'fo', weights: [1, 5, 2] },
      { sched: 'ovf', weights: [4, 8, 2] },
      { sched: 'mh', weights: [1, 1, 1], srcs: true },
      { sched: 'sh', weights: [1, 2, 1], flags: ['-b', 'sh-fallback'], flagBits: SVC_F.SCHED1, srcs: true },
      { sched: 'lblc', weights: [1, 1, 1] },
      { sched: 'lblcr', weights: [1, 1, 1] },
      { sched: 'rr', weights: [1, 1, 1], x: 1000 },
      { sched: 'twos', weights: [1, 2, 3] },
      { sched: 'wlc', weights: [1, 1, 1], srcs: true, persist: 60 },
    ];
    for (const [i, row] of rows.entries()) {
      // A port per row: re-adding a dest to the same service would revive it from the trash with
      // the previous row's connections (ip_vs_trash_get_dest), which the replay does not have.
      const vport = 8100 + i;
      const dests = rs.map((x, j) => ({ ...x, weight: row.weights[j], x: row.x }));
      await addService(k, row.sched, dests, [...(row.flags ?? []), ...(row.persist ? ['-p', String(row.persist)] : [])], `${VIP}:${vport}`);
      const replies = await httpReplies(lab, `${VIP}:${vport}`, row.persist ? 32 : 15, row.srcs ? SRCS : undefined);
      if (row.persist) {
        // Persistence across connections: both connections of each client went to one RS.
        for (const src of SRCS) assert.equal(new Set(replies.filter((r) => r.includes(` ${src}:`)).map((r) => rsIndex(lab, r))).size, 1, src);
      }
      assert.ok(replies.every((r) => /^kpe\d+r\d /.test(r)), `${row.sched}: ${replies.join(', ')}`);
      // The kernel forwarded each connection where the core said: per real server, the connections
      // that reached it are exactly the ones the director counted for it (Conns never expire).
      const stats = await k.adm('-L', '-n', '--stats');
      const section = stats.slice(stats.indexOf(`198.18.0.100:${vport}`)).split('\n').slice(1);
      for (const [j, rip] of LAB.rs.entries()) {
        const line = section.find((l) => l.includes(`-> ${rip}:80`));
        const counted = line ? Number(line.trim().split(/\s+/)[2]) : 0;
        assert.equal(counted, replies.filter((r) => rsIndex(lab, r) === j).length, `${row.sched}: ${rip}\n${stats}`);
      }
      if (row.sched !== 'twos') {
        const d = replayDirector(row.sched, dests.map((x) => ({ ...x })), row.flagBits ?? 0, row.persist, vport);
        if (row.x) for (const x of dests) d.editDest(d.services()[0].key, { addr: addr(x.rip), port: 80, fwd: 'masq', weight: x.weight, uThreshold: row.x, lThreshold: 0 });
        assert.deepEqual(replies.map((r) => rsIndex(lab, r)), replaySequence(d, flowsOf(replies, vport)), `${row.sched}: ${replies.join(', ')}`);
      }
      await k.adm('-C');
    }
  });

  await sub('--exact-path: a wrr service takes the queue path; its first packets are the core\'s decisions', async () => {
    const metric = async (): Promise<number> => {
      const r = await exec('curl', ['-s', '--unix-socket', k.socket, 'http://keepvs/metrics']);
      const m = /^keepvs_dataplane_drops_total\{reason="queue-decisions"\} (\d+)/m.exec(r.stdout);
      return m ? Number(m[1]) : 0;
    };
    const dests = rs.map((x, i) => ({ ...x, weight: [3, 1, 2][i] }));
    await addService(k, 'wrr', dests, ['--exact-path'], `${VIP}:8200`);
    assert.match(await k.adm('-S', '-n'), /^-A -t 198\.18\.0\.100:8200 -s wrr --exact-path$/m);
    assert.doesNotMatch(await k.adm('-L', '-n'), /exact/);
    const chain = (await inNs(lab.ns.director, ['nft', 'list', 'ruleset'])).stdout;
    assert.match(chain, /chain s\d+ \{\s+meta mark set 0x6c00[0-9a-f]{4} accept/, chain);
    const before = await metric();
    const replies = await httpReplies(lab, `${VIP}:8200`, 12);
    assert.ok(await metric() - before >= 12, `queue decisions: ${before} -> ${await metric()}`);
    assert.deepEqual(replies.map((r) => rsIndex(lab, r)), replaySequence(replayDirector('wrr', dests, 0, undefined, 8200), flowsOf(replies, 8200)), replies.join(', '));
    // -E without the flag: back to the kernel (no new queue decisions).
    await k.adm('-E', '-t', `${VIP}:8200`, '-s', 'wrr');
    const mid = await metric();
    await httpReplies(lab, `${VIP}:8200`, 4);
    assert.equal(await metric(), mid);
  });

  await sub('queue not answered: fallback (default) forwards in the kernel; drop drops; never the director', async () => {
    for (const failure of ['fallback', 'drop'] as const) {
      await k.stop();
      // The flags here, their KEEPVS_NFT_* variables in the benchmark: both ways in use.
      k = await startNftDaemon(lab, {}, ['--nft-no-queue', `--nft-queue-failure=${failure}`]);
      await addService(k, 'lc', rs);
      const replies = await httpReplies(lab, VIP, failure === 'fallback' ? 6 : 2);
      if (failure === 'fallback') {
        assert.deepEqual(replies.map((r) => rsIndex(lab, r)), [2, 1, 0, 2, 1, 0], replies.join(', '));
      } else {
        for (const r of replies) assert.match(r, /^(timeout|error )/, r);
      }
      for (const r of replies) assert.doesNotMatch(r, /DIRECTOR/);
      const counters = (await inNs(lab.ns.director, ['nft', 'list', 'counters', 'table', 'ip', 'keepvs'])).stdout;
      assert.match(counters, new RegExp(`counter queue_${failure === 'fallback' ? 'fallback' : 'fail'} \\{\\s+packets [1-9]`), counters);
      await k.adm('-C');
    }
    await k.stop();
    k = await startNftDaemon(lab);
  });

  await sub('DR: the RS answers the client directly; no reply crosses the director; flows survive quiesce and removal', async () => {
    await lab.rsGateway('router');
    await lab.drVip(true);
    try {
      await addService(k, 'rr', rs.map((x) => ({ ...x, fwd: '-g' })));
      await addService(k, 'rr', rs.map((x) => ({ ...x, port: 9000, fwd: '-g' })), [], `${VIP}:9000`);
      const cap = spawn('ip', ['netns', 'exec', lab.ns.director, 'tcpdump', '-n', '-l', '-i', 'any', '-c', '5000', 'tcp and host 198.18.0.100'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let captured = '';
      cap.stdout!.setEncoding('utf8').on('data', (d: string) => { captured += d; });
      await new Promise((r) => setTimeout(r, 1000));
      const replies = await httpReplies(lab, VIP, 9);
      assert.deepEqual(replies.map((r) => rsIndex(lab, r)), [2, 1, 0, 2, 1, 0, 2, 1, 0], replies.join(', '));
      for (const r of replies) assert.match(r, /^kpe\d+r\d 198\.18\.0\.10:\d+$/, 'DR keeps the client address');
      const load = client<{ conns: { rs: string; sent: number; received: number; error: string | null }[] }>(lab, 'hold', `${VIP}:9000`, '6', '3000');
      await new Promise((r) => setTimeout(r, 800));
      await k.adm('-e', '-t', `${VIP}:9000`, '-r', `${LAB.rs[0]}:9000`, '-g', '-w', '0');
      await new Promise((r) => setTimeout(r, 500));
      await k.adm('-d', '-t', `${VIP}:9000`, '-r', `${LAB.rs[1]}:9000`);
      const held = await load;
      for (const c of held.conns) assert.equal(c.error, null, JSON.stringify(c));
      for (const c of held.conns) assert.ok(c.received > 20, JSON.stringify(c));
      const listing = await k.adm('-L', '-n', '-c');
      assert.match(listing, /ESTABLISHED\s+198\.18\.0\.10:\d+\s+198\.18\.0\.100:80\s+198\.18\.1\.1\d:80|198\.18\.0\.100:9000/, listing);
      cap.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      const lines = captured.split('\n').filter((l) => l.includes(' IP '));
      assert.ok(lines.some((l) => / > 198\.18\.0\.100\.80: /.test(l)), `the capture saw the requests:\n${captured}`);
      assert.deepEqual(lines.filter((l) => / IP 198\.18\.0\.100\.\d+ > /.test(l)), [], 'no reply crosses the director');
    } finally {
      await k.adm('-C');
      await lab.drVip(false);
      await lab.rsGateway('dip');
    }
  });

  await sub('TUN over VXLAN (--nft-tunnel=vxlan): -i real servers get the packet unchanged inside UDP; replies bypass the director', async () => {
    await k.stop();
    k = await startNftDaemon(lab, {}, ['--nft-tunnel=vxlan:107']);
    await lab.rsGateway('router');
    await lab.drVip(true);
    // The real server's side (docs/dataplane-nft.md): a VXLAN device with the agreed MAC.
    for (const [i, r] of lab.ns.rs.entries()) {
      assert.equal((await inNs(r, ['ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '107', 'dstport', '4789', 'local', LAB.rs[i], 'dev', 'eth0'])).code, 0);
      await inNs(r, ['ip', 'link', 'set', 'vx0', 'address', '02:6b:76:73:76:78', 'up']);
      await inNs(r, ['sysctl', '-qw', 'net.ipv4.conf.vx0.rp_filter=0']);
    }
    try {
      await addService(k, 'rr', rs.slice(0, 2).map((x) => ({ ...x, fwd: '-i' })));
      assert.match(await k.adm('-L', '-n'), /198\.18\.1\.11:80\s+Tunnel/);
      // Link counters (tcpdump on the director captured nothing once the external VXLAN device
      // existed): requests leave through kvx0, each RS's VXLAN device receives its share, and the
      // director's client-side link sends (almost) nothing — the replies go RS -> router -> client.
      const stats = async (ns: string, dev: string): Promise<{ rx: number; tx: number }> => {
        const j = JSON.parse((await inNs(ns, ['ip', '-s', '-j', 'link', 'show', dev])).stdout) as { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
        return { rx: j[0].stats64.rx.packets, tx: j[0].stats64.tx.packets };
      };
      const front = await stats(lab.ns.director, 'eth0');
      const replies = await httpReplies(lab, VIP, 6);
      assert.deepEqual(replies.map((r) => rsIndex(lab, r)), [1, 0, 1, 0, 1, 0], replies.join(', '));
      for (const r of replies) assert.match(r, /^kpe\d+r[12] 198\.18\.0\.10:\d+$/, 'TUN keeps the client address');
      const after = await stats(lab.ns.director, 'eth0');
      assert.ok(after.rx - front.rx >= 24, `requests came in (${after.rx - front.rx} packets)`);
      assert.ok(after.tx - front.tx < 6, `no reply crosses the director (${after.tx - front.tx} packets out on eth0)`);
      assert.ok((await stats(lab.ns.director, 'kvx0')).tx >= 18, 'requests went out through kvx0');
      for (const r of lab.ns.rs.slice(0, 2)) assert.ok((await stats(r, 'vx0')).rx >= 9, `${r} decapsulated its share`);
      // A removed TUN dest keeps its route (and the device) while its flows may live; stop removes it.
      assert.equal(await k.stop(), 0);
      assert.doesNotMatch((await inNs(lab.ns.director, ['ip', 'link'])).stdout, /kvx0/, 'stop removes the VXLAN device');
    } finally {
      if (k.child.exitCode === null) await k.adm('-C').catch(() => undefined);
      for (const r of lab.ns.rs) await inNs(r, ['ip', 'link', 'del', 'vx0']);
      await lab.drVip(false);
      await lab.rsGateway('dip');
      await k.stop();
      k = await startNftDaemon(lab);
    }
  });

  await sub('stop removes the table, the ip rules and the iptables chain', async () => {
    await addService(k, 'lc', rs.map((x) => ({ ...x, fwd: '-g' })));
    assert.match((await inNs(lab.ns.director, ['ip', 'rule'])).stdout, /lookup local proto 107/);
    assert.equal(await k.stop(), 0);
    assert.doesNotMatch((await inNs(lab.ns.director, ['nft', 'list', 'tables'])).stdout, /keepvs/);
    const rules = (await inNs(lab.ns.director, ['ip', 'rule'])).stdout;
    assert.match(rules, /^0:\s+from all lookup local/m);
    assert.doesNotMatch(rules, /proto 107|fwmark/);
    assert.doesNotMatch((await inNs(lab.ns.director, ['iptables-nft', '-t', 'mangle', '-S'])).stdout, /KEEPVS/);
    k = await startNftDaemon(lab);
  });
});
