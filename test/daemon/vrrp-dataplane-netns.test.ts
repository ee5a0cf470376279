// Two keepvs directors (keepvs -f, proxy data plane) share a VIP by VRRP and serve one virtual
// server on it. A client and the real server sit on the bridge between them; the real server answers
// with the address it sees, which is the serving director's own (the proxy plane runs NAT as
// FULLNAT). Proven: only the MASTER listens on VIP:port, the BACKUP does not; after the MASTER stops
// (priority 0) the client is served by the new MASTER; on failback the old BACKUP stops listening;
// `keepvsadm -L -n` lists the service on both directors throughout. The client's outage is measured.
// Needs root and iproute2; everything lives in its own namespaces (prefix kpd) on 198.18.0.0/15.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VrrpLab, labUnavailable, ROOT, type Side } from '../vrrp/netns-lab.ts';

const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const VPORT = 45080;
const RPORT = 45090;

function conf(lab: VrrpLab, side: Side, priority: number, rs: string): string {
  return `global_defs {
  router_id ${lab.ns(side)}
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority ${priority}
  advert_int 0.1
  virtual_ipaddress {
    ${lab.vip}/24 dev eth0
  }
}
virtual_server ${lab.vip} ${VPORT} {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server ${rs} ${RPORT} {
    weight 1
  }
}
`;
}

interface Director {
  readonly proc: ChildProcess;
  readonly socket: string;
  log(): string;
  stop(): Promise<void>;
}

