// vrrp_track_process (src/vrrp/track-process.ts, src/sys/proc-scan.ts): matching a process by name and
// parameters, the quorum with fork/terminate delays, /proc parsing, and whole processes on the
// in-memory LAN (a fake clock, a scripted process list) going to FAULT or handing over mastership.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeNet, stateOf } from './fake-host.ts';
import { resolveVrrpConfig, type TrackProcessConfig, type VrrpConfig, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { countMatches, initialProcessTracker, processMatches, stepProcessTracker, type ResolvedTrackProcess } from '../../src/vrrp/track-process.ts';
import { parseCmdline, parseStat, readProcesses, type ProcessEntry } from '../../src/sys/proc-scan.ts';

const S = 1_000_000;

function tracker(t: Partial<TrackProcessConfig>): ResolvedTrackProcess {
  const r = resolveVrrpConfig({ vrrp_track_process: [{ name: 'p', process: 'haproxy', ...t }], vrrp_instance: [] });
  return r.vrrp.trackProcesses[0];
}

const proc = (pid: number, comm: string, argv: string[]): ProcessEntry => ({ pid, comm, argv });

test('processMatches: by comm, or by argv[0] with parameters (exact / partial / initial)', () => {
  const hap = proc(10, 'haproxy', ['/usr/sbin/haproxy', '-f', '/etc/haproxy/haproxy.cfg', '-Ws']);
  const long = proc(11, 'a-very-long-com', ['/opt/bin/a-very-long-command-name']);
  const rows: { desc: string; t: Partial<TrackProcessConfig>; p: ProcessEntry; want: boolean }[] = [
    { desc: 'comm equal', t: {}, p: hap, want: true },
    { desc: 'comm differs', t: { process: 'nginx' }, p: hap, want: false },
    { desc: 'comm is cut to 15 bytes by the kernel', t: { process: 'a-very-long-com' }, p: long, want: true },
    { desc: 'full_command compares argv[0]', t: { process: '/usr/sbin/haproxy', full_command: true }, p: hap, want: true },
    { desc: 'full_command: the comm no longer matches', t: { full_command: true }, p: hap, want: false },
    { desc: 'parameters imply exact: all of them', t: { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/haproxy.cfg', '-Ws'] }, p: hap, want: true },
    { desc: 'exact: one missing', t: { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/haproxy.cfg'] }, p: hap, want: false },
    { desc: 'partial: leading whole arguments', t: { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/haproxy.cfg'], param_match: 'partial' }, p: hap, want: true },
    { desc: 'partial: a prefix of an argument is not enough', t: { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/'], param_match: 'partial' }, p: hap, want: false },
    { desc: 'initial: the last one may be a prefix', t: { process: '/usr/sbin/haproxy', params: ['-f', '/etc/haproxy/'], param_match: 'initial' }, p: hap, want: true },
    { desc: 'initial: earlier ones must be whole', t: { process: '/usr/sbin/haproxy', params: ['-', '/etc/haproxy/'], param_match: 'initial' }, p: hap, want: false },
    { desc: 'param_match exact without parameters: none allowed', t: { process: '/usr/sbin/haproxy', param_match: 'exact' }, p: hap, want: false },
  ];
  for (const r of rows) assert.equal(processMatches(tracker(r.t), r.p), r.want, r.desc);
  assert.equal(countMatches(tracker({}), [hap, hap, long]), 2);
});

test('quorum with fork_delay and terminate_delay; a change back before the delay cancels it', () => {
  const t = tracker({ quorum: 2, quorum_max: 3, fork_delay: 2, terminate_delay: 5 });
  const rows: { desc: string; count: number; at: number; up: boolean; pending: boolean }[] = [
    { desc: 'two processes: quorum gained after fork_delay', count: 2, at: 0, up: false, pending: true },
    { desc: '...not yet at 1.9 s', count: 2, at: 1.9 * S, up: false, pending: true },
    { desc: '...at 2 s', count: 2, at: 2 * S, up: true, pending: false },
    { desc: 'four processes: above quorum_max, terminate_delay starts', count: 4, at: 3 * S, up: true, pending: true },
    { desc: 'back to three before 5 s: cancelled', count: 3, at: 4 * S, up: true, pending: false },
    { desc: 'one process: losing quorum waits terminate_delay', count: 1, at: 10 * S, up: true, pending: true },
    { desc: '...lost at 15 s', count: 1, at: 15 * S, up: false, pending: false },
  ];
  let s = initialProcessTracker(t, 0);
  assert.equal(s.up, false);
  for (const r of rows) {
    s = stepProcessTracker(t, s, r.count, r.at);
    assert.equal(s.up, r.up, r.desc);
    assert.equal(s.changeAt !== null, r.pending, r.desc);
  }
  assert.equal(initialProcessTracker(tracker({ quorum_max: 0 }), 0).up, true, 'quorum_max 0: up while no such process runs');
  assert.equal(initialProcessTracker(tracker({}), 1).up, true, 'default quorum 1, no maximum');
  assert.equal(initialProcessTracker(tracker({}), 500).up, true);
});

test('/proc parsing: comm in parentheses, zombies skipped, argv split at NUL', (t) => {
  assert.deepEqual(parseStat('1234 (my (odd) name) S 1 1234'), { comm: 'my (odd) name', state: 'S' });
  assert.equal(parseStat('99 (defunct) Z 1 99'), null);
  assert.deepEqual(parseCmdline('/usr/sbin/haproxy\0-f\0/etc/h.cfg\0'), ['/usr/sbin/haproxy', '-f', '/etc/h.cfg']);
  assert.deepEqual(parseCmdline(''), []);
  const dir = mkdtempSync(join(tmpdir(), 'kpd-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (pid: string, stat: string, cmdline: string) => {
    mkdirSync(join(dir, pid));
    writeFileSync(join(dir, pid, 'stat'), stat);
    writeFileSync(join(dir, pid, 'cmdline'), cmdline);
  };
  fake('10', '10 (haproxy) S 1 10', '/usr/sbin/haproxy\0-Ws\0');
  fake('11', '11 (haproxy) Z 1 11', '');
  mkdirSync(join(dir, 'self'));
  assert.deepEqual(readProcesses(dir), [{ pid: 10, comm: 'haproxy', argv: ['/usr/sbin/haproxy', '-Ws'] }]);
  assert.ok(readProcesses('/proc').some((p) => p.pid === process.pid), 'this test process is listed');
});

function inst(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1, virtual_ipaddress: ['198.18.10.100/24 dev eth0'], ...over };
}

test('track_process weight 0: FAULT while the process is missing (after terminate_delay), back when it returns', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const haproxy = proc(500, 'haproxy', ['/usr/sbin/haproxy']);
  a.processes = [haproxy];
  const cfg: VrrpConfig = {
    vrrp_track_process: [{ name: 'hap', process: 'haproxy', terminate_delay: 2 }],
    vrrp_instance: [inst({ priority: 150, track_process: [{ name: 'hap' }] })],
  };
  await net.start(a, cfg);
  await net.run(4 * S);
  assert.equal(stateOf(a), 'MASTER');
  a.processes = [];
  await net.run(2 * S);
  assert.equal(stateOf(a), 'MASTER', 'terminate_delay (2 s) has not run out at the first polls');
  await net.run(1.5 * S);
  assert.equal(stateOf(a), 'FAULT');
  assert.match(a.logs.join('\n'), /Track process hap lost quorum \(0 processes, quorum 1\.\.Infinity\)/);
  a.processes = [haproxy];
  await net.run(1.5 * S);
  assert.notEqual(stateOf(a), 'FAULT', 'the process is back: no fork_delay, up at the next poll');
  await a.proc!.stop();
});

test('track_process with a negative weight hands mastership to the peer', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  const b = net.node('vrb', '198.18.10.2', '02:00:c6:12:0a:02');
  const nginx = proc(700, 'nginx', ['nginx: master process /usr/sbin/nginx']);
  a.processes = [nginx];
  await net.start(a, {
    vrrp_track_process: [{ name: 'web', process: 'nginx', weight: -60 }],
    vrrp_instance: [inst({ priority: 150, track_process: [{ name: 'web' }] })],
  });
  await net.start(b, { vrrp_instance: [inst({ priority: 100 })] });
  await net.run(5 * S);
  assert.equal(stateOf(a), 'MASTER');
  a.processes = [];
  await net.run(1.5 * S);
  assert.equal(a.proc!.status().instances[0].effectivePriority, 90);
  await net.run(4 * S);
  assert.equal(stateOf(b), 'MASTER', 'vrb (100) preempts vra (150 - 60)');
  assert.equal(stateOf(a), 'BACKUP');
  await a.proc!.stop();
  await b.proc!.stop();
});
