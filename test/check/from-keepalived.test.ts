// The keepvs rise/fall extension travels from keepalived.conf to the checker spec; without it the
// spec keeps keepalived's behaviour (rise 1, fall 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { realServerSpec, type SkippedChecker } from '../../src/check/from-keepalived.ts';

const conf = (extra: string) => `
virtual_server 127.0.0.1 8080 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 8081 {
    TCP_CHECK {
      connect_timeout 1
${extra}
    }
  }
}
`;

test('rise/fall reach the checker spec; absent, they are keepalived\'s 1/1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-rise-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const row of [
    { desc: 'rise 3 fall 2', extra: '      rise 3\n      fall 2', rise: 3, fall: 2 },
    { desc: 'defaults', extra: '', rise: 1, fall: 1 },
  ]) {
    const file = join(dir, `${row.rise}-${row.fall}.conf`);
    writeFileSync(file, conf(row.extra));
    const r = loadKeepalivedConfig(file);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors, [], row.desc);
    assert.ok(r.config);
    const vs = r.config.virtualServers[0];
    const skipped: SkippedChecker[] = [];
    const spec = realServerSpec(r.config, vs.realServers[0], skipped);
    const tcp = spec.checkers[0] as { rise?: number; fall?: number };
    assert.equal(tcp.rise, row.rise, `${row.desc}: rise`);
    assert.equal(tcp.fall, row.fall, `${row.desc}: fall`);
  }
});

test('rise 0 is refused with the place named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepvs-rise-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.conf');
  writeFileSync(file, conf('      rise 0'));
  const r = loadKeepalivedConfig(file);
  const d = r.diagnostics.find((x) => x.keyword === 'rise');
  assert.ok(d, 'a diagnostic for rise');
  assert.equal(d.at?.file, file);
  assert.equal(d.at?.line, 9);
});