function startKeepvs(lab: VrrpLab, side: Side, text: string): Director {
  const file = join(lab.dir, `${side}-keepalived.conf`);
  writeFileSync(file, text);
  const socket = join(lab.dir, `${side}.sock`);
  const proc = spawn('ip', ['netns', 'exec', lab.ns(side), join(ROOT, 'bin', 'keepvs'), '-l', '-f', file, '--control', socket,
    '--pid', join(lab.dir, `${side}.pid`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc, socket, log: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 8000).unref());
      if (await Promise.race([exited.then(() => 'ok' as const), t]) === 'timeout') {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Does `side` have a TCP listener on VIP:VPORT? */
function listens(lab: VrrpLab, side: Side): boolean {
  const r = spawnSync('ip', ['netns', 'exec', lab.ns(side), 'ss', '-Hltn', `sport = :${VPORT}`], { encoding: 'utf8' });
  return r.stdout.includes(`${lab.vip}:${VPORT}`);
}

function keepvsadmList(socket: string): string {
  const r = spawnSync(join(ROOT, 'bin', 'keepvsadm'), ['-L', '-n'], { encoding: 'utf8', env: { ...process.env, KEEPVS_SOCKET: socket }, timeout: 10_000 });
  return r.stdout + r.stderr;
}

// The client: connects to VIP:port every 10 ms (giving up on an attempt after 100 ms) for at most `seconds`, one line per attempt
// ("<ms> <answer>" or "<ms> !<error>"), until its stop file appears.
const CLIENT = `
const net = require('node:net'); const fs = require('node:fs');
const [vip, port, seconds, stopFile] = process.argv.slice(1);
const end = Date.now() + Number(seconds) * 1000;
function once() {
  if (Date.now() > end || fs.existsSync(stopFile)) process.exit(0);
  const t0 = Date.now(); let got = '';
  const s = net.connect({ host: vip, port: Number(port), timeout: 100 });
  const done = (r) => { s.destroy(); console.log(t0 + ' ' + r); setTimeout(once, 10); };
  s.on('data', (d) => { got += d; });
  s.on('end', () => done(got.trim() || '!empty'));
  s.on('timeout', () => done('!timeout'));
  s.on('error', (e) => done('!' + e.code));
}
once();
`;
const SERVER = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
net.createServer((s) => { s.end(s.remoteAddress.replace(/^::ffff:/, '') + '\\n'); s.on('error', () => {}); }).listen(Number(port), host);
`;

test('proxy plane + VRRP: only the MASTER serves the VIP; a client is served by the new MASTER after a failover', async (t) => {
  const why = labUnavailable();
  if (why) { t.skip(why); return; }
  if (spawnSync('ss', ['-V']).error) { t.skip('needs ss (iproute2)'); return; }
  const lab = VrrpLab.create('kpd');
  const procs: ChildProcess[] = [];
  const directors: Director[] = [];
  t.after(async () => {
    for (const d of directors) await d.stop();
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await lab.destroy();
  });
  const sw = lab.ns('sw');
  const rs = `${lab.subnet}.9`;
  spawnSync('ip', ['-n', sw, 'addr', 'add', `${rs}/24`, 'dev', 'br0']);
  spawnSync('ip', ['-n', sw, 'link', 'set', 'lo', 'up']);
  const server = spawn('ip', ['netns', 'exec', sw, NODE, '-e', SERVER, rs, String(RPORT)], { stdio: 'ignore' });
  procs.push(server);

  const a = startKeepvs(lab, 'a', conf(lab, 'a', 150, rs));
  directors.push(a);
  const b = startKeepvs(lab, 'b', conf(lab, 'b', 100, rs));
  directors.push(b);
  assert.ok(await lab.waitHolder('a', 20_000, 500), `a holds the VIP\n--- a\n${a.log()}\n--- b\n${b.log()}`);
  assert.ok(await lab.waitFor(() => listens(lab, 'a'), 5000), `a listens on the VIP\n${a.log()}`);
  assert.equal(listens(lab, 'b'), false, 'the BACKUP does not listen on the VIP');
  for (const [name, d] of [['a', a], ['b', b]] as const) {
    assert.match(keepvsadmList(d.socket), new RegExp(`TCP  ${lab.vip.replace(/\./g, '\\.')}:${VPORT} rr\\n  -> ${rs.replace(/\./g, '\\.')}:${RPORT}`), `keepvsadm -L -n on ${name}`);
  }
  assert.doesNotMatch(a.log() + b.log(), /cannot listen/, 'no bind error on either director');

  const stopFile = join(lab.dir, 'client.stop');
  const client = spawn('ip', ['netns', 'exec', sw, NODE, '-e', CLIENT, lab.vip, String(VPORT), '60', stopFile], { stdio: ['ignore', 'pipe', 'ignore'] });
  procs.push(client);
  let lines = '';
  client.stdout!.on('data', (d: Buffer) => { lines += d.toString(); });
  const answers = () => lines.trim().split('\n').filter(Boolean).map((l) => { const i = l.indexOf(' '); return { at: Number(l.slice(0, i)), r: l.slice(i + 1) }; });
  assert.ok(await lab.waitFor(() => answers().some((x) => x.r === lab.addr('a')), 10_000), `the client is served through a: ${lines}`);

  // Failover: a stops (priority 0); b takes over and must serve the VIP.
  const stopAt = Date.now();
  await a.stop();
  assert.ok(await lab.waitHolder('b', 10_000), `b holds the VIP\n${b.log()}`);
  assert.ok(await lab.waitFor(() => answers().some((x) => x.at >= stopAt && x.r === lab.addr('b')), 10_000), `the client is served through b: ${lines}\n${b.log()}`);
  assert.ok(listens(lab, 'b'), 'the new MASTER listens');
  const firstB = answers().find((x) => x.at >= stopAt && x.r === lab.addr('b'))!;
  const lastA = answers().filter((x) => x.r === lab.addr('a')).at(-1)!;
  const took = /data plane serving [0-9.]+ \((\d+) ms\)/.exec(b.log());
  console.log(`# outage seen by the client: ${firstB.at - lastA.at} ms (last answer via a → first via b); b's listener opened ${took?.[1] ?? '?'} ms after its VIP was added`);

  // Failback (preempt): a returns, takes the VIP; b releases it and stops listening.
  const a2 = startKeepvs(lab, 'a', conf(lab, 'a', 150, rs));
  directors.push(a2);
  const backAt = Date.now();
  assert.ok(await lab.waitHolder('a', 20_000, 300), `a holds the VIP again\n${a2.log()}`);
  assert.ok(await lab.waitFor(() => listens(lab, 'a') && !listens(lab, 'b'), 5000), 'after failback only a listens');
  assert.ok(await lab.waitFor(() => answers().some((x) => x.at >= backAt && x.r === lab.addr('a')), 10_000), `the client is served through a again: ${lines}`);
  assert.match(keepvsadmList(b.socket), new RegExp(`TCP  ${lab.vip.replace(/\./g, '\\.')}:${VPORT} rr`), 'the BACKUP still lists the service');
  writeFileSync(stopFile, '');
  // No answer came from a director that was not MASTER: every answer is a director's address.
  for (const x of answers()) assert.ok(x.r.startsWith('!') || x.r === lab.addr('a') || x.r === lab.addr('b'), `unexpected answer ${x.r}`);
});
