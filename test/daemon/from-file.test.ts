// bin/keepvs -f keepalived.conf as a user runs it, with real servers on 127.0.0.1 that go down and
// come back (stopped and started, HTTP 500, a wrong body for the digest, too slow for
// connect_timeout, a MISC_CHECK script's exit status), in real time (delay_loop 1); keepvsadm -L -n
// shows what ipvsadm would under keepalived. Then SIGHUP under traffic: long-lived connections
// through the proxy survive a reload that adds, removes and edits real servers and services, the
// counters of what did not change stay, and a broken file keeps everything running (stale metric).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync, chmodSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import {
  HEALTH_BODY, HttpRealServer, echoServer, freePort, get, longLived, startKeepvs, tempDir, teardown, until,
} from './from-file-harness.ts';

after(teardown);

const me = userInfo().username;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

test('keepvs -f: the director follows its real servers with keepalived\'s rules, in real time', async (t) => {
  const dir = tempDir();
  const [rs1, rs2, rs3, rs4, sorry] = await Promise.all(['rs1', 'rs2', 'rs3', 'rs4', 'sorry'].map((n) => new HttpRealServer(n).start()));
  const vport = await freePort();
  const vport2 = await freePort();
  const state = join(dir, 'misc-state');
  const script = join(dir, 'check.sh');
  writeFileSync(state, '1\n');
  writeFileSync(script, `#!/bin/sh\nexit $(cat ${state})\n`);
  chmodSync(script, 0o755);
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `global_defs {
  enable_script_security
  script_user ${me}
}
virtual_server 127.0.0.1 ${vport} {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${rs1.port} {
    weight 2
    HTTP_GET {
      url {
        path /health
        digest ${md5(HEALTH_BODY)}
      }
      connect_timeout 1
      retry 0
      delay_before_retry 1
    }
  }
  real_server 127.0.0.1 ${rs2.port} {
    inhibit_on_failure
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 127.0.0.1 ${rs3.port} {
    alpha
    MISC_CHECK {
      misc_path "${script} rs3"
      misc_timeout 2
    }
  }
}
virtual_server 127.0.0.1 ${vport2} {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server 127.0.0.1 ${sorry.port}
  real_server 127.0.0.1 ${rs4.port} {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
virtual_server 127.0.0.1 ${await freePort()} {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 127.0.0.1 ${rs4.port} {
  }
}
`);
  const k = startKeepvs(dir, conf);
  await k.waitFor(/Control API listening on /);
  const v = `127.0.0.1:${vport}`;
  const weights = async (): Promise<Record<string, number>> => Object.fromEntries((await k.table()).get(v) ?? []);
  const r = (s: HttpRealServer): string => `127.0.0.1:${s.port}`;
  const waitWeights = (what: string, want: Record<string, number>) => until(what, async () => {
    const w = await weights();
    return JSON.stringify(w, Object.keys(w).sort()) === JSON.stringify(want, Object.keys(want).sort()) ? w : null;
  }).catch(async (e: Error) => { throw new Error(`${e.message}: have ${JSON.stringify(await weights())}\n${k.output()}`); });

  await t.test('start: real servers without alpha are in at once with their weight; the alpha one is not; DR is skipped with its place', async () => {
    const list = await k.adm('-L', '-n');
    const lines = list.split('\n');
    const at = lines.indexOf(`TCP  ${v} rr`);
    assert.ok(at >= 0, list);
    const block = lines.slice(at + 1, at + 3).map((l) => l.replace(/\s+/g, ' ').trim()).sort();
    assert.deepEqual(block, [`-> ${r(rs1)} Masq 2 0 0`, `-> ${r(rs2)} Masq 1 0 0`].sort(), list);
    assert.ok(!list.includes(r(rs3)), 'alpha: not before a successful check');
    assert.match(k.output(), new RegExp(`${conf.replace(/[.]/g, '\\.')}:\\d+:3: error: virtual_server 127\\.0\\.0\\.1 \\d+ is skipped: real_server .*direct routing.*\\{UNSUPPORTED_FWD\\}`));
  });
  await t.test('traffic goes through the balancer to the live real servers', async () => {
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add(await get(vport));
    assert.deepEqual([...bodies].sort(), ['hello from rs1\n', 'hello from rs2\n']);
  });
  await t.test('MISC_CHECK exit 0: the alpha real server joins', async () => {
    writeFileSync(state, '0\n');
    await waitWeights('rs3 to join', { [r(rs1)]: 2, [r(rs2)]: 1, [r(rs3)]: 1 });
  });
  for (const mode of ['http-500', 'wrong-body', 'slow'] as const) {
    await t.test(`HTTP_GET: ${mode} takes the real server out, a good answer brings it back`, async () => {
      rs1.mode = mode;
      await waitWeights(`rs1 out (${mode})`, { [r(rs2)]: 1, [r(rs3)]: 1 });
      rs1.mode = 'good';
      await waitWeights('rs1 back', { [r(rs1)]: 2, [r(rs2)]: 1, [r(rs3)]: 1 });
    });
  }
  await t.test('TCP_CHECK with inhibit_on_failure: a stopped server goes to weight 0, restarted it gets its weight back', async () => {
    const port = rs2.port;
    await rs2.stop();
    await waitWeights('rs2 inhibited', { [r(rs1)]: 2, [`127.0.0.1:${port}`]: 0, [r(rs3)]: 1 });
    await rs2.start(port);
    await waitWeights('rs2 back', { [r(rs1)]: 2, [r(rs2)]: 1, [r(rs3)]: 1 });
  });
  await t.test('MISC_CHECK exit 1: out again', async () => {
    writeFileSync(state, '1\n');
    await waitWeights('rs3 out', { [r(rs1)]: 2, [r(rs2)]: 1 });
  });
  await t.test('quorum lost: the sorry server is swapped in, and out again when the real server is back', async () => {
    const v2 = `127.0.0.1:${vport2}`;
    const port = rs4.port;
    const dests = async (): Promise<string> => [...((await k.table()).get(v2) ?? new Map())].map(([d, w]) => `${d} ${w}`).sort().join(', ');
    await until('rs4 in', async () => (await dests()) === `127.0.0.1:${port} 1`);
    await rs4.stop();
    await until('the sorry server in', async () => (await dests()) === `127.0.0.1:${sorry.port} 1`);
    assert.equal(await get(vport2), 'hello from sorry\n');
    await rs4.start(port);
    await until('rs4 back, sorry out', async () => (await dests()) === `127.0.0.1:${port} 1`);
    assert.equal(await get(vport2), 'hello from rs4\n');
  });
  await t.test('SIGTERM: a clean stop', async () => {
    k.child.kill('SIGTERM');
    assert.equal(await k.exited, 0);
  });
});

