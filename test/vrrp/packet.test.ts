// The codec against every captured packet of real keepalived 2.2.7 (test/fixtures/vrrp/, copied from the
// shared samples; keepalived-ipv6-ah.pcap captured for this suite in the same netns lab): decode gives the
// annotated fields, and re-encoding those fields gives the captured bytes back, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr, addrFromBytes } from '../../src/core/addr.ts';
import {
  AUTH_TYPE, IPPROTO_AH, IPPROTO_VRRP, VRRP_TOS, encodeIpv4, encodeVrrp, locateVrrp, parseAhHeader, parseIpv4Header,
  parseVrrpHeader, passwordAuthData, readAddrs, vrrpChecksum, vrrpChecksumValid, vrrpMessageLength,
} from '../../src/vrrp/packet.ts';
import { encodeAhPacket, verifyAh } from '../../src/vrrp/ah.ts';
import { inetChecksum } from '../../src/vrrp/checksum.ts';
import { readPcap, sampleHex, toHex } from './pcap.ts';

const SAMPLES = [
  { file: 'vrrpv2-advert-mcast.txt', version: 2, prio: 150, adv: 1, dst: '224.0.0.18', id: 10, csum: 0x3b39 },
  { file: 'vrrpv2-advert-mcast-prio0.txt', version: 2, prio: 0, adv: 1, dst: '224.0.0.18', id: 7, csum: 0xd139 },
  { file: 'vrrpv2-advert-ucast.txt', version: 2, prio: 150, adv: 1, dst: '198.18.10.2', id: 3, csum: 0x3b39 },
  { file: 'vrrpv3-advert-mcast.txt', version: 3, prio: 150, adv: 10, dst: '224.0.0.18', id: 34, csum: 0xb7a7 },
  { file: 'vrrpv3-advert-ucast.txt', version: 3, prio: 150, adv: 100, dst: '198.18.10.2', id: 3, csum: 0xc74b },
  { file: 'vrrpv3-advert-ucast-prio0.txt', version: 3, prio: 0, adv: 100, dst: '198.18.10.2', id: 15, csum: 0x5d4c },
] as const;

const SRC = addr('198.18.10.1');
const VIP = addr('198.18.10.100');

for (const s of SAMPLES) {
  test(`${s.file}: decodes to the annotated fields and re-encodes to the same bytes`, () => {
    const pkt = sampleHex(s.file, 'ip packet');
    const ip = parseIpv4Header(pkt);
    assert.ok(ip);
    assert.equal(ip.tos, VRRP_TOS);
    assert.equal(ip.ttl, 255);
    assert.equal(ip.protocol, IPPROTO_VRRP);
    assert.equal(ip.fragment, 0, 'DF is not set');
    assert.equal(ip.id, s.id);
    assert.equal(ip.src.text, SRC.text);
    assert.equal(ip.dst.text, s.dst);
    const hd = parseVrrpHeader(pkt, 20);
    assert.deepEqual(
      { version: hd.version, type: hd.type, vrid: hd.vrid, priority: hd.priority, naddr: hd.naddr, adverInt: hd.adverInt, checksum: hd.checksum },
      { version: s.version, type: 1, vrid: 51, priority: s.prio, naddr: 1, adverInt: s.adv, checksum: s.csum },
    );
    assert.equal(hd.authType, s.version === 2 ? AUTH_TYPE.pass : 0);
    assert.deepEqual(readAddrs(4, pkt, 28, 1).map((a) => a.text), [VIP.text]);
    assert.equal(pkt.length, 20 + vrrpMessageLength(s.version, 4, 1));

    const msg = encodeVrrp({
      version: s.version, family: 4, vrid: 51, priority: s.prio, adverInt: s.adv, addrs: [VIP],
      authType: s.version === 2 ? AUTH_TYPE.pass : undefined, authData: s.version === 2 ? passwordAuthData('s3cret') : undefined,
    }, { src: SRC, dst: addr(s.dst) });
    const again = encodeIpv4({ tos: VRRP_TOS, id: s.id, ttl: 255, protocol: IPPROTO_VRRP, src: SRC, dst: addr(s.dst) }, msg);
    assert.equal(toHex(again), toHex(pkt));
  });
}

