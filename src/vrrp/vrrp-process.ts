// The VRRP process: every configured instance and sync group, run against a VrrpHost. It owns the
// edges the pure state machine (fsm.ts) asks for: sockets shared per interface/family/mode and
// dispatched by VRID (keepalived vrrp_scheduler.c vrrp_dispatcher_read), one timer per instance at its
// next deadline, addresses/routes/rules through `ip`, gratuitous ARP / NA frames, tracked interfaces,
// vrrp_scripts and track_files, sync groups (vrrp_sync.c), notify scripts and FIFOs, counters.
import { addr as parseAddrLiteral, addrFromBytes, addrEqual, type Addr } from '../core/addr.ts';
import type { Datagram, VrrpSocket } from '../sys/raw-socket.ts';
import type { FrameSender } from '../sys/garp.ts';
import { readLinks, type LinkInfo } from '../sys/ip.ts';
import type { NetlinkEvent } from '../sys/netlink.ts';
import type { GarpLimit, ScriptUserConfig, ResolvedInstance, ResolvedScript, ResolvedSyncGroup, ResolvedTrackFile, ResolvedVrrp, VrrpStateName } from './config.ts';
import type { DropReason } from './drop-reasons.ts';
import { encodeAhPacket } from './ah.ts';
import {
  initialState, nextDeadline, step, type Action, type InstanceState, type StepContext, type SyncContext, type VrrpCounter, type VrrpEvent,
} from './fsm.ts';
import { announceFrame } from './garp-frame.ts';
import type { TimerHandle, VrrpHost } from './host.ts';
import { eventNotify, stateNotify, type NotifyCommands } from './notify.ts';
import {
  AUTH_TYPE, IPPROTO_AH, IPPROTO_VRRP, VRRP_TOS, encodeIpv4, encodeVrrp, parseIpv4Header,
} from './packet.ts';
import { peekVrid, type ReceivedPacket } from './receive-check.ts';
import {
  initialScriptCounter, scriptOutcome, scriptStatus, trackingTotals, type ScriptCounter, type ScriptStatus, type TrackerStatuses,
} from './tracking.ts';
import { splitWords, vipAddArgs, vipDelArgs, vipDev, type Vip } from './vip.ts';
import type { ScriptIdentity } from '../sys/exec.ts';
import { addressDiff, carryScriptCounter, keepsState, matchInstance, reloadedState } from './reload.ts';
import { VmacManager, advertInterface, vipInterface } from './vmac.ts';
import { countMatches, initialProcessTracker, stepProcessTracker, type ProcessTrackerState, type ResolvedTrackProcess } from './track-process.ts';

/**
 * How often /proc is read for track_process. keepalived is told at once by the kernel's proc connector
 * (CAP_NET_ADMIN, netlink); a poll notices a fork or an exit up to this much later.
 */
export const PROCESS_POLL_US = 1_000_000;

/** Counters per instance (keepalived vrrp_stats names) plus drops by reason. */
export interface InstanceStats {
  counters: Record<VrrpCounter, number>;
  drops: Partial<Record<DropReason, number>>;
  sendErrors: number;
  ipErrors: number;
}

export interface InstanceStatus {
  readonly name: string;
  readonly vrid: number;
  readonly family: 4 | 6;
  readonly version: 2 | 3;
  readonly interface: string | null;
  readonly state: VrrpStateName;
  readonly wantState: string;
  readonly basePriority: number;
  readonly effectivePriority: number;
  readonly masterAddr: string | null;
  readonly masterPriority: number;
  readonly vipSet: boolean;
  readonly lastTransitionUs: number;
  readonly syncGroup: string | null;
  readonly stats: InstanceStats;
}

export interface VrrpStatus {
  readonly instances: readonly InstanceStatus[];
  readonly groups: readonly { name: string; state: VrrpStateName }[];
  /** Packets no instance could take (too short, unknown VRID, truncated). */
  readonly unclaimed: Partial<Record<DropReason, number>>;
}

/** A state change, for tests and observers (API/SSE later). */
export interface TransitionEvent {
  readonly instance: string;
  readonly from: VrrpStateName;
  readonly to: VrrpStateName;
  readonly atUs: number;
}

interface Pooled {
  readonly key: string;
  readonly socket: VrrpSocket;
  readonly family: 4 | 6;
  readonly members: InstanceRuntime[];
}

interface InstanceRuntime {
  readonly cfg: ResolvedInstance;
  state: InstanceState;
  timer: TimerHandle | null;
  pool: Pooled | null;
  ipId: number;
  /** Serialises address changes and the GARPs that must follow them. */
  chain: Promise<void>;
  stats: InstanceStats;
  lastTransitionUs: number;
  group: GroupRuntime | null;
  lastDropLog: Map<DropReason, { at: number; suppressed: number }>;
  localAddr: Addr | null;
  /** Its addresses that are on the interfaces (added as MASTER, not yet released): the data plane may serve them. */
  held: readonly string[];
}

interface GroupRuntime {
  readonly cfg: ResolvedSyncGroup;
  state: VrrpStateName;
  readonly members: InstanceRuntime[];
}

/** One interface's (or garp_group's) gratuitous ARP / NA spacing and when the next frame may leave (µs, 0 = now). */
interface GarpLimiter {
  readonly garpUs: number;
  readonly gnaUs: number;
  garpNext: number;
  gnaNext: number;
}

interface ScriptRuntime {
  readonly cfg: ResolvedScript;
  counter: ScriptCounter;
  running: boolean;
  timer: TimerHandle | null;
  /** The account it runs as (script_user); undefined = ours. */
  identity?: ScriptIdentity;
  /** Refused by the script checks (enable_script_security, not found): not run, not tracked. */
  disabled?: boolean;
}

const ZERO_COUNTERS = (): Record<VrrpCounter, number> => ({
  advert_rcvd: 0, advert_sent: 0, become_master: 0, release_master: 0, pri_zero_rcvd: 0, pri_zero_sent: 0,
});

export interface VrrpProcessOptions {
  /** Observer for state changes. */
  readonly onTransition?: (e: TransitionEvent) => void;
  /**
   * The held addresses changed: called after a new MASTER's addresses were added, and as soon as a
   * MASTER decides to release them (before they are removed), with every address held now.
   */
  readonly onHeldChange?: (held: ReadonlySet<string>) => void;
}

export class VrrpProcess {
  private readonly host: VrrpHost;
  private cfg: ResolvedVrrp;
  private readonly instances: InstanceRuntime[] = [];
  private readonly groups: GroupRuntime[] = [];
  private readonly pools = new Map<string, Pooled>();
  private readonly scripts = new Map<string, ScriptRuntime>();
  private readonly files = new Map<string, number>();
  private readonly fileWatches: { close(): void }[] = [];
  private links = new Map<string, LinkInfo>();
  private linkWatch: { close(): Promise<void> } | null = null;
  private linkPoll: TimerHandle | null = null;
  private frames: FrameSender | null = null;
  private readonly unclaimed: Partial<Record<DropReason, number>> = {};
  private limiters = new Map<string, GarpLimiter | null>();
  private groupLimiters = new Map<GarpLimit, GarpLimiter>();
  private readonly pendingAnnounce = new Map<string, { rt: InstanceRuntime; addr: Addr; dev: string }>();
  private announceTimer: TimerHandle | null = null;
  private readonly procTrackers = new Map<string, { cfg: ResolvedTrackProcess; state: ProcessTrackerState }>();
  private procPoll: TimerHandle | null = null;
  private readonly opts: VrrpProcessOptions;
  private started = false;
  /** vrrp_startup_delay's end (µs), set at the first start only; undefined = none. */
  private delayedStartUntil: number | undefined = undefined;
  private stopping: Promise<void> | null = null;
  private readonly pendingExec = new Set<Promise<unknown>>();
  private readonly vmacs: VmacManager;

