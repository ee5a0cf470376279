// keepvs -f with the checkers running (injected clock, scripted answers): the director follows
// keepalived's checker process — what is in the table at start, when a failing real server leaves
// (retry + 1 attempts spaced by delay_before_retry, one failure at start-up), inhibit_on_failure,
// alpha, the sorry server on a lost quorum, misc_dynamic weights — and the plane is synced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { started, vs, rs, SCRIPT } from './health-harness.ts';

test('start-up: a real server without alpha is in the table at once with its weight; with alpha only after its first good check', async () => {
  const h = await started(vs([rs(1, 'weight 3'), rs(2, 'weight 2\n    alpha')].join('\n')));
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 3'], 'before any check');
  const syncs = h.plane.syncs;
  await h.advance(999);
  assert.deepEqual(h.table().length, 2, 'first checks come after BOOTSTRAP_DELAY (1 s, warmup 0 here)');
  await h.advance(1);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 3', '  -> 10.0.1.2:80 Masq 2']);
  assert.ok(h.plane.syncs > syncs, 'the plane was synced after the change');
});

test('a failing real server leaves after retry+1 attempts spaced by delay_before_retry, and comes back on one success', async () => {
  const h = await started(vs([rs(1, '', 'retry 2\n      delay_before_retry 2'), rs(2)].join('\n')));
  await h.advance(1000); // first checks: both up
  h.answers.set('10.0.1.1:80', 'L4CON');
  // Checks at 11 s, 13 s, 15 s fail; the third takes it down.
  await h.advance(13_999);
  assert.ok(h.table().includes('  -> 10.0.1.1:80 Masq 1'), 'still in after two failures');
  await h.advance(1);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.2:80 Masq 1']);
  assert.deepEqual(h.calls.filter((c) => c.target === '10.0.1.1:80').map((c) => c.at), [1000, 11_000, 13_000, 15_000]);
  h.answers.delete('10.0.1.1:80');
  await h.advance(10_000); // next check at 25 s
  assert.ok(h.table().includes('  -> 10.0.1.1:80 Masq 1'), 'one success brings it back');
  assert.ok(h.logs.some((l) => /Removing service \[10\.0\.1\.1\]:tcp:80 from VS \[10\.0\.0\.1\]:tcp:80/.test(l)), 'keepalived\'s log line');
});

test('at start-up one failure is enough (retry_it starts at retry)', async () => {
  const h = await started(vs([rs(1, '', 'retry 3'), rs(2)].join('\n')));
  h.answers.set('10.0.1.1:80', 'L4TOUT');
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.2:80 Masq 1']);
});

test('inhibit_on_failure: a failed real server stays at weight 0, and gets its weight back', async () => {
  const h = await started(vs([rs(1, 'weight 4\n    inhibit_on_failure'), rs(2)].join('\n')));
  h.answers.set('10.0.1.1:80', 'L7STS');
  await h.advance(1000);
  assert.ok(h.table().includes('  -> 10.0.1.1:80 Masq 0'));
  h.answers.delete('10.0.1.1:80');
  await h.advance(10_000);
  assert.ok(h.table().includes('  -> 10.0.1.1:80 Masq 4'));
});

test('alpha with inhibit_on_failure: in the table at weight 0 from the start', async () => {
  const h = await started(vs(rs(1, 'alpha\n    inhibit_on_failure')));
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 0']);
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1']);
});

test('quorum lost: the real servers leave and the sorry server comes in; quorum back: the reverse', async () => {
  const h = await started(vs([rs(1), rs(2)].join('\n'), '  quorum 2\n  sorry_server 10.0.9.9 8080'));
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1', '  -> 10.0.1.2:80 Masq 1']);
  h.answers.set('10.0.1.2:80', 'L4CON');
  await h.advance(10_000); // 11 s: first failure (retry 1); 12 s: second, down
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.9.9:8080 Masq 1'], 'sum 1 < quorum 2');
  assert.ok(h.logs.some((l) => /Lost quorum 2 > 1 for VS \[10\.0\.0\.1\]:tcp:80/.test(l)));
  h.answers.delete('10.0.1.2:80');
  await h.advance(10_000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1', '  -> 10.0.1.2:80 Masq 1']);
});

test('quorum not met at start-up: the sorry server serves until the servers come up', async () => {
  const h = await started(vs([rs(1, 'alpha'), rs(2, 'alpha')].join('\n'), '  sorry_server 10.0.9.9 8080'));
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.9.9:8080 Masq 1']);
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1', '  -> 10.0.1.2:80 Masq 1']);
});

test('sorry_server_inhibit: the sorry server waits in the table at weight 0', async () => {
  const h = await started(vs(rs(1), '  sorry_server 10.0.9.9 8080\n  sorry_server_inhibit'));
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.1.1:80 Masq 1', '  -> 10.0.9.9:8080 Masq 0']);
  h.answers.set('10.0.1.1:80', 'L4CON');
  await h.advance(1000);
  assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', '  -> 10.0.9.9:8080 Masq 1']);
});

const MISC = (args: string, more = ''): string => `  real_server 10.0.1.1 80 {
    weight 10
    MISC_CHECK {
      misc_path "${SCRIPT} ${args}"
${more}
    }
  }`;
const SECURE = 'global_defs {\n  enable_script_security\n  script_user keepalived_script\n}\n';

test('MISC_CHECK: the script\'s exit status decides; misc_dynamic sets the weight to status - 2', async (t) => {
  const rows: { desc: string; more: string; exit: number; line: string | null }[] = [
    { desc: 'exit 0: up', more: '', exit: 0, line: '  -> 10.0.1.1:80 Masq 10' },
    { desc: 'exit 1: down', more: '', exit: 1, line: null },
    { desc: 'exit 7 without misc_dynamic: down', more: '', exit: 7, line: null },
    { desc: 'misc_dynamic exit 7: weight 5', more: '      misc_dynamic', exit: 7, line: '  -> 10.0.1.1:80 Masq 5' },
    { desc: 'misc_dynamic exit 2: weight 0, still up', more: '      misc_dynamic', exit: 2, line: '  -> 10.0.1.1:80 Masq 0' },
    { desc: 'misc_dynamic exit 1: down', more: '      misc_dynamic', exit: 1, line: null },
  ];
  for (const row of rows) {
    await t.test(row.desc, async () => {
      const h = await started(SECURE + vs(MISC('a', row.more)));
      h.exits.set('a', row.exit);
      await h.advance(1000);
      assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr', ...(row.line ? [row.line] : [])], h.logs.join('\n'));
      assert.deepEqual(h.calls.map((c) => c.target), [`${SCRIPT} a`]);
    });
  }
});

test('HTTP_GET answers: any failing code takes the server out', async (t) => {
  for (const code of ['L7STS', 'L7DIGEST', 'L7REGEX', 'L4TOUT', 'L7TOUT', 'L4CON'] as const) {
    await t.test(code, async () => {
      const h = await started(vs(`  real_server 10.0.1.1 80 {
    HTTP_GET {
      url {
        path /health
        digest 9b3a4b2e6fb1d0ee7a3c6f5f0d1c2b3a
      }
    }
  }`));
      h.answers.set('10.0.1.1:80', code);
      await h.advance(1000);
      assert.deepEqual(h.table(), ['TCP 10.0.0.1:80 rr']);
    });
  }
});
