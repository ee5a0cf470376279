// SIGHUP with the checkers running (injected clock): only the difference is applied, and kept real
// servers keep their checker state (keepalived's clear_diff_services + migrate_checkers) — a down
// server is not put back by a reload, an alpha server that came up stays up, retries already used
// still count, the next check stays when it was due. A refused file changes nothing at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import type { ServiceKey } from '../../src/core/service.ts';
import type { ScriptVerdict } from '../../src/sys/exec.ts';
import { started, harness, vs, rs, CONF, SCRIPT } from './health-harness.ts';

const K80: ServiceKey = { kind: 'addr', protocol: 'tcp', vip: addr('10.0.0.1'), port: 80 };
const TWO = vs([rs(1, 'weight 3'), rs(2, 'weight 2')].join('\n'));

test('an identical file changes nothing: no operation, same objects, counters, checker state and schedule', async () => {
  const h = await started(TWO);
  await h.advance(1000);
  const svc = h.director.getService(K80)!;
  const dest = svc.findDest(addr('10.0.1.1'), 80)!;
  dest.stats.counters.conns = 42;
  const checker = h.runner.checker!;
  const before = checker.snapshot();
  const syncsBefore = h.plane.syncs;
  await h.advance(500);
  const r = await h.reload();
  assert.ok(r.ok, r.message);
  assert.deepEqual(r.ops, []);
  assert.equal(h.director.getService(K80), svc);
  assert.equal(svc.findDest(addr('10.0.1.1'), 80), dest);
  assert.equal(dest.stats.counters.conns, 42);
  assert.notEqual(h.runner.checker, checker, 'a new checker took over');
  assert.deepEqual(h.runner.checker!.snapshot(), before, 'with the same state, next checks included');
  assert.equal(h.plane.syncs, syncsBefore + 1);
  await h.advance(9_500);
  assert.deepEqual(h.calls.map((c) => c.at), [1000, 1000, 11_000, 11_000], 'checks keep their rhythm across the reload');
  assert.deepEqual(h.runner.status(), { file: CONF, stale: false, lastSuccessSeconds: 1_700_000_001, reloads: { success: 1, failure: 0 } });
});

test('a down real server stays down across a reload, and comes back on its next good check', async () => {
  const h = await started(TWO);
  h.answers.set('10.0.1.1:80', 'L4CON');
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.2:80 Masq 2']);
  const r = await h.reload(TWO.replace('lb_algo rr', 'lb_algo wrr'));
  assert.deepEqual(r.ops, ['edit-service TCP 10.0.0.1:80 (wrr)'], 'not re-added (init_service_rs: "Do not re-add failed RS instantly on reload")');
  h.answers.delete('10.0.1.1:80');
  await h.advance(10_000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 wrr', '  -> 10.0.1.1:80 Masq 3', '  -> 10.0.1.2:80 Masq 2']);
});

test('an alpha real server that came up stays up; a new alpha one waits for its first check, a new plain one is in at once', async () => {
  const h = await started(vs(rs(1, 'alpha')));
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1']);
  const r = await h.reload(vs([rs(1, 'alpha'), rs(2, 'alpha'), rs(3)].join('\n')));
  assert.deepEqual(r.ops, ['add-dest TCP 10.0.0.1:80 -> 10.0.1.3:80 (masq, weight 1)']);
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1', '  -> 10.0.1.2:80 Masq 1', '  -> 10.0.1.3:80 Masq 1']);
});

test('retries already used still count after a reload (migrate_checkers fits retry_it to the new retry)', async (t) => {
  const rows: { desc: string; retry: number; downAt: number }[] = [
    { desc: 'same retry 2: down at the third failure, as without a reload', retry: 2, downAt: 15_000 },
    { desc: 'retry lowered to 0: the next failure is enough', retry: 0, downAt: 13_000 },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const conf = (retry: number): string => vs(rs(1, '', `retry ${retry}\n      delay_before_retry 2`));
      const h = await started(conf(2));
      await h.advance(1000);
      h.answers.set('10.0.1.1:80', 'L4CON');
      await h.advance(10_500); // failed once at 11 s; next attempt due at 13 s
      assert.ok((await h.reload(conf(row.retry))).ok);
      await h.advance(row.downAt - 11_500 - 1);
      assert.equal(h.table().length, 2, 'still in');
      await h.advance(1);
      assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr']);
    });
  }
});

