// The shared value parsers (src/config/values.ts) against ipvsadm's rules (ipvsadm.c:
// parse_sched_flags, -M netmask handling, --set ranges) and include/uapi/linux/ip_vs.h's flag bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseSchedFlags, schedFlagNames, parseNetmask, netmaskText, parseAddress, parsePort, parseProtocol,
  parseFwdMethod, parseTunnel, parseSetTimeout, parseHostPort,
} from '../../src/config/values.ts';

test('sched flags: names to SVC_F bits, sh-*/mh-* only with their scheduler', async (t) => {
  const rows = [
    { desc: 'flag-1 with any scheduler is SCHED1 0x8', names: ['flag-1'], sched: 'wlc', bits: 0x8 },
    { desc: 'flag-2 is SCHED2 0x10', names: ['flag-2'], sched: 'rr', bits: 0x10 },
    { desc: 'flag-3 is SCHED3 0x20', names: ['flag-3'], sched: 'rr', bits: 0x20 },
    { desc: 'sh-fallback + sh-port with sh', names: ['sh-fallback', 'sh-port'], sched: 'sh', bits: 0x18 },
    { desc: 'mh-fallback with mh', names: ['mh-fallback'], sched: 'mh', bits: 0x8 },
    { desc: 'mh-port with mh', names: ['mh-port'], sched: 'mh', bits: 0x10 },
    { desc: 'flag-1 with sh (same bit as sh-fallback)', names: ['flag-1'], sched: 'sh', bits: 0x8 },
    { desc: 'none', names: [], sched: 'wlc', bits: 0 },
    { desc: 'sh-port with wlc', names: ['sh-port'], sched: 'wlc', code: 'SCHED_FLAG_INCOMPATIBLE' },
    { desc: 'mh-fallback with sh', names: ['mh-fallback'], sched: 'sh', code: 'SCHED_FLAG_INCOMPATIBLE' },
    { desc: 'unknown flag', names: ['flag-4'], sched: 'rr', code: 'INVALID' },
  ];
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = parseSchedFlags(row.names, row.sched);
      if ('bits' in row) assert.deepEqual(r, { ok: true, value: row.bits });
      else assert.equal(!r.ok && r.error.code, row.code);
    });
  }
  assert.deepEqual(schedFlagNames(0x18, 'sh'), ['sh-fallback', 'sh-port']);
  assert.deepEqual(schedFlagNames(0x38, 'rr'), ['flag-1', 'flag-2', 'flag-3']);
});

test('netmasks: dotted for IPv4, a prefix length 1..128 for IPv6, null for the default', async (t) => {
  const rows = [
    { desc: 'IPv4 default', text: null, family: 4, value: 0xffffffff },
    { desc: 'IPv6 default', text: null, family: 6, value: 128 },
    { desc: '255.255.255.0', text: '255.255.255.0', family: 4, value: 0xffffff00 },
    { desc: 'IPv6 64', text: '64', family: 6, value: 64 },
    { desc: 'IPv6 0 is illegal', text: '0', family: 6, error: true },
    { desc: 'IPv6 129 is illegal', text: '129', family: 6, error: true },
    { desc: 'IPv4 prefix length is not a netmask', text: '24', family: 4, error: true },
    { desc: 'IPv4 three octets', text: '255.255.255', family: 4, error: true },
  ] as const;
  for (const row of rows) {
    await t.test(row.desc, () => {
      const r = parseNetmask(row.text, row.family);
      if ('value' in row) assert.deepEqual(r, { ok: true, value: row.value });
      else assert.equal(!r.ok && r.error.code, 'NETMASK_INVALID');
    });
  }
  assert.equal(netmaskText(0xffffff00, 4), '255.255.255.0');
  assert.equal(netmaskText(64, 6), '64');
});

test('addresses, ports, protocols, forwarding methods', () => {
  assert.equal(parseAddress('[2001:db8::1]').ok && parseAddress('[2001:db8::1]').ok, true);
  assert.equal(parseAddress('10.0.0.1').ok, true);
  assert.equal(parseAddress('10.0.0').ok, false);
  assert.deepEqual(parsePort('80'), { ok: true, value: 80 });
  assert.deepEqual(parsePort(65535), { ok: true, value: 65535 });
  assert.equal(parsePort(65536).ok, false);
  assert.equal(parsePort('8o').ok, false);
  assert.deepEqual(parseProtocol('TCP'), { ok: true, value: 'tcp' });
  assert.equal(parseProtocol('icmp').ok, false);
  assert.deepEqual(parseFwdMethod('fullnat'), { ok: true, value: 'fullnat' });
  assert.equal(parseFwdMethod('dr').ok, false);
});

test('tunnel options as ipvsadm --tun-type/--tun-port/--tun-*csum allow them', async (t) => {
  const rows = [
    { desc: 'ipip', args: ['ipip', 0, 'nocsum'], ok: true },
    { desc: 'ipip with csum', args: ['ipip', 0, 'csum'], ok: false },
    { desc: 'gre csum', args: ['gre', 0, 'csum'], ok: true },
    { desc: 'gre remcsum', args: ['gre', 0, 'remcsum'], ok: false },
    { desc: 'gue needs a port', args: ['gue', 0, 'nocsum'], ok: false },
    { desc: 'gue remcsum', args: ['gue', 6080, 'remcsum'], ok: true },
    { desc: 'unknown type', args: ['vxlan', 0, 'nocsum'], ok: false },
  ] as const satisfies readonly { desc: string; args: readonly [string, number, string]; ok: boolean }[];
  for (const row of rows) {
    await t.test(row.desc, () => assert.equal(parseTunnel(row.args[0], row.args[1], row.args[2]).ok, row.ok));
  }
});

test('--set timeouts 0..2678400 and listen addresses', () => {
  assert.deepEqual(parseSetTimeout(0), { ok: true, value: 0 });
  assert.deepEqual(parseSetTimeout(2678400), { ok: true, value: 2678400 });
  assert.equal(parseSetTimeout(2678401).ok, false);
  assert.equal(parseSetTimeout(1.5).ok, false);
  assert.deepEqual(parseHostPort('[::1]:80'), { ok: true, value: { host: '::1', port: 80 } });
  assert.deepEqual(parseHostPort('localhost:9100'), { ok: true, value: { host: 'localhost', port: 9100 } });
  assert.equal(parseHostPort('::1:80').ok, false);
});