  constructor(cfg: ResolvedVrrp, host: VrrpHost, opts: VrrpProcessOptions = {}) {
    this.cfg = cfg;
    this.host = host;
    this.opts = opts;
    this.vmacs = new VmacManager(host);
  }

  /** use_vmac: create the vmacs not made yet (before the sockets open on them); the names that failed. */
  private async createVmacs(list: readonly ResolvedInstance[]): Promise<Set<string>> {
    const failed = new Set<string>();
    for (const ic of list) {
      if (ic.vmac && !this.vmacs.has(ic.vmac.name) && !(await this.vmacs.create(ic, this.links.get(ic.interface ?? '')))) failed.add(ic.name);
    }
    for (const ic of list) {
      if (failed.has(ic.name)) this.vmacFailed.add(ic.name);
      else this.vmacFailed.delete(ic.name);
    }
    return failed;
  }

  /** Instances whose vmac could not be created: held in FAULT (a tracked fault, so retracking keeps it). */
  private readonly vmacFailed = new Set<string>();

  private now(): number {
    return this.host.clock.now();
  }

  // -------------------------------------------------------------------------------------------- start

  async start(): Promise<void> {
    if (this.started) throw new Error('VRRP process already started');
    this.started = true;
    const h = this.host;
    if (this.cfg.startupDelayUs > 0) {
      this.delayedStartUntil = this.now() + this.cfg.startupDelayUs;
      h.log('info', `Delaying startup for ${this.cfg.startupDelayUs / 1_000_000} seconds`);
    }
    try {
      this.setLinks(await readLinks(h.ip));
    } catch (e) {
      h.log('error', `cannot read interfaces: ${(e as Error).message}`);
    }
    // use_vmac: the vmacs exist before the sockets open on them; read the interfaces again to see them.
    const vmacFailed = await this.createVmacs(this.cfg.instances);
    if (this.vmacs.names().length > 0) {
      try {
        this.setLinks(await readLinks(h.ip));
      } catch (e) {
        h.log('error', `cannot read interfaces: ${(e as Error).message}`);
      }
    }
    this.frames = h.openFrameSender();
    if (!this.frames) h.log('warn', 'gratuitous ARP / unsolicited NA disabled: cannot open an AF_PACKET socket');
    this.linkWatch = h.watchLinks((ev) => this.onNetlink(ev));
    if (!this.linkWatch) this.pollLinks();

    for (const f of this.cfg.trackFiles) this.setupTrackFile(f);
    for (const s of this.cfg.scripts) this.scripts.set(s.name, { cfg: s, counter: initialScriptCounter(s), running: false, timer: null });
    this.checkScripts();
    this.setupProcessTrackers(new Map());

    for (const ic of this.cfg.instances) this.instances.push(this.newRuntime(ic));
    this.buildGroups();
    for (const rt of this.instances) {
      rt.localAddr = this.localAddrOf(rt.cfg);
      rt.state = initialState(rt.cfg, this.totalsOf(rt), rt.localAddr);
      // No vmac: no socket on it either; totalsOf counts the fault.
      if (vmacFailed.has(rt.cfg.name)) continue;
      try {
        rt.pool = this.poolFor(rt);
      } catch (e) {
        h.log('error', `(${rt.cfg.name}) cannot open VRRP socket: ${(e as Error).message}`);
        rt.state = { ...rt.state, faults: rt.state.faults + 1, state: 'FAULT' };
      }
    }
    // Group start state (vrrp_sync_set_group): MASTER only if every member is an owner wanting MASTER.
    for (const g of this.groups) {
      const allOwners = g.members.every((m) => m.state.wantState === 'MASTER' && m.cfg.basePriority === 255);
      g.state = g.members.some((m) => m.state.state === 'FAULT') ? 'FAULT' : allOwners ? 'MASTER' : 'BACKUP';
      if (g.state === 'FAULT' || g.state === 'BACKUP') this.groupNotify(g);
    }
    for (const rt of this.instances) this.apply(rt, { type: 'start' });
    for (const s of this.scripts.values()) this.runScript(s);
  }

  private newRuntime(ic: ResolvedInstance): InstanceRuntime {
    return {
      cfg: ic, state: undefined as unknown as InstanceState, timer: null, pool: null, ipId: 0, chain: Promise.resolve(),
      stats: { counters: ZERO_COUNTERS(), drops: {}, sendErrors: 0, ipErrors: 0 }, lastTransitionUs: this.now(), group: null,
      lastDropLog: new Map(), localAddr: null, held: [],
    };
  }

  private buildGroups(): void {
    for (const g of this.cfg.syncGroups) {
      const members = g.members.map((m) => this.instances.find((i) => i.cfg.name === m)).filter((x): x is InstanceRuntime => !!x);
      const gr: GroupRuntime = { cfg: g, state: 'BACKUP', members };
      for (const m of members) m.group = gr;
      this.groups.push(gr);
    }
  }

  // -------------------------------------------------------------------------------------------- state

  private syncContext(rt: InstanceRuntime): SyncContext | undefined {
    const g = rt.group;
    if (!g) return undefined;
    const others = g.members.filter((m) => m !== rt);
    return {
      groupState: g.state,
      othersWantMaster: others.every((o) => o.state.wantState === 'MASTER' || o.state.state === 'MASTER'),
      othersFaulted: others.some((o) => o.state.faults > 0),
      memberInitPending: g.members.some((m) => m.state.initPending > 0),
    };
  }

  /** Step one instance with one event and perform what it asks for; sync-group reactions follow. */
  private apply(rt: InstanceRuntime, event: VrrpEvent, react = true): void {
    const now = this.now();
    const prev = rt.state.state;
    const ctx: StepContext = { sync: this.syncContext(rt), delayedStartUntil: this.delayedStartUntil };
    const r = step(rt.cfg, rt.state, event, now, ctx);
    rt.state = r.state;
    this.perform(rt, r.actions);
    if (prev !== rt.state.state) {
      rt.lastTransitionUs = now;
      this.opts.onTransition?.({ instance: rt.cfg.name, from: prev, to: rt.state.state, atUs: now });
    }
    if (react && rt.group) this.syncReact(rt, prev);
    this.schedule(rt);
  }

  private schedule(rt: InstanceRuntime): void {
    rt.timer?.cancel();
    rt.timer = null;
    const d = nextDeadline(rt.state);
    if (d === null || this.stopping) return;
    rt.timer = this.host.clock.setTimer(d, () => {
      rt.timer = null;
      this.apply(rt, { type: 'timer' });
    });
  }

