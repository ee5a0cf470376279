// keepvs extension `checker_probe_close` (global_defs) and `probe_close` (TCP_CHECK, HTTP_GET): how a
// probe's connection ends (src/sys/tcp-connect.ts). Parsed with file:line:col diagnostics, shown by
// keepvs -d, carried into the checker specs (src/check/from-keepalived.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKeepalivedConfig } from '../../src/config/keepalived/load.ts';
import { memoryKeepalivedHost } from '../../src/config/keepalived/memory-host.ts';
import { dumpKeepalivedConfig } from '../../src/config/keepalived/dump.ts';
import { formatDiagnostic } from '../../src/config/keepalived/diagnostics.ts';
import { probeCloseSetting, virtualServerSpec, type SkippedChecker } from '../../src/check/from-keepalived.ts';

function load(text: string) {
  const r = loadKeepalivedConfig('/k.conf', { host: memoryKeepalivedHost({ files: { '/k.conf': text } }) });
  assert.ok(r.config);
  return { config: r.config, diags: r.diagnostics.map(formatDiagnostic) };
}

const conf = (global: string, checker: string, type = 'TCP_CHECK') => `global_defs {
${global}
}
virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo rr
 lb_kind NAT
 real_server 10.0.0.2 80 {
  ${type} {
${checker}
${type === 'TCP_CHECK' ? '' : '   url {\n    path /\n   }'}
  }
 }
}
`;

const rows: ReadonlyArray<{
  desc: string; global: string; checker: string; type?: string;
  globalMode: 'reset' | 'graceful'; checkerMode: 'reset' | 'graceful' | null; diags: readonly string[];
}> = [
  { desc: 'nothing set: reset everywhere, no diagnostics', global: '', checker: '', globalMode: 'reset', checkerMode: null, diags: [] },
  { desc: 'global graceful', global: ' checker_probe_close graceful', checker: '', globalMode: 'graceful', checkerMode: null, diags: [] },
  {
    desc: 'a TCP_CHECK overrides the global mode', global: ' checker_probe_close graceful', checker: '   probe_close reset',
    globalMode: 'graceful', checkerMode: 'reset', diags: [],
  },
  {
    desc: 'the global spelling is accepted in a checker too', global: '', checker: '   checker_probe_close graceful',
    globalMode: 'reset', checkerMode: 'graceful', diags: [],
  },
  {
    desc: 'HTTP_GET takes probe_close', global: '', checker: '   probe_close graceful', type: 'HTTP_GET',
    globalMode: 'reset', checkerMode: 'graceful', diags: [],
  },
  {
    desc: 'a bad global value: error at its place, the default stays', global: ' checker_probe_close fin', checker: '',
    globalMode: 'reset', checkerMode: null,
    diags: ["/k.conf:2:22: error: Invalid checker_probe_close 'fin' - ignoring [checker_probe_close] (expected reset or graceful) {INVALID_VALUE}"],
  },
  {
    desc: 'a bad checker value: error at its place, the global mode stays', global: ' checker_probe_close graceful', checker: '   probe_close RST',
    globalMode: 'graceful', checkerMode: null,
    diags: ["/k.conf:10:16: error: Invalid probe_close 'RST' - ignoring [probe_close] (expected reset or graceful) {INVALID_VALUE}"],
  },
  {
    desc: 'SSL_GET does not take it (its TLS session closes itself): unknown keyword', global: '', checker: '   probe_close reset', type: 'SSL_GET',
    globalMode: 'reset', checkerMode: null, diags: ['unknown'],
  },
];

for (const row of rows) {
  test(`probe close: ${row.desc}`, () => {
    const { config, diags } = load(conf(row.global, row.checker, row.type));
    if (row.diags[0] === 'unknown') {
      assert.equal(diags.length, 1, diags.join('\n'));
      assert.match(diags[0], /^\/k\.conf:10:4: error: Unknown keyword .probe_close. \[probe_close\] {UNKNOWN_KEYWORD}$/);
    } else {
      assert.deepEqual(diags, row.diags);
    }
    assert.equal(config.globalDefs.checkerProbeClose, row.globalMode);
    const ch = config.virtualServers[0].realServers[0].checkers[0];
    assert.equal(ch.probeClose, row.checkerMode);
    // keepvs -d: the global mode always, the checker's only when it has its own.
    const dump = dumpKeepalivedConfig(config);
    assert.match(dump, new RegExp(`^\\s*checker_probe_close ${row.globalMode}$`, 'm'));
    assert.equal(/^\s*probe_close /m.test(dump), row.checkerMode !== null);
    if (row.checkerMode !== null) assert.match(dump, new RegExp(`^\\s*probe_close ${row.checkerMode}$`, 'm'));
    // What the health checker gets: the global as its probeClose, the checker's in its spec.
    assert.deepEqual(probeCloseSetting(config), { probeClose: row.globalMode });
    const skipped: SkippedChecker[] = [];
    const spec = virtualServerSpec(config, config.virtualServers[0], skipped).real_server[0].checkers[0];
    assert.equal('probe_close' in spec ? spec.probe_close : null, row.checkerMode);
  });
}

test('probe close: keepvs -d output reads back to the same modes', () => {
  const { config } = load(conf(' checker_probe_close graceful', '   probe_close reset'));
  const again = load(dumpKeepalivedConfig(config));
  assert.deepEqual(again.diags, []);
  assert.equal(again.config.globalDefs.checkerProbeClose, 'graceful');
  assert.equal(again.config.virtualServers[0].realServers[0].checkers[0].probeClose, 'reset');
});
