// The C-library value parsers keepvsadm reads arguments with (src/config/endpoint.ts): glibc's
// inet_aton and inet_ntop, strtol as ipvsadm.c's string_to_number/parse_fwmark use it, parse_service,
// and /etc/services lookups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ServicesDb, addrText, inetAton, inetPton6, parseFwmarkText, parseServiceAddress, stringToNumber,
} from '../../src/config/endpoint.ts';

const ATON: readonly [string, string | null][] = [
  ['10.0.0.1', '10.0.0.1'], ['10.1', '10.0.0.1'], ['10.1.2', '10.1.0.2'], ['167772161', '10.0.0.1'],
  ['0x0a.0.0.1', '10.0.0.1'], ['010.0.0.1', '8.0.0.1'], ['1.2.3.4 trailing', '1.2.3.4'], ['1.2.3.256', null],
  ['08.0.0.1', null], ['0x', null], ['1.2.3.4.5', null], ['1..2', null], ['', null], ['a.b.c.d', null], ['1.16777215', '1.255.255.255'],
];

for (const [text, want] of ATON) {
  test(`inet_aton("${text}") = ${want}`, () => {
    const b = inetAton(text);
    assert.equal(b === null ? null : addrText(b), want);
  });
}

const NTOP: readonly [string, string][] = [
  ['0:0:0:0:0:0:0:0', '::'], ['0:0:0:0:0:0:0:1', '::1'], ['0:0:0:0:0:0:102:304', '::1.2.3.4'],
  ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], ['1:0:0:0:0:0:0:0', '1::'], ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
];

for (const [text, want] of NTOP) {
  test(`inet_ntop(${text}) = ${want} (glibc inet_ntop6)`, () => {
    assert.equal(addrText(inetPton6(text) as Uint8Array), want);
  });
}

const NUMBERS: readonly [string, number, number, number][] = [
  ['80', 0, 65535, 80], [' 80', 0, 65535, 80], ['+80', 0, 65535, 80], ['-0', 0, 65535, 0], ['80 ', 0, 65535, -1],
  ['0x50', 0, 65535, -1], ['', 0, 65535, -1], ['65536', 0, 65535, -1], ['99999999999999999999', 0, 65535, -1],
];

for (const [s, min, max, want] of NUMBERS) {
  test(`string_to_number("${s}", ${min}, ${max}) = ${want} (strtol rules)`, () => {
    assert.equal(stringToNumber(s, min, max), want);
  });
}

test('parse_fwmark: 1..UINT_MAX, strtol rules, negatives refused', () => {
  assert.equal(parseFwmarkText('1'), 1);
  assert.equal(parseFwmarkText(' 7'), 7);
  assert.equal(parseFwmarkText('4294967295'), 4294967295);
  assert.equal(parseFwmarkText('0'), null);
  assert.equal(parseFwmarkText('-1'), null);
  assert.equal(parseFwmarkText('4294967296'), null);
  assert.equal(parseFwmarkText('1x'), null);
});

const DB = new ServicesDb('# comment\nhttp\t80/tcp\twww www-http\t# WWW\nhttp\t80/udp\ndomain\t53/udp\nalt\t80/tcp\n');

test('/etc/services: names, aliases, per protocol; the first entry names a port', () => {
  assert.equal(DB.portOf('http', 'tcp'), 80);
  assert.equal(DB.portOf('www-http', 'tcp'), 80);
  assert.equal(DB.portOf('domain', 'tcp'), null);
  assert.equal(DB.nameOf(80, 'tcp'), 'http');
  assert.equal(DB.nameOf(53, 'udp'), 'domain');
  assert.equal(DB.nameOf(8080, 'tcp'), null);
});

const noHost = () => null;
const svcs = (name: string, proto: number) => (proto === 6 ? DB.portOf(name, 'tcp') : null);

const SERVICE_ROWS: readonly { text: string; want: string }[] = [
  { text: '10.0.0.1:80', want: '3 4 10.0.0.1 80' },
  { text: '10.0.0.1', want: '1 4 10.0.0.1 -' },
  { text: '10.0.0.1:http', want: '3 4 10.0.0.1 80' },
  { text: '10.0.0.1:nope', want: '0' },
  { text: '[2001:db8::1]:80', want: '3 6 2001:db8::1 80' },
  { text: '[2001:db8::1]', want: '0' },
  { text: '[2001:db8::1]:', want: '0' },
  { text: '2001:db8::1', want: '1 6 2001:db8::1 -' },
  { text: '[10.0.0.1]:80', want: '1 4 10.0.0.1 -' },
  { text: '1234', want: '0' },
  { text: '', want: '0' },
  { text: ':80', want: '0' },
];

for (const r of SERVICE_ROWS) {
  test(`parse_service("${r.text}")`, () => {
    const p = parseServiceAddress(r.text, 6, noHost, svcs);
    const got = p.result === 0 ? '0' : `${p.result} ${p.family} ${addrText(p.bytes)} ${p.port ?? '-'}`;
    assert.equal(got, r.want);
  });
}
