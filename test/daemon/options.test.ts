// keepvs's command line (src/daemon/options.ts): keepalived 2.2's flags as `keepalived --help`
// prints them (style-and-ecosystem.md B2) and keepvs's own, one row per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDaemonArgs, helpText, FLAGS } from '../../src/daemon/options.ts';
import { signum } from '../../src/daemon/signals.ts';

const DEFAULTS: Record<string, unknown> = {
  configFile: null, vrrp: true, check: true, logConsole: false, logDetail: false, dontFork: false, pidFile: null,
  dataplane: 'proxy', control: null, api: null, apiTokenFile: null, graceSeconds: 5, dumpDir: '/tmp', configId: null,
};

const RUN_ROWS: { desc: string; args: string[]; expect: Record<string, unknown> }[] = [
  { desc: 'no arguments: an empty director, everything default', args: [], expect: {} },
  { desc: '-f FILE', args: ['-f', '/etc/keepalived/keepalived.conf'], expect: { configFile: '/etc/keepalived/keepalived.conf' } },
  { desc: '--use-file=FILE', args: ['--use-file=/x.conf'], expect: { configFile: '/x.conf' } },
  { desc: 'bundled short flags -nlD', args: ['-nlD'], expect: { dontFork: true, logConsole: true, logDetail: true } },
  { desc: '-P alone: VRRP only', args: ['-P'], expect: { vrrp: true, check: false } },
  { desc: '-C alone: checkers only', args: ['--check'], expect: { vrrp: false, check: true } },
  { desc: '-P -C: both, as keepalived', args: ['-P', '-C'], expect: { vrrp: true, check: true } },
  { desc: '-p FILE', args: ['-p', '/run/x.pid'], expect: { pidFile: '/run/x.pid' } },
  { desc: '--pid=FILE', args: ['--pid=/run/y.pid'], expect: { pidFile: '/run/y.pid' } },
  { desc: '--dataplane nft (refused later, at start)', args: ['--dataplane', 'nft'], expect: { dataplane: 'nft' } },
  { desc: '--control PATH', args: ['--control', '/tmp/k.sock'], expect: { control: '/tmp/k.sock' } },
  { desc: '--api HOST:PORT', args: ['--api', '127.0.0.1:9100'], expect: { api: { host: '127.0.0.1', port: 9100 } } },
  { desc: '--api [V6]:PORT', args: ['--api=[::1]:9100'], expect: { api: { host: '::1', port: 9100 } } },
  { desc: '--api :PORT listens on every address', args: ['--api', ':9100'], expect: { api: { host: '0.0.0.0', port: 9100 } } },
  { desc: '--api-token-file', args: ['--api-token-file', '/etc/keepvs/token'], expect: { apiTokenFile: '/etc/keepvs/token' } },
  { desc: '--grace 0.5', args: ['--grace', '0.5'], expect: { graceSeconds: 0.5 } },
  { desc: '--dump-dir', args: ['--dump-dir', '/var/tmp'], expect: { dumpDir: '/var/tmp' } },
  { desc: '-i ID: the config id for @ID lines', args: ['-i', 'high'], expect: { configId: 'high' } },
  { desc: '--config-id=ID', args: ['--config-id=low'], expect: { configId: 'low' } },
];

test('command lines that run the daemon', async (t) => {
  for (const row of RUN_ROWS) {
    await t.test(row.desc, () => {
      const inv = parseDaemonArgs(row.args);
      assert.equal(inv.kind, 'run');
      assert.deepEqual(inv.kind === 'run' && inv.options, { ...DEFAULTS, ...row.expect });
    });
  }
});

