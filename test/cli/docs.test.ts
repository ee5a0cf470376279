// docs/keepvsadm.md and `keepvsadm -h` name every keepvs extension option, and the docs name none
// that does not exist. ipvsadm 1.31's own long options (ipvsadm.c, parse_options' poptOption table)
// are written out by hand: whatever else OPTION_TABLE holds is a keepvs extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OPTION_TABLE } from '../../src/cli/keepvsadm/parse.ts';
import { usageText } from '../../src/cli/keepvsadm/usage.ts';

const IPVSADM_LONG = new Set([
  'add-service', 'edit-service', 'delete-service', 'clear', 'list', 'zero', 'add-server', 'edit-server',
  'delete-server', 'set', 'help', 'version', 'restore', 'save', 'start-daemon', 'stop-daemon', 'tcp-service',
  'udp-service', 'sctp-service', 'fwmark-service', 'scheduler', 'persistent', 'netmask', 'real-server',
  'masquerading', 'ipip', 'gatewaying', 'weight', 'u-threshold', 'l-threshold', 'numeric', 'connection',
  'mcast-interface', 'syncid', 'timeout', 'daemon', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort',
  'sort', 'exact', 'ipv6', 'ops', 'pe', 'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen',
  'tun-info', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
]);

const DOC = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'keepvsadm.md'), 'utf8');
const EXTENSIONS = [...new Set(OPTION_TABLE.flatMap((o) => (o.long === undefined ? [] : [o.long])))].filter((l) => !IPVSADM_LONG.has(l));

test('keepvsadm has the keepvs extensions this test knows of', () => {
  assert.deepEqual(EXTENSIONS.sort(), ['client', 'exact-path', 'explain', 'fullnat', 'proxy-protocol']);
});

test('docs/keepvsadm.md and -h name every keepvs extension, -h marks each "(keepvs)"', () => {
  const usage = usageText('keepvsadm');
  for (const name of EXTENSIONS) {
    assert.ok(DOC.includes(`\`--${name}`), `--${name} missing from docs/keepvsadm.md`);
    const lines = usage.split('\n');
    const i = lines.findIndex((l) => l.startsWith(`  --${name} `));
    assert.ok(i >= 0, `--${name} missing from -h`);
    // The marker ends the option's description, which may wrap onto continuation lines.
    let j = i;
    while (!lines[j].endsWith('(keepvs)') && lines[j + 1]?.startsWith('     ')) j++;
    assert.ok(lines[j].endsWith('(keepvs)'), `--${name} not marked (keepvs) in -h`);
  }
});

test('docs/keepvsadm.md names no keepvs option that does not exist', () => {
  const section = DOC.slice(DOC.indexOf('## keepvs extensions'));
  for (const m of section.matchAll(/`--([a-z-]+)/g)) {
    assert.ok(OPTION_TABLE.some((o) => o.long === m[1]), `docs/keepvsadm.md names --${m[1]}`);
  }
});