  /** vrrp_scheduler.c VRRP_TSM_HANDLE and the sync calls of down_instance / try_up_instance. */
  private syncReact(rt: InstanceRuntime, prev: VrrpStateName): void {
    const g = rt.group!;
    const cur = rt.state.state;
    if (cur === prev && cur !== 'MASTER') return;
    if (cur === 'FAULT') {
      if (g.state === 'FAULT') return;
      for (const o of g.members) if (o !== rt && o.state.state !== 'FAULT') this.apply(o, { type: 'sync-fault' }, false);
      g.state = 'FAULT';
      this.groupNotify(g);
      return;
    }
    if (cur === 'STOP') return;
    if (prev === 'FAULT' && g.members.some((m) => m.state.faults > 0)) return;
    if (cur === 'MASTER') {
      if (g.state === 'MASTER') return;
      const others = g.members.filter((m) => m !== rt);
      if (!others.every((o) => o.state.wantState === 'MASTER' || o.state.state === 'MASTER')) return;
      for (const o of others) if (o.state.state !== 'MASTER') this.apply(o, { type: 'sync-master' }, false);
      g.state = 'MASTER';
      this.groupNotify(g);
    } else if (cur === 'BACKUP' && (prev === 'MASTER' || prev === 'FAULT')) {
      if (g.state === 'BACKUP') return;
      for (const o of g.members) if (o !== rt && o.state.state !== 'BACKUP') this.apply(o, { type: 'sync-backup' }, false);
      g.state = 'BACKUP';
      this.groupNotify(g);
    }
  }

  // -------------------------------------------------------------------------------------------- actions