test('VRRPv3 checksums include the IPv4 pseudo-header; without it they are the values the samples quote', () => {
  const rows = [
    { file: 'vrrpv3-advert-mcast.txt', withoutPseudo: 0x684a },
    { file: 'vrrpv3-advert-ucast.txt', withoutPseudo: 0x67f0 },
    { file: 'vrrpv3-advert-ucast-prio0.txt', withoutPseudo: 0xfdf0 },
  ];
  for (const r of rows) {
    const msg = Uint8Array.from(sampleHex(r.file, 'vrrp message'));
    msg[6] = 0;
    msg[7] = 0;
    assert.equal(inetChecksum(msg), r.withoutPseudo, r.file);
  }
});

const PCAPS = ['v2-mcast.pcap', 'v2-ucast.pcap', 'v3-mcast.pcap', 'v3-ucast.pcap'];
for (const name of PCAPS) {
  test(`${name}: every frame decodes, verifies and re-encodes byte for byte`, () => {
    const frames = readPcap(name);
    assert.ok(frames.length >= 3);
    for (const f of frames) {
      assert.equal((f.frame[12] << 8) | f.frame[13], 0x0800);
      const pkt = f.frame.subarray(14);
      const loc = locateVrrp(4, pkt);
      assert.ok(loc?.ip);
      const hd = parseVrrpHeader(pkt, loc.vrrpOffset);
      const msg = pkt.subarray(20, 20 + vrrpMessageLength(hd.version, 4, hd.naddr));
      assert.ok(vrrpChecksumValid(hd.version, 4, msg, { src: loc.ip.src, dst: loc.ip.dst }));
      const again = encodeIpv4(
        { tos: loc.ip.tos, id: loc.ip.id, ttl: loc.ip.ttl, protocol: loc.ip.protocol, src: loc.ip.src, dst: loc.ip.dst },
        encodeVrrp({
          version: hd.version as 2 | 3, family: 4, vrid: hd.vrid, priority: hd.priority, adverInt: hd.adverInt,
          addrs: readAddrs(4, pkt, 28, hd.naddr), authType: hd.authType, authData: hd.version === 2 ? pkt.subarray(32, 40) : undefined,
        }, { src: loc.ip.src, dst: loc.ip.dst }),
      );
      assert.equal(toHex(again), toHex(pkt));
    }
  });
}

test('v2-ucast.pcap actually holds VRRPv3 unicast adverts (the sample README calls it v2)', () => {
  const versions = new Set(readPcap('v2-ucast.pcap').map((f) => f.frame[14 + 20] >> 4));
  assert.deepEqual([...versions], [3]);
});

/** IPv6 frames of keepalived-ipv6-ah.pcap with next header 112. */
function ipv6Adverts() {
  return readPcap('keepalived-ipv6-ah.pcap')
    .map((f) => f.frame)
    .filter((fr) => ((fr[12] << 8) | fr[13]) === 0x86dd && fr[14 + 6] === IPPROTO_VRRP);
}

test('VRRPv3 over IPv6 from keepalived: checksum with the IPv6 pseudo-header, two addresses, re-encodes', () => {
  const frames = ipv6Adverts();
  assert.ok(frames.length >= 4);
  let sawPrio0 = false;
  for (const fr of frames) {
    const ip6 = fr.subarray(14, 54);
    assert.equal(ip6[7], 255, 'hop limit 255');
    assert.equal(((ip6[0] & 0x0f) << 4) | (ip6[1] >> 4), 0xc0, 'traffic class 0xc0');
    const src = addrFromBytes(ip6.subarray(8, 24));
    const dst = addrFromBytes(ip6.subarray(24, 40));
    assert.equal(src.text, 'fe80::c6ff:fe12:a01');
    assert.equal(dst.text, 'ff02::12');
    const msg = fr.subarray(54);
    const hd = parseVrrpHeader(msg);
    assert.equal(hd.version, 3);
    assert.equal(hd.vrid, 52);
    assert.equal(hd.adverInt, 100);
    assert.deepEqual(readAddrs(6, msg, 8, hd.naddr).map((a) => a.text), ['fe80::52', '2001:db8:10::100']);
    assert.ok(vrrpChecksumValid(3, 6, msg, { src, dst }));
    const again = encodeVrrp({ version: 3, family: 6, vrid: 52, priority: hd.priority, adverInt: 100, addrs: [addr('fe80::52'), addr('2001:db8:10::100')] }, { src, dst });
    assert.equal(toHex(again), toHex(msg));
    if (hd.priority === 0) sawPrio0 = true;
  }
  assert.ok(sawPrio0, 'the capture ends with the priority-0 release');
});

