// Gratuitous ARP and unsolicited NA frames against what keepalived 2.2.7 put on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { garpFrame, unsolicitedNaFrame } from '../../src/vrrp/garp-frame.ts';
import { parseMac } from '../../src/sys/ip.ts';
import { readPcap, sampleHex, toHex } from './pcap.ts';

test('gratuitous ARP: the garp-takeover.txt frame, byte for byte', () => {
  const mac = parseMac('02:00:c6:12:0a:02')!;
  const frame = garpFrame(mac, addr('198.18.10.100'));
  assert.equal(toHex(frame), toHex(sampleHex('garp-takeover.txt', 'ethernet frame')));
});

test('unsolicited NA: the frames keepalived sent for fe80::52 and 2001:db8:10::100, byte for byte', () => {
  const nas = readPcap('keepalived-ipv6-ah.pcap').map((f) => f.frame)
    .filter((fr) => ((fr[12] << 8) | fr[13]) === 0x86dd && fr[14 + 6] === 58 && fr[54] === 136);
  assert.ok(nas.length >= 10, 'five rounds for two addresses');
  const mac = parseMac('02:00:c6:12:0a:01')!;
  const want = new Set(nas.map(toHex));
  for (const a of ['fe80::52', '2001:db8:10::100']) {
    // keepalived sets the Router flag only when the interface forwards; the lab host does not.
    const mine = toHex(unsolicitedNaFrame(mac, addr(a), false));
    assert.ok(want.has(mine), `${a}: ${mine}`);
  }
  const routerFlag = unsolicitedNaFrame(mac, addr('fe80::52'), true);
  assert.equal(routerFlag[54 + 4], 0xa0, 'R and O');
});