test('a changed checker starts afresh, the real server keeps its state meanwhile', async () => {
  const h = await started(TWO);
  await h.advance(1000);
  const r = await h.reload(TWO.replace('connect_timeout 3', 'connect_timeout 3\n      connect_port 8080'));
  assert.ok(r.ok);
  assert.deepEqual(r.ops, [], 'still in the table');
  h.answers.set('10.0.1.1:8080', 'L4CON');
  await h.advance(2000);
  assert.ok(h.calls.some((c) => c.target === '10.0.1.1:8080'), 'the new checker runs (first check after the bootstrap delay)');
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.2:80 Masq 2']);
});

test('edits, additions and removals are applied as such', async (t) => {
  const rows: { desc: string; next: string; ops: string[] }[] = [
    { desc: 'a weight changes', next: TWO.replace('weight 3', 'weight 7'), ops: ['edit-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (masq, weight 7)'] },
    { desc: 'a threshold is added', next: TWO.replace('weight 3', 'weight 3\n    uthreshold 100'), ops: ['edit-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (masq, weight 3)'] },
    { desc: 'a real server goes', next: vs(rs(2, 'weight 2')), ops: ['delete-dest TCP 10.0.0.1:80 -> 10.0.1.1:80'] },
    { desc: 'a virtual server comes', next: TWO + vs(rs(5), '', 443).replace(/real_server 10\.0\.1\.5 80/, 'real_server 10.0.1.5 443'),
      ops: ['add-service TCP 10.0.0.1:443 (rr)', 'add-dest TCP 10.0.0.1:443 -> 10.0.1.5:443 (masq, weight 1)'] },
    { desc: 'the virtual server goes', next: '', ops: ['delete-service TCP 10.0.0.1:80'] },
    { desc: 'persistence comes', next: TWO.replace('lb_kind NAT', 'lb_kind NAT\n  persistence_timeout 50'), ops: ['edit-service TCP 10.0.0.1:80 (rr)'] },
    { desc: 'it becomes DR, which this plane cannot serve: skipped, so removed', next: TWO.replace('lb_kind NAT', 'lb_kind DR'), ops: ['delete-service TCP 10.0.0.1:80'] },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const h = await started(TWO);
      await h.advance(1000);
      const r = await h.reload(row.next);
      assert.ok(r.ok, `${r.message}\n${h.logs.join('\n')}`);
      assert.deepEqual(r.ops, row.ops);
    });
  }
});

test('a kept misc_dynamic weight survives a reload that changes the configured weight', async () => {
  const conf = (w: number): string => `global_defs {\n  enable_script_security\n}\n${vs(`  real_server 10.0.1.1 80 {
    weight ${w}
    MISC_CHECK {
      misc_path "${SCRIPT} a"
      misc_dynamic
    }
  }`)}`;
  const h = await started(conf(10));
  h.exits.set('a', 7);
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 5']);
  const r = await h.reload(conf(20));
  assert.deepEqual(r.ops, [], 'the script said 5 (check_misc.c: migrate_misc_check rebuilds the share against the new weight)');
});

test('the sorry server: carried while it serves; dropped from the file, the real servers come back', async () => {
  const withSorry = vs([rs(1), rs(2)].join('\n'), '  quorum 2\n  sorry_server 10.0.9.9 8080');
  const h = await started(withSorry);
  h.answers.set('10.0.1.2:80', 'L4CON');
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.9.9:8080 Masq 1']);
  assert.deepEqual((await h.reload()).ops, [], 'identical: the sorry server keeps serving');
  const r = await h.reload(vs([rs(1), rs(2)].join('\n'), '  quorum 2'));
  assert.deepEqual(r.ops, ['delete-dest TCP 10.0.0.1:80 -> 10.0.9.9:8080', 'add-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (masq, weight 1)']);
});

test('a lowered quorum is gained on reload: the sorry server leaves', async () => {
  const conf = (q: number): string => vs([rs(1), rs(2)].join('\n'), `  quorum ${q}\n  sorry_server 10.0.9.9 8080`);
  const h = await started(conf(2));
  h.answers.set('10.0.1.2:80', 'L4CON');
  await h.advance(1000);
  const r = await h.reload(conf(1));
  assert.deepEqual(r.ops, ['delete-dest TCP 10.0.0.1:80 -> 10.0.9.9:8080', 'add-dest TCP 10.0.0.1:80 -> 10.0.1.1:80 (masq, weight 1)']);
});