function ahFrames() {
  return readPcap('keepalived-ipv6-ah.pcap')
    .map((f) => f.frame.subarray(14))
    .filter((p) => p[0] >> 4 === 4 && p[9] === IPPROTO_AH);
}

test('VRRPv2 with auth_type AH from keepalived: ICV verifies with the password, re-encodes byte for byte', () => {
  const key = passwordAuthData('s3cret');
  const frames = ahFrames();
  assert.ok(frames.length >= 4);
  frames.forEach((pkt, i) => {
    const ip = parseIpv4Header(pkt);
    assert.ok(ip);
    assert.equal(ip.totalLength, 64);
    const ah = parseAhHeader(pkt, 20);
    assert.equal(ah.nextHeader, IPPROTO_VRRP);
    assert.equal(ah.seq, i + 1, 'sequence numbers start at 1');
    assert.equal(ah.spi, 0xc6120a01, 'SPI = source address');
    assert.equal(verifyAh(pkt, 20, key, false), 'ok');
    assert.equal(verifyAh(pkt, 20, passwordAuthData('wrong'), false), 'icv_invalid');
    const hd = parseVrrpHeader(pkt, 44);
    assert.equal(hd.authType, AUTH_TYPE.ah);
    // keepalived sends zeros (not the password) as v2 auth data with AH, and the checksum covers them.
    assert.equal(toHex(pkt.subarray(56, 64)), '0000000000000000');
    const vrrp = encodeVrrp({ version: 2, family: 4, vrid: hd.vrid, priority: hd.priority, adverInt: 1, addrs: [addr('198.18.10.101')], authType: AUTH_TYPE.ah });
    const again = encodeAhPacket({ tos: VRRP_TOS, id: ip.id, ttl: 255, src: ip.src, dst: ip.dst }, ah.seq, key, vrrp, false);
    assert.equal(toHex(again), toHex(pkt));
  });
});

test('a tampered AH packet fails the ICV; a forged SPI fails the SPI check', () => {
  const key = passwordAuthData('s3cret');
  const pkt = Uint8Array.from(ahFrames()[0]);
  const prio = Uint8Array.from(pkt);
  prio[46] = 254;
  assert.equal(verifyAh(prio, 20, key, false), 'icv_invalid');
  // Mutable fields do not count: TOS and the header checksum may change on the way.
  const tos = Uint8Array.from(pkt);
  tos[1] = 0;
  tos[10] ^= 0xff;
  assert.equal(verifyAh(tos, 20, key, false), 'ok');
  // A consistent packet from another address keeping the SPI of the first.
  const vrrp = pkt.subarray(44);
  const forged = encodeAhPacket({ tos: VRRP_TOS, id: 9, ttl: 255, src: addr('198.18.10.9'), dst: addr('224.0.0.18') }, 5, key, vrrp, false);
  forged.set([0xc6, 0x12, 0x0a, 0x01], 24);
  assert.equal(verifyAh(forged, 20, key, false), 'icv_invalid');
});

test('the IPv6 checksum helper rejects a flipped bit', () => {
  const fr = ipv6Adverts()[0];
  const src = addrFromBytes(fr.subarray(22, 38));
  const dst = addrFromBytes(fr.subarray(38, 54));
  const msg = Uint8Array.from(fr.subarray(54));
  msg[2] ^= 1;
  assert.equal(vrrpChecksumValid(3, 6, msg, { src, dst }), false);
  assert.notEqual(vrrpChecksum(3, 6, msg, { src, dst }), 0);
});