test('SIGHUP under traffic: open connections survive, unchanged services keep their counters, a broken file changes nothing', async (t) => {
  const dir = tempDir();
  const [e1, e2, e3] = await Promise.all([echoServer(), echoServer(), echoServer()]);
  const [v1, v2, v3, v4] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const rsBlock = (port: number, weight = 1): string => `  real_server 127.0.0.1 ${port} {
    weight ${weight}
    TCP_CHECK {
      connect_timeout 1
    }
  }`;
  const vsBlock = (port: number, servers: string[]): string => `virtual_server 127.0.0.1 ${port} {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${servers.join('\n')}
}
`;
  const conf = join(dir, 'keepalived.conf');
  const first = vsBlock(v1, [rsBlock(e1.port), rsBlock(e2.port)]) + vsBlock(v2, [rsBlock(e3.port)]) + vsBlock(v3, [rsBlock(e1.port)]);
  writeFileSync(conf, first);
  const k = startKeepvs(dir, conf);
  await k.waitFor(/Control API listening on /);

  const conns: Awaited<ReturnType<typeof longLived>>[] = [];
  for (const port of [v1, v1, v1, v2, v3]) conns.push(await longLived(port));
  for (const [i, c] of conns.entries()) assert.equal(await c.echo(`before ${i}`), `before ${i}`);
  const stats = async (): Promise<Map<string, string>> => {
    // keepvsadm -L -n --stats: "TCP  127.0.0.1:port rr" rows with Conns InPkts OutPkts InBytes OutBytes.
    const out = await k.adm('-L', '-n', '--stats');
    const m = new Map<string, string>();
    let svc = '';
    for (const line of out.split('\n')) {
      const s = /^TCP\s+(\S+)\s+(.*)$/.exec(line);
      if (s) { svc = s[1]; m.set(svc, s[2].trim()); continue; }
      const d = /^\s+->\s+(\S+)\s+(.*)$/.exec(line);
      if (d && svc) m.set(`${svc} ${d[1]}`, d[2].trim());
    }
    return m;
  };
  const before = await stats();
  assert.match(before.get(`127.0.0.1:${v1}`) ?? '', /^3 /, 'three connections through v1');

  await t.test('a reload that edits, removes and adds real servers and services', async () => {
    const second = vsBlock(v1, [rsBlock(e1.port, 3), rsBlock(e3.port)]) + vsBlock(v3, [rsBlock(e1.port)]) + vsBlock(v4, [rsBlock(e2.port)]);
    writeFileSync(conf, second);
    const mark = k.output().length;
    k.child.kill('SIGHUP');
    await k.waitFor(/Reload finished/, mark);
    const list = await k.adm('-L', '-n');
    const rows = list.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    const block = (port: number): string[] => {
      const i = rows.indexOf(`TCP 127.0.0.1:${port} rr`);
      if (i < 0) return [];
      const out: string[] = [];
      for (let j = i + 1; j < rows.length && rows[j].startsWith('->'); j++) out.push(rows[j].split(' ').slice(0, 4).join(' '));
      return out.sort();
    };
    assert.deepEqual(block(v1), [`-> 127.0.0.1:${e1.port} Masq 3`, `-> 127.0.0.1:${e3.port} Masq 1`].sort(), list);
    assert.deepEqual(block(v2), [], 'v2 is gone');
    assert.deepEqual(block(v3), [`-> 127.0.0.1:${e1.port} Masq 1`]);
    assert.deepEqual(block(v4), [`-> 127.0.0.1:${e2.port} Masq 1`]);
  });
  await t.test('every open connection still works, even those to the removed real server and service', async () => {
    for (const [i, c] of conns.entries()) assert.equal(await c.echo(`after ${i}`), `after ${i}`);
  });
  await t.test('the counters of what did not change are kept', async () => {
    const now = await stats();
    assert.equal(now.get(`127.0.0.1:${v3}`)?.split(/\s+/)[0], before.get(`127.0.0.1:${v3}`)?.split(/\s+/)[0], 'v3 unchanged: same connection count');
    assert.equal(now.get(`127.0.0.1:${v1}`)?.split(/\s+/)[0], '3', 'v1 kept: its three connections still counted');
    assert.equal(now.get(`127.0.0.1:${v1} 127.0.0.1:${e1.port}`)?.split(/\s+/)[0], before.get(`127.0.0.1:${v1} 127.0.0.1:${e1.port}`)?.split(/\s+/)[0], 'e1 under v1: its count kept across the weight edit');
  });
  await t.test('new connections go where the new file says', async () => {
    const c = await longLived(v4);
    assert.equal(await c.echo('v4'), 'v4');
    c.close();
  });
  await t.test('SIGHUP with a broken file: the old configuration keeps serving, the metric says it is stale', async () => {
    writeFileSync(conf, `${vsBlock(v1, [rsBlock(e1.port)])}virtual_server 127.0.0.1 ${v2} {\n  lb_algo nope\n`);
    const mark = k.output().length;
    k.child.kill('SIGHUP');
    const m = await k.waitFor(/Reload failed, keeping the running configuration: .*/, mark);
    assert.match(m[0], /keepalived\.conf:\d+:\d+: error:/, 'the diagnostic names the place');
    const metrics = await k.metrics();
    assert.match(metrics, /^keepvs_config_stale 1$/m);
    assert.match(metrics, /^keepvs_config_reloads_total\{result="failure"\} 1$/m);
    assert.match(metrics, /^keepvs_config_reloads_total\{result="success"\} 1$/m);
    assert.match(metrics, /^keepvs_config_last_reload_success_timestamp_seconds \d+$/m);
    const c = await longLived(v4);
    assert.equal(await c.echo('still v4'), 'still v4', 'v4 (only in the running configuration) still serves');
    c.close();
    for (const [i, c2] of conns.entries()) assert.equal(await c2.echo(`stale ${i}`), `stale ${i}`);
  });
  await t.test('SIGHUP with a MISC_CHECK script that is not executable: refused, naming the script\'s line', async () => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    writeFileSync(conf, `global_defs {\n  enable_script_security\n  script_user ${me}\n}\n${vsBlock(v1, [`  real_server 127.0.0.1 ${e1.port} {
    MISC_CHECK {
      misc_path "${script}"
    }
  }`])}`);
    const mark = k.output().length;
    k.child.kill('SIGHUP');
    await k.waitFor(/Reload failed, keeping the running configuration/, mark);
    assert.match(k.output().slice(mark), /keepalived\.conf:12:\d+: error: MISC_CHECK misc_path .*not-executable\.sh: .*not executable.*\{SCRIPT_NOT_EXECUTABLE\}/);
    assert.match(await k.metrics(), /^keepvs_config_reloads_total\{result="failure"\} 2$/m);
    const c = await longLived(v4);
    assert.equal(await c.echo('v4 again'), 'v4 again');
    c.close();
  });
  await t.test('SIGTERM: a clean stop', async () => {
    for (const c of conns) c.close();
    k.child.kill('SIGTERM');
    assert.equal(await k.exited, 0);
  });
});
