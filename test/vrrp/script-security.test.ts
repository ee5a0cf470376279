// script_user and enable_script_security for VRRP scripts (keepalived vrrp.c check_vrrp_script_security,
// core/notify.c check_script_secure): every vrrp_script and notify script runs as its account; one the
// checks refuse is not run, and a refused vrrp_script is taken out of the instances' tracking. The host's
// account lookup and file checks are faked here (src/sys/exec.ts does them on a real host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNet, stateOf, type FakeNode } from './fake-host.ts';
import type { VrrpConfig, VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import type { ScriptCheck, ScriptIdentity } from '../../src/sys/exec.ts';

const S = 1_000_000;

const USERS: Record<string, ScriptIdentity> = { keepalived_script: { uid: 900, gid: 900 }, web: { uid: 1000, gid: 1000 } };

function withScripts(n: FakeNode, refuse: Record<string, ScriptCheck['verdict']>): void {
  (n.host as { scripts?: unknown }).scripts = {
    identity: (user: { user: string } | null) => USERS[user?.user ?? 'keepalived_script'] ?? null,
    check: (argv0: string): ScriptCheck => ({ verdict: refuse[argv0] ?? 'ok', path: argv0, reason: refuse[argv0] ? `${argv0} is writable by non-root users` : '' }),
  };
}

function inst(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, advert_int: 1, virtual_ipaddress: ['198.18.10.100/24 dev eth0'], ...over };
}

test('scripts run as their user, else script_user, else keepalived_script', async () => {
  const rows: { desc: string; cfg: VrrpConfig; chkUid: number; notifyUid: number }[] = [
    {
      desc: 'no script_user: keepalived_script for both',
      cfg: { vrrp_script: [{ name: 'chk', script: '/usr/local/bin/chk' }], vrrp_instance: [inst({ priority: 150, track_script: [{ name: 'chk' }], notify: '/usr/local/bin/notify' })] },
      chkUid: 900, notifyUid: 900,
    },
    {
      desc: 'the vrrp_script\'s own user; notify takes script_user',
      cfg: {
        global_defs: { script_user: { user: 'web' } },
        vrrp_script: [{ name: 'chk', script: '/usr/local/bin/chk', user: { user: 'keepalived_script' } }],
        vrrp_instance: [inst({ priority: 150, track_script: [{ name: 'chk' }], notify: '/usr/local/bin/notify' })],
      },
      chkUid: 900, notifyUid: 1000,
    },
  ];
  for (const r of rows) {
    const net = new FakeNet();
    const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
    withScripts(a, {});
    await net.start(a, r.cfg);
    await net.run(5 * S);
    assert.equal(stateOf(a), 'MASTER', r.desc);
    assert.ok(a.execs.filter((e) => e.argv[0] === '/usr/local/bin/chk').every((e) => e.uid === r.chkUid), r.desc);
    const notes = a.execs.filter((e) => e.argv[0] === '/usr/local/bin/notify');
    assert.ok(notes.length > 0 && notes.every((e) => e.uid === r.notifyUid), r.desc);
    await a.proc!.stop();
  }
});

test('enable_script_security: a refused vrrp_script is not run and not tracked; a refused notify script is not run', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  withScripts(a, { '/tmp/chk': 'disabled', '/tmp/notify': 'disabled', '/usr/local/bin/missing': 'not-found' });
  await net.start(a, {
    global_defs: { enable_script_security: true },
    vrrp_script: [{ name: 'chk', script: '/tmp/chk' }, { name: 'gone', script: '/usr/local/bin/missing', weight: -100 }],
    vrrp_instance: [inst({ priority: 150, track_script: [{ name: 'chk' }, { name: 'gone' }], notify: '/tmp/notify', notify_master: '/usr/local/bin/master' })],
  });
  await net.run(5 * S);
  // Without the refusal the weight-0 script would hold the instance in FAULT until it reports.
  assert.equal(stateOf(a), 'MASTER');
  assert.equal(a.proc!.status().instances[0].effectivePriority, 150, 'the refused weighted script does not count');
  assert.deepEqual(a.execs.map((e) => e.argv[0]), ['/usr/local/bin/master'], 'only the accepted notify_master ran');
  const logs = a.logs.join('\n');
  assert.match(logs, /Disabling track script chk due to insecure/);
  assert.match(logs, /Disabling track script gone since not found\/accessible/);
  assert.match(logs, /Disabling notify script \/tmp\/notify/);
  await a.proc!.stop();
});

test('an unknown script user disables the script', async () => {
  const net = new FakeNet();
  const a = net.node('vra', '198.18.10.1', '02:00:c6:12:0a:01');
  withScripts(a, {});
  await net.start(a, {
    vrrp_script: [{ name: 'chk', script: '/usr/local/bin/chk', user: { user: 'ghost' } }],
    vrrp_instance: [inst({ priority: 150, track_script: [{ name: 'chk' }] })],
  });
  await net.run(5 * S);
  assert.equal(a.execs.length, 0);
  assert.match(a.logs.join('\n'), /Disabling track script chk: script user ghost does not exist/);
  await a.proc!.stop();
});