test('a refused file: every diagnostic names its place, and nothing that runs changes', async (t) => {
  const base = TWO;
  const rows: { desc: string; text: string; files?: Record<string, string>; verdict?: string; where: RegExp }[] = [
    { desc: 'a broken file (a block left open)', text: base.replace(/}\n$/, ''), where: /keepalived\.conf: .*missing '}'|MISSING_CLOSE_BRACE/ },
    { desc: 'a wrong type', text: base.replace('weight 3', 'weight three'), where: /keepalived\.conf:\d+:\d+: error: .*three.*\{INVALID_NUMBER\}/ },
    { desc: 'a value out of range', text: base.replace('delay_loop 10', 'delay_loop 0'), where: /keepalived\.conf:\d+:\d+: error: .*delay_loop/ },
    { desc: 'an unknown keyword', text: base.replace('lb_algo rr', 'lb_algo rr\n  lb_magic on'), where: /keepalived\.conf:4:3: error: Unknown keyword 'lb_magic'.*\{UNKNOWN_KEYWORD\}/ },
    { desc: 'a missing include', text: `include /etc/keepalived/conf.d/missing.conf\n${base}`, where: /keepalived\.conf:1:\d+: warning: .*missing.conf.*\{INCLUDE_MISSING\}/ },
    { desc: 'a MISC_CHECK script that is not executable', verdict: 'not-executable',
      text: `global_defs {\n  enable_script_security\n}\n${base.replace('TCP_CHECK {', `MISC_CHECK {\n      misc_path "${SCRIPT} x"`)}`,
      where: /keepalived\.conf:\d+:\d+: error: MISC_CHECK misc_path \/usr\/local\/bin\/check-rs: .*\{SCRIPT_NOT_EXECUTABLE\}/ },
    { desc: 'a MISC_CHECK script that is not safe', verdict: 'disabled',
      text: `global_defs {\n  enable_script_security\n}\n${base.replace('TCP_CHECK {', `MISC_CHECK {\n      misc_path "${SCRIPT} x"`)}`,
      where: /keepalived\.conf:\d+:\d+: error: MISC_CHECK misc_path .*\{SCRIPT_INSECURE\}/ },
    { desc: 'scripts without enable_script_security', text: base.replace('TCP_CHECK {', `MISC_CHECK {\n      misc_path "${SCRIPT} x"`),
      where: /SECURITY VIOLATION.*\{SCRIPT_SECURITY\}/ },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const h = await started(base);
      h.answers.set('10.0.1.2:80', 'L4CON');
      await h.advance(1000);
      const table = h.table();
      const checker = h.runner.checker;
      const snapshot = checker!.snapshot();
      const svc = h.director.getService(K80);
      // The script exists for the parser (memory host); the checkers' own judgement refuses it.
      if (row.verdict) h.verdict = row.verdict as ScriptVerdict;
      const r = await h.reload(row.text);
      assert.equal(r.ok, false);
      assert.match(h.logs.join('\n'), row.where);
      assert.deepEqual(h.table(), table);
      assert.equal(h.runner.checker, checker, 'the running checkers carry on');
      assert.deepEqual(checker!.snapshot(), snapshot);
      assert.equal(h.director.getService(K80), svc);
      assert.equal(h.runner.status().stale, true);
      assert.deepEqual(h.runner.status().reloads, { success: 0, failure: 1 });
      // Still checking: the failed server comes back on its next check.
      h.answers.delete('10.0.1.2:80');
      await h.advance(10_000);
      assert.ok(h.table().includes('  -> 10.0.1.2:80 Masq 2'));
      // A good file clears the stale mark.
      assert.ok((await h.reload(base)).ok);
      assert.equal(h.runner.status().stale, false);
    });
  }
});

test('start-up refuses a file with errors, and keepvs -f starts nothing', async () => {
  const h = harness(TWO.replace('weight 3', 'weight -3'));
  const r = await h.start();
  assert.equal(r.ok, false);
  assert.match(r.message, /keepalived\.conf: \d+ error\(s\), the first: \/etc\/keepalived\/keepalived\.conf:\d+:\d+: error:/);
  assert.deepEqual(h.director.services(), []);
  assert.equal(h.runner.checker, null);
});