  private perform(rt: InstanceRuntime, actions: readonly Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send-advert': this.sendAdvert(rt, a.priority, a.ahSeq); break;
        case 'add-addresses':
          this.queue(rt, async () => {
            await this.addAddresses(rt);
            // Still MASTER once the `ip` commands are done (a release may have been queued behind them).
            if (rt.state.vipSet) this.setHolding(rt, true);
          });
          break;
        case 'remove-addresses':
          this.setHolding(rt, false);
          this.queue(rt, () => this.removeAddresses(rt, a.residual));
          break;
        case 'garp': this.queue(rt, async () => this.announce(rt, a.repeat)); break;
        case 'garp-source': this.announceSource(rt); break;
        case 'notify': this.runNotify(stateNotify('INSTANCE', rt.cfg.name, a.state, a.priority, rt.cfg.notify), a.state === 'STOP'); break;
        case 'notify-event': this.runNotify(eventNotify(rt.cfg.name, a.event, a.priority, rt.cfg.notify), false); break;
        case 'drop': this.countDrop(rt, a.reason, a.detail); break;
        case 'count': rt.stats.counters[a.counter]++; break;
        case 'sync-lower-prio-garp':
          for (const o of rt.group?.members ?? []) {
            if (o !== rt && o.cfg.garp.lowerPrioRepeat > 0 && o.state.vipSet) this.queue(o, async () => this.announce(o, o.cfg.garp.lowerPrioRepeat));
          }
          break;
        case 'log': this.host.log('info', a.text); break;
      }
    }
  }

  private setHolding(rt: InstanceRuntime, holding: boolean): void {
    rt.held = holding ? this.vipsOf(rt).map((v) => v.addr.text) : [];
    this.notifyHeld();
  }

  private lastHeld = '';
  /** Off while a reload swaps the instance list (the union would be incomplete meanwhile). */
  private heldNotifies = true;

  /** Tell the observer when the union of held addresses changed. */
  private notifyHeld(): void {
    if (!this.heldNotifies) return;
    const held = this.heldAddresses();
    const key = [...held].sort().join(' ');
    if (key === this.lastHeld) return;
    this.lastHeld = key;
    this.opts.onHeldChange?.(held);
  }

  /** Every address of every instance (virtual_ipaddress and virtual_ipaddress_excluded), as Addr.text. */
  managedAddresses(): Set<string> {
    return new Set(this.cfg.instances.flatMap((c) => [...c.vips, ...c.evips].map((v) => v.addr.text)));
  }

  /** The addresses of the instances that hold theirs now (MASTER, added, not yet released). */
  heldAddresses(): Set<string> {
    return new Set(this.instances.flatMap((rt) => rt.held));
  }

  private queue(rt: InstanceRuntime, job: () => Promise<void>): void {
    rt.chain = rt.chain.then(job).catch((e) => {
      rt.stats.ipErrors++;
      this.host.log('error', `(${rt.cfg.name}) ${(e as Error).message}`);
    });
  }

  private countDrop(rt: InstanceRuntime | null, reason: DropReason, detail: string): void {
    const bucket = rt ? rt.stats.drops : this.unclaimed;
    bucket[reason] = (bucket[reason] ?? 0) + 1;
    // keepalived logs every one; under a flood that is a denial of service on the log, so one line per
    // reason per second, with the number held back.
    const logs = rt?.lastDropLog ?? this.unclaimedLog;
    const now = this.now();
    const last = logs.get(reason);
    if (!last || now - last.at >= 1_000_000) {
      const more = last && last.suppressed ? ` (${last.suppressed} more since the last report)` : '';
      this.host.log('info', `${rt ? `(${rt.cfg.name}) ` : ''}dropped advert (${reason}): ${detail}${more}`);
      logs.set(reason, { at: now, suppressed: 0 });
    } else {
      last.suppressed++;
    }
  }

  private readonly unclaimedLog = new Map<DropReason, { at: number; suppressed: number }>();

  private sourceOf(rt: InstanceRuntime): Addr | null {
    return rt.cfg.srcAddr ?? rt.localAddr;
  }

  private sendAdvert(rt: InstanceRuntime, priority: number, ahSeq: number | null): void {
    const pool = rt.pool;
    if (!pool) return;
    const c = rt.cfg;
    const src = this.sourceOf(rt);
    if (!src) {
      rt.stats.sendErrors++;
      return;
    }
    const dsts = c.unicast ? c.peers.map((p) => p.addr) : [c.mcastDst];
    // One IP id per advert, shared by its unicast copies (keepalived vrrp_update_pkt); never 0,
    // which would let the kernel choose one.
    rt.ipId = (rt.ipId + 1) & 0xffff || 1;
    for (const dst of dsts) {
      let bytes: Uint8Array;
      const spec = {
        version: c.version, family: c.family, vrid: c.vrid, priority,
        adverInt: c.version === 2 ? Math.round(c.adverIntUs / 1_000_000) : Math.round(c.adverIntUs / 10_000),
        addrs: c.vips.map((v) => v.addr), authType: c.version === 2 ? c.authType : undefined,
        authData: c.version === 2 && c.authType === AUTH_TYPE.pass ? c.authData : undefined,
      };
      if (c.family === 4) {
        // v3 unicast with the pre-1.3.6 checksum puts the multicast group in the pseudo-header.
        const pseudoDst = c.version === 3 && c.unicast && (rt.state.checksumCompat === 'config' || rt.state.checksumCompat === 'detected') ? c.mcastGroup4 : dst;
        const msg = encodeVrrp(spec, { src, dst: pseudoDst });
        const ip = { tos: VRRP_TOS, id: rt.ipId, ttl: c.ttl, src, dst };
        bytes = c.authType === AUTH_TYPE.ah
          ? encodeAhPacket(ip, ahSeq ?? 1, c.authData, msg, c.unicast)
          : encodeIpv4({ ...ip, protocol: IPPROTO_VRRP }, msg);
      } else {
        bytes = encodeVrrp(spec, null); // the kernel fills the checksum (IPV6_CHECKSUM)
      }
      try {
        pool.socket.send(bytes, dst.text, !c.unicast, c.family === 6 ? src.text : null);
      } catch (e) {
        rt.stats.sendErrors++;
        // A priority-0 advert on a downed interface fails by design; keepalived does not log that either.
        if (priority !== 0) this.host.log('info', `(${c.name}) send advert error: ${(e as Error).message}`);
      }
    }
  }

  private vipsOf(rt: InstanceRuntime): Vip[] {
    return [...rt.cfg.vips, ...rt.cfg.evips];
  }

  private async ipRun(rt: InstanceRuntime, args: string[], ignore: RegExp | null): Promise<void> {
    const r = await this.host.ip.run(args);
    if (!r.ok && !(ignore && ignore.test(r.stderr))) {
      rt.stats.ipErrors++;
      this.host.log('error', `(${rt.cfg.name}) ${r.command}: ${r.stderr}`);
    }
  }

  private async addAddresses(rt: InstanceRuntime): Promise<void> {
    for (const v of this.vipsOf(rt)) {
      const dev = vipDev(v, vipInterface(rt.cfg));
      if (dev) await this.ipRun(rt, vipAddArgs(v, dev), /File exists/);
    }
    for (const r of rt.cfg.routes) await this.ipRun(rt, ['route', 'add', ...r], /File exists/);
    for (const r of rt.cfg.rules) await this.ipRun(rt, ['rule', 'add', ...r], /File exists/);
  }

  /** `only`: a reload's diff (the addresses, routes and rules the new file dropped); default all of rt.cfg's. */
  private async removeAddresses(rt: InstanceRuntime, residual: boolean, only?: { cfg: ResolvedInstance; vips: readonly Vip[]; routes: readonly (readonly string[])[]; rules: readonly (readonly string[])[] }): Promise<void> {
    const cfg = only?.cfg ?? rt.cfg;
    // At start only addresses are cleared (keepalived remove_residual_vips); routes and rules are not ours to judge.
    if (!residual) {
      for (const r of only?.rules ?? cfg.rules) await this.ipRun(rt, ['rule', 'del', ...r], /No such|not exist/i);
      for (const r of only?.routes ?? cfg.routes) await this.ipRun(rt, ['route', 'del', ...r], /No such|not exist/i);
    }
    for (const v of only?.vips ?? this.vipsOf(rt)) {
      const dev = vipDev(v, vipInterface(cfg));
      if (!dev) continue;
      if (residual) {
        // Only remove what is there: a restart after a crash must not leave the old VIPs as sources.
        const link = this.links.get(dev);
        if (!link || !link.addrs.some((a) => a.address === v.addr.text)) continue;
        this.host.log('info', `(${rt.cfg.name}) removing residual VIP ${v.addr.text} from ${dev}`);
      }
      await this.ipRun(rt, vipDelArgs(v, dev), /Cannot assign requested address|Cannot find device/);
    }
  }

  private announce(rt: InstanceRuntime, repeat: number): void {
    if (!this.frames || !rt.state.vipSet) return;
    for (let j = 0; j < repeat; j++) {
      for (const v of this.vipsOf(rt)) this.announceOne(rt, v.addr, vipDev(v, vipInterface(rt.cfg)));
    }
  }

  /**
   * The rate limit of one interface (vrrp_if.c garp_delay): a garp_group's is shared by its interfaces;
   * vrrp_garp_interval / vrrp_gna_interval give every other interface one of its own; null = none.
   */
  private limiterFor(dev: string): GarpLimiter | null {
    const known = this.limiters.get(dev);
    if (known !== undefined) return known;
    const spec = this.cfg.garpLimits.find((g) => g.interfaces?.includes(dev)) ?? this.cfg.garpLimits.find((g) => g.interfaces === null);
    let lim: GarpLimiter | null = null;
    if (spec) {
      lim = spec.interfaces ? this.groupLimiters.get(spec) ?? null : null;
      if (!lim) {
        lim = { garpUs: spec.garpIntervalUs, gnaUs: spec.gnaIntervalUs, garpNext: 0, gnaNext: 0 };
        if (spec.interfaces) this.groupLimiters.set(spec, lim);
      }
    }
    this.limiters.set(dev, lim);
    return lim;
  }

  /**
   * vrrp_arp.c send_gratuitous_arp / vrrp_ndisc.c ndisc_send_unsolicited_na: with an interval on the
   * interface, a frame due before the interval has passed is queued instead — one pending frame per
   * address, however many repeats asked for it — and sent by the delayed-ARP timer in turn.
   */
  private announceOne(rt: InstanceRuntime, a: Addr, dev: string | null): void {
    if (!this.frames || !dev) return;
    const lim = this.limiterFor(dev);
    const intervalUs = lim ? (a.family === 4 ? lim.garpUs : lim.gnaUs) : 0;
    if (lim && intervalUs > 0) {
      const next = a.family === 4 ? lim.garpNext : lim.gnaNext;
      if (next !== 0 && this.now() < next) {
        this.pendingAnnounce.set(`${rt.cfg.name}|${dev}|${a.text}`, { rt, addr: a, dev });
        this.scheduleAnnounce();
        return;
      }
    }
    this.sendAnnounce(rt, a, dev, lim);
  }

  private sendAnnounce(rt: InstanceRuntime, a: Addr, dev: string, lim: GarpLimiter | null): void {
    if (lim) {
      if (a.family === 4 && lim.garpUs > 0) lim.garpNext = this.now() + lim.garpUs;
      if (a.family === 6 && lim.gnaUs > 0) lim.gnaNext = this.now() + lim.gnaUs;
    }
    const link = this.links.get(dev);
    if (!this.frames || !link || !link.mac) return;
    try {
      this.frames.send(link.index, announceFrame(link.mac, a, false));
    } catch (e) {
      rt.stats.sendErrors++;
      this.host.log('info', `(${rt.cfg.name}) Error sending gratuitous ${a.family === 4 ? 'ARP' : 'NA'} on ${dev} for ${a.text}: ${(e as Error).message}`);
    }
  }

  /** vrrp_scheduler.c vrrp_arp_thread: send what is due, drop what no MASTER holds any more, wait for the rest. */
  private flushAnnounce(): void {
    this.announceTimer = null;
    for (const [k, p] of this.pendingAnnounce) {
      if (!this.instances.includes(p.rt) || p.rt.state.state !== 'MASTER' || !p.rt.state.vipSet) {
        this.pendingAnnounce.delete(k);
        continue;
      }
      const lim = this.limiterFor(p.dev);
      const next = lim ? (p.addr.family === 4 ? lim.garpNext : lim.gnaNext) : 0;
      if (this.now() < next) continue;
      this.pendingAnnounce.delete(k);
      this.sendAnnounce(p.rt, p.addr, p.dev, lim);
    }
    this.scheduleAnnounce();
  }

  private scheduleAnnounce(): void {
    if (this.stopping) return;
    let at: number | null = null;
    for (const p of this.pendingAnnounce.values()) {
      const lim = this.limiterFor(p.dev);
      const next = lim ? (p.addr.family === 4 ? lim.garpNext : lim.gnaNext) : 0;
      if (at === null || next < at) at = next;
    }
    this.announceTimer?.cancel();
    this.announceTimer = null;
    if (at === null) return;
    this.announceTimer = this.host.clock.setTimer(Math.max(at, this.now()), () => this.flushAnnounce());
  }

  private announceSource(rt: InstanceRuntime): void {
    const src = rt.cfg.srcAddr;
    if (src && rt.cfg.interface) this.announceOne(rt, src, rt.cfg.interface);
  }

  private runNotify(n: NotifyCommands, waitStop: boolean): void {
    for (const [i, argv] of n.commands.entries()) {
      // notify_stop gets one second before it is killed (vrrp_notify.c: system_call_script ... TIMER_HZ).
      const id = this.notifyIdentity(argv[0] ?? '', n.users[i] ?? null);
      if (id === null) continue;
      const p = this.host.exec(argv, waitStop ? 1000 : null, id).then((r) => {
        if (r.error) this.host.log('error', `notify ${argv.join(' ')}: ${r.error}`);
      });
      this.pendingExec.add(p);
      void p.finally(() => this.pendingExec.delete(p));
    }
    for (const f of this.cfg.notifyFifos) {
      try {
        this.host.writeFifo(f, n.fifoLine);
      } catch (e) {
        this.host.log('error', `notify fifo ${f}: ${(e as Error).message}`);
      }
    }
  }

  private groupNotify(g: GroupRuntime): void {
    const st = g.state;
    if (st !== 'MASTER' && st !== 'BACKUP' && st !== 'FAULT' && st !== 'STOP') return;
    this.host.log('info', `VRRP_Group(${g.cfg.name}) Syncing instances to ${st} state`);
    this.runNotify(stateNotify('GROUP', g.cfg.name, st, 0, g.cfg.notify), st === 'STOP');
  }

  // -------------------------------------------------------------------------------------------- sockets

  private poolFor(rt: InstanceRuntime): Pooled {
    const c = rt.cfg;
    const protocol = c.authType === AUTH_TYPE.ah ? IPPROTO_AH : IPPROTO_VRRP;
    const local = c.unicast ? (c.srcAddr?.text ?? this.localAddrOf(c)?.text ?? null) : null;
    const ifname = advertInterface(c);
    const key = `${c.family}/${protocol}/${ifname ?? '-'}/${c.unicast ? `ucast:${local}` : `mcast:${c.mcastDst.text}`}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const members: InstanceRuntime[] = [];
      const socket = this.host.openSocket({
        family: c.family, protocol, ifname, multicastGroup: c.unicast ? null : c.mcastDst.text,
        localAddress: c.unicast ? local : c.srcAddr?.text ?? null, unicastHops: c.ttl,
      }, (d) => this.onDatagram(pool!, d));
      pool = { key, socket, family: c.family, members };
      this.pools.set(key, pool);
    }
    pool.members.push(rt);
    return pool;
  }

  private onDatagram(pool: Pooled, d: Datagram): void {
    if (this.stopping) return;
    if (d.truncated) {
      this.countDrop(null, 'truncated', `${d.data.length} bytes`);
      return;
    }
    const vrid = peekVrid(pool.family, d.data);
    if (vrid === null) {
      this.countDrop(null, 'too_short', `${d.data.length} bytes`);
      return;
    }
    let pkt: ReceivedPacket;
    if (pool.family === 4) {
      const ip = parseIpv4Header(d.data);
      if (!ip) {
        this.countDrop(null, 'too_short', `${d.data.length} bytes`);
        return;
      }
      pkt = { family: 4, data: d.data, src: d.src ? addrFromBytes(d.src) : ip.src, dst: ip.dst, ttl: ip.ttl };
    } else {
      if (!d.src) return;
      pkt = { family: 6, data: d.data, src: addrFromBytes(d.src), dst: d.dst ? addrFromBytes(d.dst) : null, ttl: d.hopLimit };
    }
    const candidates = pool.members.filter((m) => m.cfg.vrid === vrid);
    if (candidates.length === 0) {
      this.countDrop(null, 'unknown_vrid', `VRID ${vrid} from ${pkt.src.text}`);
      return;
    }
    // Several unicast instances may share a VRID on one socket: the sender's address picks the instance.
    const rt = candidates.length === 1 ? candidates[0] : candidates.find((m) => m.cfg.peers.some((p) => addrEqual(p.addr, pkt.src))) ?? candidates[0];
    this.apply(rt, { type: 'packet', packet: pkt });
  }

  // -------------------------------------------------------------------------------------------- tracking

  private statuses(): TrackerStatuses {
    const interfaces = new Map<string, boolean>();
    for (const [n, l] of this.links) interfaces.set(n, l.up);
    const scripts = new Map<string, ScriptStatus>();
    for (const [n, s] of this.scripts) scripts.set(n, s.disabled ? 'disabled' : scriptStatus(s.cfg, s.counter));
    const processes = new Map<string, boolean>();
    for (const [n, p] of this.procTrackers) processes.set(n, p.state.up);
    return { interfaces, scripts, files: this.files, processes };
  }

  private totalsOf(rt: InstanceRuntime) {
    const t = trackingTotals(rt.cfg, rt.group?.cfg ?? null, this.statuses());
    // No usable source address (interface without an IPv4 address, unicast_src_ip not configured here):
    // keepalived enters FAULT ("no IPv4 address for interface").
    const noSource = !rt.cfg.srcAddr && !this.localAddrOf(rt.cfg) && rt.cfg.interface !== null;
    const srcMissing = rt.cfg.srcAddr && rt.cfg.interface && this.links.size > 0
      && !(this.links.get(rt.cfg.interface)?.addrs.some((a) => a.address === rt.cfg.srcAddr!.text));
    const noPeer = rt.cfg.unicastFaultNoPeer && rt.cfg.peers.length === 0;
    const noVmac = this.vmacFailed.has(rt.cfg.name);
    return { ...t, faults: t.faults + (noSource ? 1 : 0) + (srcMissing ? 1 : 0) + (noPeer ? 1 : 0) + (noVmac ? 1 : 0) };
  }

  private retrack(): void {
    if (!this.started || this.stopping) return;
    for (const rt of this.instances) {
      if (!rt.state || rt.state.state === 'STOP') continue;
      const local = this.localAddrOf(rt.cfg);
      if (!(local === rt.localAddr || (local && rt.localAddr && addrEqual(local, rt.localAddr)))) {
        rt.localAddr = local;
        this.apply(rt, { type: 'local-addr', addr: local });
      }
      const t = this.totalsOf(rt);
      const s = rt.state;
      if (t.totalPriority !== s.totalPriority || t.faults !== s.faults || t.initPending !== s.initPending) {
        this.apply(rt, { type: 'tracking', totals: t });
      }
    }
  }

  /** The interface address adverts come from: its first IPv4 address that is not one of our VIPs, or its link-local IPv6 address. */
  private localAddrOf(c: ResolvedInstance): Addr | null {
    if (!c.interface) return null;
    const link = this.links.get(c.interface);
    if (!link) return null;
    const ours = new Set([...c.vips, ...c.evips].map((v) => v.addr.text));
    for (const a of link.addrs) {
      if (a.family !== c.family || ours.has(a.address) || a.tentative) continue;
      if (c.family === 6 && !a.address.toLowerCase().startsWith('fe80')) continue;
      try {
        return parseAddrLiteral(a.address);
      } catch {
        continue;
      }
    }
    return null;
  }

  private setLinks(list: LinkInfo[]): void {
    this.links = new Map(list.map((l) => [l.name, l]));
  }

  private refreshing: Promise<void> | null = null;

  private refreshLinks(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = readLinks(this.host.ip).then((l) => {
      this.setLinks(l);
      this.retrack();
    }).catch((e) => this.host.log('error', `cannot read interfaces: ${(e as Error).message}`)).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private onNetlink(events: NetlinkEvent[]): void {
    let changed = false;
    for (const e of events) {
      if (e.kind !== 'link') continue;
      const byIndex = [...this.links.values()].find((l) => l.index === e.index);
      const name = e.name ?? byIndex?.name;
      if (!name) continue;
      const cur = this.links.get(name);
      if (e.deleted) {
        if (this.links.delete(name)) changed = true;
      } else if (!cur || cur.up !== e.up) {
        this.links.set(name, { name, index: e.index, mac: e.mac ?? cur?.mac ?? null, up: e.up, mtu: cur?.mtu ?? 1500, addrs: cur?.addrs ?? [] });
        changed = true;
      }
    }
    // Link flags act at once (FAULT on link down); addresses are then re-read in full.
    if (changed) this.retrack();
    void this.refreshLinks();
  }

  private pollLinks(): void {
    if (this.stopping) return;
    this.linkPoll = this.host.clock.setTimer(this.now() + 1_000_000, () => {
      void this.refreshLinks().then(() => this.pollLinks());
    });
  }

  private setupTrackFile(f: ResolvedTrackFile): void {
    const h = this.host;
    if (f.initValue !== null && (f.initOverwrite || h.readFile(f.file) === null)) {
      try {
        h.writeFile(f.file, `${f.initValue}\n`);
      } catch (e) {
        h.log('error', `track_file ${f.name}: cannot write ${f.file}: ${(e as Error).message}`);
      }
    }
    const read = () => {
      const text = h.readFile(f.file);
      // keepalived reads an integer; an unreadable or non-numeric file counts as 0.
      const v = text === null ? 0 : Number.parseInt(text.trim(), 10);
      this.files.set(f.name, Number.isFinite(v) ? v : 0);
    };
    read();
    this.fileWatches.push(h.watchFile(f.file, () => {
      read();
      this.retrack();
    }));
  }

  /** track_process: count once now (no delays at start, as keepalived), then poll. `carry`: a reload's old verdicts by name. */
  private setupProcessTrackers(carry: ReadonlyMap<string, ProcessTrackerState>): void {
    this.procTrackers.clear();
    this.procPoll?.cancel();
    this.procPoll = null;
    if (this.cfg.trackProcesses.length === 0) return;
    const h = this.host;
    if (!h.listProcesses) {
      h.log('error', 'track_process: the process list cannot be read here; every tracked process counts as missing');
    }
    const procs = h.listProcesses?.() ?? [];
    for (const t of this.cfg.trackProcesses) {
      const count = countMatches(t, procs);
      const prev = carry.get(t.name);
      this.procTrackers.set(t.name, { cfg: t, state: prev ? stepProcessTracker(t, prev, count, this.now()) : initialProcessTracker(t, count) });
    }
    if (h.listProcesses) this.scheduleProcessPoll();
  }

  private scheduleProcessPoll(): void {
    if (this.stopping) return;
    let at = this.now() + PROCESS_POLL_US;
    for (const p of this.procTrackers.values()) if (p.state.changeAt !== null && p.state.changeAt < at) at = p.state.changeAt;
    this.procPoll = this.host.clock.setTimer(at, () => this.pollProcesses());
  }

  private pollProcesses(): void {
    this.procPoll = null;
    if (this.stopping) return;
    const procs = this.host.listProcesses?.() ?? [];
    let changed = false;
    for (const p of this.procTrackers.values()) {
      const next = stepProcessTracker(p.cfg, p.state, countMatches(p.cfg, procs), this.now());
      if (next.up !== p.state.up) {
        changed = true;
        this.host.log('info', `Track process ${p.cfg.name} ${next.up ? 'gained' : 'lost'} quorum (${next.count} process${next.count === 1 ? '' : 'es'}, quorum ${p.cfg.quorum}..${p.cfg.quorumMax})`);
      }
      p.state = next;
    }
    if (changed) this.retrack();
    this.scheduleProcessPoll();
  }

  /**
   * vrrp.c check_vrrp_script_security: each vrrp_script gets its account (its `user`, else script_user,
   * else keepalived_script, else ours) and keepalived's checks; one refused (insecure with
   * enable_script_security, not found, not executable, no such user) is disabled — not run, and taken
   * out of every instance's tracking.
   */
  private checkScripts(): void {
    const scripts = this.host.scripts;
    if (!scripts) return;
    const security = this.cfg.scriptSecurity;
    for (const s of this.scripts.values()) {
      const user = s.cfg.user ?? this.cfg.scriptUser;
      const id = scripts.identity(user, security);
      if (!id) {
        s.disabled = true;
        this.host.log('error', `Disabling track script ${s.cfg.name}: script user ${user ? user.user : 'keepalived_script'} does not exist`);
        continue;
      }
      s.identity = id;
      const c = scripts.check(splitWords(s.cfg.script)[0] ?? '', id, security);
      if (c.verdict === 'disabled') {
        s.disabled = true;
        this.host.log('error', `Disabling track script ${s.cfg.name} due to insecure (${c.reason})`);
      } else if (c.verdict === 'not-found' || c.verdict === 'not-executable') {
        s.disabled = true;
        this.host.log('error', `Disabling track script ${s.cfg.name} since not found/accessible (${c.reason})`);
      } else if (c.verdict === 'insecure') {
        this.host.log('warn', `track script ${s.cfg.name}: ${c.reason} (enable_script_security would refuse it)`);
      }
    }
  }

  private readonly notifyIds = new Map<string, ScriptIdentity | null | undefined>();

  /**
   * The account a notify script runs as — the `USER [GROUP]` written after it, else script_user / the
   * default (notify.c, as keepalived resolves a notify script's uid/gid) — or null when the checks refuse
   * it; checked once per program and account.
   */
  private notifyIdentity(argv0: string, own: ScriptUserConfig | null): ScriptIdentity | null | undefined {
    const scripts = this.host.scripts;
    if (!scripts) return undefined;
    const user = own ?? this.cfg.scriptUser;
    const key = `${argv0}\0${own ? `${own.user}:${own.group ?? ''}` : ''}`;
    if (this.notifyIds.has(key)) return this.notifyIds.get(key);
    const security = this.cfg.scriptSecurity;
    let id: ScriptIdentity | null = scripts.identity(user, security);
    if (!id) {
      this.host.log('error', `notify script ${argv0} not run: script user ${user?.user ?? 'keepalived_script'}${own?.group ? ` group ${own.group}` : ''} does not exist`);
    } else {
      const c = scripts.check(argv0, id, security);
      if (c.verdict === 'disabled' || c.verdict === 'not-found' || c.verdict === 'not-executable') {
        this.host.log('error', `Disabling notify script ${argv0}: ${c.reason}`);
        id = null;
      }
    }
    this.notifyIds.set(key, id);
    return id;
  }

  private runScript(s: ScriptRuntime): void {
    if (this.stopping || s.disabled) return;
    const next = () => {
      s.timer = this.host.clock.setTimer(this.now() + s.cfg.intervalUs, () => this.runScript(s));
    };
    if (s.running) {
      this.host.log('info', `Track script ${s.cfg.name} is already running, expect idle - skipping run`);
      next();
      return;
    }
    s.running = true;
    next();
    // keepalived splits the script line into arguments and execs it without a shell (notify.c).
    const p = this.host.exec(splitWords(s.cfg.script), Math.max(1, Math.round(s.cfg.timeoutUs / 1000)), s.identity).then((r) => {
      s.running = false;
      // Stopped, or replaced by a reload (keepalived kills running scripts on reload).
      if (this.stopping || this.scripts.get(s.cfg.name) !== s) return;
      const success = !r.error && !r.timedOut && r.signal === null && r.code === 0;
      const before = scriptStatus(s.cfg, s.counter);
      s.counter = scriptOutcome(s.cfg, s.counter, success);
      const after = scriptStatus(s.cfg, s.counter);
      if (before !== after) {
        const how = r.timedOut ? 'timed_out' : success ? 'succeeded' : 'failed';
        this.host.log('info', `VRRP_Script(${s.cfg.name}) ${how}${r.error ? ` (${r.error})` : ''}`);
        this.retrack();
      }
    });
    this.pendingExec.add(p);
    void p.finally(() => this.pendingExec.delete(p));
  }

  // -------------------------------------------------------------------------------------------- reload

  /**
   * SIGHUP: continue with a new configuration the way keepalived reloads its VRRP process (reload.ts
   * says what is kept). Instances that go away resign (a MASTER with priority 0, its addresses removed)
   * and are announced as FAULT to the generic notify and the FIFOs (keepalived's default without
   * notify_deleted); kept instances keep their state and addresses (a MASTER applies the address diff);
   * new ones start as at start-up; scripts keep their verdicts; sync groups are rebuilt.
   */
  async reload(next: ResolvedVrrp): Promise<void> {
    if (!this.started) throw new Error('VRRP process not started');
    if (this.stopping) return;
    const h = this.host;
    const now = this.now();
    h.log('info', 'Reloading');
    // sigreload_vrrp: every MASTER advertises first, so no backup times out while the reload runs.
    for (const rt of this.instances) {
      if (rt.state.state !== 'MASTER') continue;
      const ah = rt.cfg.authType === AUTH_TYPE.ah;
      if (ah) rt.state = { ...rt.state, ahSeq: rt.state.ahSeq + 1 };
      this.sendAdvert(rt, rt.state.effectivePriority, ah ? rt.state.ahSeq : null);
      rt.stats.counters.advert_sent++;
    }
    // use_vmac: new instances' vmacs exist before their sockets open on them.
    const newVmacs = next.instances.filter((ic) => ic.vmac && !this.vmacs.has(ic.vmac.name));
    const vmacFailed = await this.createVmacs(newVmacs);
    if (newVmacs.length > 0) {
      try {
        this.setLinks(await readLinks(h.ip));
      } catch (e) {
        h.log('error', `cannot read interfaces: ${(e as Error).message}`);
      }
    }
    if (this.stopping) return;

    this.limiters = new Map();
    this.groupLimiters = new Map();
    this.heldNotifies = false;
    const old = this.instances.splice(0);
    const oldGroups = new Map(this.groups.splice(0).map((g) => [g.cfg.name, g.state]));
    this.cfg = next;

    // Scripts: a running one's result is dropped (keepalived kills them); kept names keep their verdict.
    const oldScripts = new Map(this.scripts);
    this.scripts.clear();
    for (const sr of oldScripts.values()) sr.timer?.cancel();
    for (const sc of next.scripts) {
      const prev = oldScripts.get(sc.name);
      let counter = initialScriptCounter(sc);
      if (prev) {
        const c = carryScriptCounter(prev.cfg, prev.counter, sc);
        counter = c.counter;
        if (c.verdict) h.log('info', `VRRP_Script(${sc.name}) considered ${c.verdict} on reload`);
      }
      this.scripts.set(sc.name, { cfg: sc, counter, running: false, timer: null });
    }
    this.notifyIds.clear();
    this.checkScripts();
    for (const w of this.fileWatches.splice(0)) w.close();
    this.files.clear();
    for (const f of next.trackFiles) this.setupTrackFile(f);
    this.setupProcessTrackers(new Map([...this.procTrackers].map(([n, p]) => [n, p.state])));

    // Instances: which old one each new one continues (vrrp_exist).
    const continues = new Map<ResolvedInstance, InstanceRuntime>();
    const removed: InstanceRuntime[] = [];
    for (const rt of old) {
      rt.timer?.cancel();
      rt.timer = null;
      const n = matchInstance(rt.cfg, next.instances);
      if (n && !continues.has(n)) continues.set(n, rt);
      else removed.push(rt);
    }
    for (const rt of removed) this.deleteInstance(rt);
    const keptVmacs = new Set(next.instances.flatMap((ic) => (ic.vmac ? [ic.vmac.name] : [])));
    for (const rt of removed) {
      const v = rt.cfg.vmac;
      // After its priority-0 advert and address removal have gone out through it.
      if (v && !keptVmacs.has(v.name)) this.queue(rt, () => this.vmacs.remove(v.name, rt.cfg.name));
    }

    for (const ic of next.instances) {
      const rt = this.newRuntime(ic);
      const prev = continues.get(ic);
      if (prev) {
        rt.stats = prev.stats;
        rt.ipId = prev.ipId;
        rt.lastTransitionUs = prev.lastTransitionUs;
        rt.chain = prev.chain;
        rt.lastDropLog = prev.lastDropLog;
        // Until the diff is applied only the addresses the new file keeps count as held.
        const keep = new Set(this.vipsOf(rt).map((v) => v.addr.text));
        rt.held = prev.held.filter((a) => keep.has(a));
      }
      this.instances.push(rt);
    }
    this.buildGroups();

    const fresh: InstanceRuntime[] = [];
    for (const rt of this.instances) {
      const prev = continues.get(rt.cfg);
      rt.localAddr = this.localAddrOf(rt.cfg);
      const initial = initialState(rt.cfg, this.totalsOf(rt), rt.localAddr);
      try {
        if (!vmacFailed.has(rt.cfg.name)) rt.pool = this.poolFor(rt);
      } catch (e) {
        h.log('error', `(${rt.cfg.name}) cannot open VRRP socket: ${(e as Error).message}`);
      }
      if (prev) this.leavePool(prev);
      if (prev && rt.pool && keepsState(prev.state, initial)) {
        rt.state = reloadedState(prev.state, initial, now, rt.cfg.garp.refreshUs);
        if (prev.state.vipSet) this.applyAddressDiff(rt, prev);
        continue;
      }
      rt.state = rt.pool ? initial : { ...initial, faults: initial.faults + 1, state: 'FAULT' };
      if (prev?.state.vipSet) {
        // Not continuing as MASTER: its addresses go, without a priority-0 advert (vrrp_init_state).
        const p = prev;
        rt.held = [];
        this.queue(rt, () => this.removeAddresses(rt, false, { cfg: p.cfg, vips: [...p.cfg.vips, ...p.cfg.evips], routes: p.cfg.routes, rules: p.cfg.rules }));
      }
      fresh.push(rt);
    }
    this.heldNotifies = true;
    this.notifyHeld();

    // Sync groups (vrrp_complete_init on reload): FAULT if a member is, MASTER if all are, else BACKUP;
    // a group's FAULT/BACKUP notify runs unless it had the same state before (state_same_at_reload).
    for (const g of this.groups) {
      const st = g.members.map((m) => m.state.state);
      g.state = st.includes('FAULT') ? 'FAULT' : st.length > 0 && st.every((x) => x === 'MASTER') ? 'MASTER' : 'BACKUP';
      if ((g.state === 'FAULT' || g.state === 'BACKUP') && oldGroups.get(g.cfg.name) !== g.state) this.groupNotify(g);
    }
    for (const rt of this.instances) {
      const prev = continues.get(rt.cfg);
      if (fresh.includes(rt) && prev?.state.state === 'FAULT' && rt.state.state === 'FAULT') {
        // Still in FAULT: keepalived does not announce it again (vrrp_complete_init on reload).
        rt.state = { ...rt.state, wantState: 'FAULT', sands: null, notifiesSent: prev.state.notifiesSent };
        this.schedule(rt);
      } else if (fresh.includes(rt)) this.apply(rt, { type: 'start' });
      else if (rt.group && rt.group.state !== 'MASTER' && rt.state.state === 'MASTER') this.apply(rt, { type: 'sync-backup' }, false);
      else this.schedule(rt);
    }
    for (const sr of this.scripts.values()) this.runScript(sr);
    this.retrack();
    await Promise.all(this.instances.map((rt) => rt.chain));
  }

  /** A MASTER kept by a reload: drop what the new file no longer has, add what it adds (restore_vrrp_state). */
  private applyAddressDiff(rt: InstanceRuntime, prev: InstanceRuntime): void {
    const d = addressDiff(prev.cfg, rt.cfg);
    this.queue(rt, async () => {
      if (d.removedVips.length + d.removedRoutes.length + d.removedRules.length > 0) {
        await this.removeAddresses(rt, false, { cfg: prev.cfg, vips: d.removedVips, routes: d.removedRoutes, rules: d.removedRules });
      }
      // Routes a removed address took with it are put back too (keepalived re-adds every route).
      await this.addAddresses(rt);
      if (!rt.state.vipSet) return;
      this.setHolding(rt, true);
      if (d.added) this.announce(rt, rt.cfg.garp.masterRepeat);
    });
  }

  /** An instance the reload removed (clear_diff_vrrp): resign if MASTER, announce it as FAULT, close its socket share. */
  private deleteInstance(rt: InstanceRuntime): void {
    const was = rt.state.state;
    const r = step(rt.cfg, rt.state, { type: 'stop' }, this.now(), {});
    rt.state = r.state;
    this.perform(rt, r.actions.filter((a) => a.type !== 'notify'));
    this.host.log('info', `(${rt.cfg.name}) removed by the reload`);
    if (rt.cfg.notifyDeleted) {
      // notify_deleted (keepalived 2.2 vrrp.c clear_diff_vrrp, vrrp_notify.c): DELETED to the generic notify
      // and the FIFOs, and its own script when one was given — whatever state it was in.
      this.runNotify(stateNotify('INSTANCE', rt.cfg.name, 'DELETED', rt.state.effectivePriority, rt.cfg.notify), false);
    } else if (was !== 'FAULT') {
      // Without notify_deleted keepalived reports a deleted instance as FAULT, to the generic notify and
      // the FIFOs only (its notify_fault script is not run) — unless it was in FAULT already.
      this.runNotify(stateNotify('INSTANCE', rt.cfg.name, 'FAULT', rt.state.effectivePriority, { ...rt.cfg.notify, fault: null }), false);
    }
    this.leavePool(rt);
  }

  private leavePool(rt: InstanceRuntime): void {
    const pool = rt.pool;
    if (!pool) return;
    rt.pool = null;
    const i = pool.members.indexOf(rt);
    if (i >= 0) pool.members.splice(i, 1);
    if (pool.members.length > 0) return;
    this.pools.delete(pool.key);
    // After the queued sends (a priority-0 advert) have left.
    void rt.chain.then(() => pool.socket.close()).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------- stop

  /** Stop: MASTERs resign with priority 0 and drop their addresses, STOP notifies, sockets closed. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      for (const rt of this.instances) {
        rt.timer?.cancel();
        rt.timer = null;
        if (rt.state) this.apply(rt, { type: 'stop' }, false);
      }
      for (const g of this.groups) {
        g.state = 'STOP';
        this.groupNotify(g);
      }
      for (const s of this.scripts.values()) s.timer?.cancel();
      this.linkPoll?.cancel();
      this.announceTimer?.cancel();
      this.pendingAnnounce.clear();
      this.procPoll?.cancel();
      await Promise.all(this.instances.map((rt) => rt.chain));
      for (const name of this.vmacs.names()) await this.vmacs.remove(name, this.instances.find((rt) => rt.cfg.vmac?.name === name)?.cfg.name ?? name);
      await Promise.race([Promise.allSettled([...this.pendingExec]), new Promise((r) => setTimeout(r, 1500).unref())]);
      for (const w of this.fileWatches) w.close();
      await this.linkWatch?.close();
      for (const p of this.pools.values()) await p.socket.close();
      this.frames?.close();
    })();
    return this.stopping;
  }

  /** Wait until queued address changes have been applied (tests, orderly shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.instances.map((rt) => rt.chain));
  }

  status(): VrrpStatus {
    return {
      instances: this.instances.map((rt) => ({
        name: rt.cfg.name, vrid: rt.cfg.vrid, family: rt.cfg.family, version: rt.cfg.version, interface: rt.cfg.interface,
        state: rt.state?.state ?? 'INIT', wantState: rt.state?.wantState ?? 'BACKUP', basePriority: rt.state?.basePriority ?? rt.cfg.basePriority,
        effectivePriority: rt.state?.effectivePriority ?? rt.cfg.basePriority, masterAddr: rt.state?.masterAddr?.text ?? null,
        masterPriority: rt.state?.masterPriority ?? 0, vipSet: rt.state?.vipSet ?? false, lastTransitionUs: rt.lastTransitionUs,
        syncGroup: rt.cfg.syncGroup, stats: structuredClone(rt.stats),
      })),
      groups: this.groups.map((g) => ({ name: g.cfg.name, state: g.state })),
      unclaimed: { ...this.unclaimed },
    };
  }
}
