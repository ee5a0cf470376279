// Malformed input never throws: random and mutated packets through the receive check and the state
// machine, with a fixed seed (deterministic), for every family / version / auth combination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addr } from '../../src/core/addr.ts';
import { checkAdvert, peekVrid } from '../../src/vrrp/receive-check.ts';
import { receiveExpectations, initialState, step } from '../../src/vrrp/fsm.ts';
import { DROP_REASON_NAMES } from '../../src/vrrp/drop-reasons.ts';
import { AUTH_TYPE } from '../../src/vrrp/packet.ts';
import { advert, resolveOne, NO_TRACKING } from './fixtures.ts';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('20 000 mutated and random packets: every one is accepted or dropped with a known reason, none throws', () => {
  const rnd = prng(0x5eed);
  const configs = [
    resolveOne({ authentication: { auth_type: 'PASS', auth_pass: 's3cret' } }),
    resolveOne({ authentication: { auth_type: 'AH', auth_pass: 's3cret' } }),
    resolveOne({ version: 3, unicast_src_ip: '198.18.10.2', unicast_peer: ['198.18.10.1'], check_unicast_src: true }),
    resolveOne({ virtual_ipaddress: ['fe80::52/64', '2001:db8::1/64'] }),
  ];
  const seeds = [
    advert({ authType: AUTH_TYPE.pass, pass: 's3cret' }).data,
    advert({ authType: AUTH_TYPE.ah, pass: 's3cret', ahSeq: 5 }).data,
    advert({ version: 3, dst: '198.18.10.2' }).data,
  ];
  const reasons = new Set<string>(DROP_REASON_NAMES);
  for (let i = 0; i < 20_000; i++) {
    const cfg = configs[i % configs.length];
    let data: Uint8Array;
    if (i % 5 === 0) {
      data = new Uint8Array(Math.floor(rnd() * 80));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(rnd() * 256);
    } else {
      const base = seeds[Math.floor(rnd() * seeds.length)];
      data = Uint8Array.from(base.subarray(0, Math.max(0, base.length - (rnd() < 0.2 ? Math.floor(rnd() * 10) : 0))));
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips && data.length; k++) data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
    }
    const family = cfg.family;
    const pkt = { family, data, src: family === 4 ? addr('198.18.10.1') : addr('fe80::1'), dst: family === 4 ? addr('224.0.0.18') : addr('ff02::12'), ttl: rnd() < 0.9 ? 255 : 1 };
    peekVrid(family, data);
    const st = initialState(cfg, NO_TRACKING(cfg), addr(family === 4 ? '198.18.10.2' : 'fe80::2'));
    const r = checkAdvert(pkt, receiveExpectations(cfg, st), rnd() < 0.5);
    if (!r.ok) assert.ok(reasons.has(r.reason), r.reason);
    const started = step(cfg, st, { type: 'start' }, 0).state;
    step(cfg, started, { type: 'packet', packet: pkt }, 1000);
  }
});
