// Helpers for the VRRP tests: resolved instances from keepalived-style config, received adverts built
// with the codec, and a one-instance driver that steps the pure FSM with an injected clock.
import assert from 'node:assert/strict';
import { addr, type Addr } from '../../src/core/addr.ts';
import { resolveVrrpConfig, type ResolvedInstance, type VrrpGlobalDefs, type VrrpInstanceConfig } from '../../src/vrrp/config.ts';
import { initialState, step, type Action, type InstanceState, type StepContext, type TrackingTotals, type VrrpEvent } from '../../src/vrrp/fsm.ts';
import { encodeAhPacket } from '../../src/vrrp/ah.ts';
import { AUTH_TYPE, IPPROTO_VRRP, VRRP_TOS, encodeIpv4, encodeVrrp, passwordAuthData } from '../../src/vrrp/packet.ts';
import type { ReceivedPacket } from '../../src/vrrp/receive-check.ts';

export const S = 1_000_000;
export const MS = 1_000;

export const LOCAL = '198.18.10.2';
export const PEER = '198.18.10.1';
export const VIP = '198.18.10.100';

export function resolveOne(ic: Partial<VrrpInstanceConfig>, g: VrrpGlobalDefs = {}): ResolvedInstance {
  const r = resolveVrrpConfig({
    global_defs: g,
    vrrp_instance: [{ name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: [`${VIP}/24 dev eth0`], ...ic }],
  });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, [], 'test config resolves without errors');
  assert.equal(r.vrrp.instances.length, 1);
  return r.vrrp.instances[0];
}

export interface AdvertOpts {
  src?: string;
  dst?: string;
  prio?: number;
  vrid?: number;
  version?: 2 | 3;
  /** v2 seconds / v3 centiseconds. */
  adv?: number;
  addrs?: string[];
  authType?: number;
  pass?: string;
  ttl?: number;
  ahSeq?: number;
  /** Change bytes after encoding (checksums are not fixed up). */
  corrupt?: (data: Uint8Array) => void;
  /** Drop this many bytes from the end. */
  truncate?: number;
}

/** An IPv4 advert as a raw socket would deliver it. */
export function advert(o: AdvertOpts = {}): ReceivedPacket {
  const version = o.version ?? 2;
  const src = addr(o.src ?? PEER);
  const dst = addr(o.dst ?? '224.0.0.18');
  const authType = o.authType ?? AUTH_TYPE.none;
  const authData = authType === AUTH_TYPE.pass ? passwordAuthData(o.pass ?? '') : new Uint8Array(8);
  const msg = encodeVrrp({
    version, family: 4, vrid: o.vrid ?? 51, priority: o.prio ?? 100, adverInt: o.adv ?? (version === 2 ? 1 : 100),
    addrs: (o.addrs ?? [VIP]).map(addr), authType: version === 2 ? authType : undefined, authData: version === 2 ? authData : undefined,
  }, { src, dst });
  const ttl = o.ttl ?? 255;
  const data = authType === AUTH_TYPE.ah
    ? encodeAhPacket({ tos: VRRP_TOS, id: 1, ttl, src, dst }, o.ahSeq ?? 1, passwordAuthData(o.pass ?? ''), msg, !isMcast(dst))
    : encodeIpv4({ tos: VRRP_TOS, id: 1, ttl, protocol: IPPROTO_VRRP, src, dst }, msg);
  o.corrupt?.(data);
  return { family: 4, data: o.truncate ? data.subarray(0, data.length - o.truncate) : data, src, dst, ttl };
}

function isMcast(a: Addr): boolean {
  return a.family === 4 && (a.bytes[0] & 0xf0) === 0xe0;
}

export const NO_TRACKING = (cfg: ResolvedInstance): TrackingTotals => ({ totalPriority: cfg.basePriority, faults: 0, initPending: 0 });

/** Steps one instance; keeps every action, with the time it happened. */
export class Driver {
  readonly cfg: ResolvedInstance;
  state: InstanceState;
  now = 0;
  readonly log: { at: number; action: Action }[] = [];
  ctx: StepContext = {};

  constructor(cfg: ResolvedInstance, totals: TrackingTotals = NO_TRACKING(cfg), local: string | null = LOCAL) {
    this.cfg = cfg;
    this.state = initialState(cfg, totals, local ? addr(local) : null);
  }

  /** Step one event at `at` (absolute µs); returns that step's actions. */
  on(event: VrrpEvent, at = this.now): Action[] {
    assert.ok(at >= this.now, 'time never goes back');
    this.now = at;
    const r = step(this.cfg, this.state, event, at, this.ctx);
    this.state = r.state;
    for (const action of r.actions) this.log.push({ at, action });
    return [...r.actions];
  }

  start(at = 0): Action[] {
    return this.on({ type: 'start' }, at);
  }

  packet(o: AdvertOpts, at = this.now): Action[] {
    return this.on({ type: 'packet', packet: advert(o) }, at);
  }

  /** Fire the timer at its deadline (asserting there is one). */
  fire(): Action[] {
    const d = this.deadline();
    assert.notEqual(d, null, 'a deadline is pending');
    return this.on({ type: 'timer' }, d as number);
  }

  deadline(): number | null {
    const s = this.state;
    let d = s.sands;
    for (const t of [s.garpDelayAt, s.lowerPrioGarpAt]) if (t !== null && (d === null || t < d)) d = t;
    return d;
  }

  /** Run timers only (no packets) until `until`. */
  runUntil(until: number): void {
    for (let i = 0; i < 100_000; i++) {
      const d = this.deadline();
      if (d === null || d > until) break;
      this.on({ type: 'timer' }, d);
    }
    this.now = Math.max(this.now, until);
  }
}

/** Compact action list for assertions. */
export function kinds(actions: readonly Action[]): string[] {
  return actions.filter((a) => a.type !== 'log' && a.type !== 'count').map((a) => {
    switch (a.type) {
      case 'send-advert': return `advert:${a.priority}`;
      case 'garp': return `garp:${a.repeat}`;
      case 'notify': return `notify:${a.state}`;
      case 'notify-event': return `event:${a.event}`;
      case 'drop': return `drop:${a.reason}`;
      case 'remove-addresses': return a.residual ? 'remove-residual' : 'remove-addresses';
      default: return a.type;
    }
  });
}
