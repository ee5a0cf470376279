// What a SIGHUP reload does for the real servers and virtual servers the new file no longer has,
// as keepalived's clear_diff_services / clear_diff_rs / clear_service_rs (check/ipwrapper.c) do:
// notify_down and the FIFO "RS … DOWN" line only for a dropped server that was alive, quorum_down
// and "VS … DOWN" when the live weight left falls short — and nothing for one already down.
// Injected clock and script runner (health-harness.ts); the LVS notify FIFO is a real FIFO in a
// temp dir, read back after each step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { started, vs, SCRIPT, type Harness } from './health-harness.ts';

/** A real server 10.0.1.<n>:80 with a TCP_CHECK, weight w, and notify_up/notify_down scripts. */
const rsN = (n: number, w = 1): string => `  real_server 10.0.1.${n} 80 {
    weight ${w}
    notify_up "${SCRIPT} up${n}"
    notify_down "${SCRIPT} down${n}"
    TCP_CHECK {
      connect_timeout 3
    }
  }`;

const globals = (fifo: string, more = ''): string => `global_defs {\n  enable_script_security\n  lvs_notify_fifo ${fifo}\n${more}}\n`;
const quorumScripts = `  quorum_up "${SCRIPT} qup"\n  quorum_down "${SCRIPT} qdown"`;

/**
 * Scripts run since the last call (argv[1] only), and the FIFO's unread lines. The FIFO is opened
 * afresh at each read: keepvs (like keepalived) unlinks and makes its FIFO again at a reload.
 */
function observe(h: Harness, fifo: string) {
  let seen = 0;
  return {
    scripts(): string[] {
      const out = h.calls.slice(seen).filter((c) => c.target.startsWith(SCRIPT)).map((c) => c.target.slice(SCRIPT.length + 1));
      seen = h.calls.length;
      return out;
    },
    lines(): string[] {
      const buf = Buffer.alloc(4096);
      let n = 0;
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        n = readSync(reader, buf, 0, buf.length, null);
      } catch {
        n = 0; // EAGAIN: nothing written
      } finally {
        closeSync(reader);
      }
      return buf.subarray(0, n).toString('latin1').split('\0').filter((l) => l !== '');
    },
  };
}

test('reload: dropped real servers and virtual servers get keepalived\'s notifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rows: {
    desc: string; first: string; next: string; down?: string[]; scripts: string[]; lines: string[];
  }[] = [
    {
      desc: 'an alive real server is dropped: its notify_down and RS DOWN, the quorum holds',
      first: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), next: vs(rsN(1), quorumScripts),
      scripts: ['down2'], lines: ['RS [10.0.1.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n'],
    },
    {
      desc: 'a real server already down is dropped: nothing runs, nothing is written',
      first: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), next: vs(rsN(1), quorumScripts), down: ['10.0.1.2:80'],
      scripts: [], lines: [],
    },
    {
      desc: 'the drop loses the quorum: the old quorum_down, then the kept virtual server starts with quorum down (keepalived runs both)',
      first: vs([rsN(1, 3), rsN(2, 2), rsN(3, 2)].join('\n'), `  quorum 4\n${quorumScripts}`), down: ['10.0.1.3:80'],
      next: vs([rsN(2, 2), rsN(3, 2)].join('\n'), `  quorum 4\n${quorumScripts}`),
      scripts: ['down1', 'qdown', 'qdown'],
      lines: ['RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n', 'VS [10.0.0.1]:tcp:80 DOWN\n', 'VS [10.0.0.1]:tcp:80 DOWN\n'],
    },
    {
      desc: 'the whole virtual server is dropped: every alive server\'s notify_down, then quorum_down',
      first: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), next: '', down: ['10.0.1.1:80'],
      scripts: ['down2', 'qdown'],
      lines: ['RS [10.0.1.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n', 'VS [10.0.0.1]:tcp:80 DOWN\n'],
    },
    {
      desc: 'with lvs_flush_on_stop a dropped virtual server skips its real servers; its quorum still stands',
      first: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), next: '', scripts: [], lines: [],
    },
    {
      desc: 'an identical file: nothing',
      first: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), next: vs([rsN(1), rsN(2)].join('\n'), quorumScripts), scripts: [], lines: [],
    },
  ];
  for (const [i, row] of rows.entries()) {
    await t.test(row.desc, async () => {
      const fifo = join(dir, `fifo${i}`);
      const g = globals(fifo, row.desc.includes('lvs_flush_on_stop') ? '  lvs_flush_on_stop\n' : '');
      const h = await started(g + row.first);
      const o = observe(h, fifo);
      try {
        for (const d of row.down ?? []) h.answers.set(d, 'L4CON');
        await h.advance(1000);
        o.scripts();
        o.lines();
        const r = await h.reload(g + row.next);
        assert.ok(r.ok, r.message);
        assert.deepEqual(o.scripts(), row.scripts);
        assert.deepEqual(o.lines(), row.lines);
      } finally {
        h.runner.stop();
      }
    });
  }
});

test('reload: the FIFO is made if missing, reopened at each accepted load, removed at stop when keepvs made it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'lvs');
  const conf = globals(fifo) + vs(rsN(1));
  const h = await started(conf);
  assert.ok(h.logs.some((l) => l === `info: Opened lvs_notify fifo ${fifo} (created)`), h.logs.join('\n'));
  const o = observe(h, fifo);
  await h.advance(1000);
  await h.reload(conf);
  assert.equal(h.logs.filter((l) => l.startsWith('info: Opened lvs_notify fifo')).length, 2, 'reopened on reload');
  h.answers.set('10.0.1.1:80', 'L4CON');
  await h.advance(60_000);
  assert.deepEqual(o.lines(), ['RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n', 'VS [10.0.0.1]:tcp:80 DOWN\n'], 'lines reach the reopened FIFO');
  h.runner.stop();
  assert.throws(() => openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), { code: 'ENOENT' });
});

test('the FIFO script starts with the FIFO\'s path as its last argument, again at each reload', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kpc-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'lvs');
  const conf = `global_defs {\n  enable_script_security\n  lvs_notify_fifo ${fifo}\n  lvs_notify_fifo_script "${SCRIPT} reader"\n}\n` + vs(rsN(1));
  const h = await started(conf);
  try {
    const runs = () => h.calls.filter((c) => c.target.startsWith(`${SCRIPT} reader`)).map((c) => c.target);
    assert.deepEqual(runs(), [`${SCRIPT} reader ${fifo}`]);
    await h.reload(conf);
    assert.deepEqual(runs(), [`${SCRIPT} reader ${fifo}`, `${SCRIPT} reader ${fifo}`]);
  } finally {
    h.runner.stop();
  }
});