const OTHER_ROWS: { desc: string; args: string[]; expect: unknown }[] = [
  { desc: '-h', args: ['-h'], expect: { kind: 'help' } },
  { desc: '--help wins over other flags', args: ['-l', '--help'], expect: { kind: 'help' } },
  { desc: '-v', args: ['-v'], expect: { kind: 'version' } },
  { desc: '--signum=DATA', args: ['--signum=DATA'], expect: { kind: 'signum', name: 'DATA' } },
  { desc: 'unknown long option', args: ['--bogus'], expect: { kind: 'error', message: 'Unknown option --bogus' } },
  { desc: 'unknown short option in a bundle', args: ['-lx'], expect: { kind: 'error', message: 'Unknown option -lx' } },
  { desc: '-f without its file', args: ['-f'], expect: { kind: 'error', message: 'Option -f needs a value' } },
  { desc: 'a value for a flag that takes none', args: ['--log-console=yes'], expect: { kind: 'error', message: 'Option --log-console=yes takes no value' } },
  { desc: 'a stray argument', args: ['-l', 'extra'], expect: { kind: 'error', message: 'Unexpected argument extra' } },
  { desc: '--dataplane other', args: ['--dataplane', 'xdp'], expect: { kind: 'error', message: "--dataplane must be proxy or nft, not 'xdp'" } },
  { desc: '--api without a port', args: ['--api', '127.0.0.1'], expect: { kind: 'error', message: "--api: expected HOST:PORT or [V6]:PORT, got '127.0.0.1'" } },
  { desc: '--grace not a number', args: ['--grace', 'soon'], expect: { kind: 'error', message: "--grace takes seconds (a number >= 0), not 'soon'" } },
];

test('command lines that do something else', async (t) => {
  for (const row of OTHER_ROWS) {
    await t.test(row.desc, () => assert.deepEqual(parseDaemonArgs(row.args), row.expect));
  }
});

test('-t takes an optional log file, as --config-test[=LOG_FILE]', async (t) => {
  const rows = [
    { desc: '-t', args: ['-t'], logFile: null, configFile: null },
    { desc: '-t -f FILE', args: ['-t', '-f', '/k.conf'], logFile: null, configFile: '/k.conf' },
    { desc: '--config-test=LOG', args: ['--config-test=/tmp/log', '-f', '/k.conf'], logFile: '/tmp/log', configFile: '/k.conf' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const inv = parseDaemonArgs(row.args);
      assert.equal(inv.kind, 'config-test');
      if (inv.kind !== 'config-test') return;
      assert.equal(inv.logFile, row.logFile);
      assert.equal(inv.options.configFile, row.configFile);
      assert.equal(inv.dumpConf, false);
    });
  }
});

test('-d dumps the effective configuration (with -t: test and dump)', () => {
  const d = parseDaemonArgs(['-d', '-f', '/k.conf', '-i', 'x']);
  assert.equal(d.kind, 'dump-conf');
  assert.equal(d.kind === 'dump-conf' && d.options.configFile, '/k.conf');
  assert.equal(d.kind === 'dump-conf' && d.options.configId, 'x');
  const td = parseDaemonArgs(['-t', '--dump-conf', '-f', '/k.conf']);
  assert.equal(td.kind, 'config-test');
  assert.equal(td.kind === 'config-test' && td.dumpConf, true);
});

test('--help lists every flag, keepalived style', () => {
  const text = helpText();
  assert.match(text, /^Usage: keepvs \[OPTION\.\.\.\]$/m);
  for (const f of FLAGS) assert.ok(text.includes(`--${f.long}`), f.long);
  assert.match(text, /^ {2}-f, --use-file=FILE {10}Use the specified configuration file$/m);
  assert.match(text, /^ {2}-t, --config-test\[=LOG_FILE\] Check the configuration/m);
  for (const line of text.split('\n')) assert.ok(line.length <= 80 || !line.startsWith(' '), `too wide: ${line}`);
});

test('--signum answers the numbers keepalived does for the functions keepvs has', () => {
  // keepalived --signum on Linux: STOP 15, RELOAD 1, DATA 10, STATS 12 (style-and-ecosystem.md B2).
  assert.deepEqual(['STOP', 'RELOAD', 'DATA', 'STATS', 'JSON', 'STATS_CLEAR'].map(signum), [15, 1, 10, 12, null, null]);
});
