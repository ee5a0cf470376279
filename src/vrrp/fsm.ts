// The VRRP instance state machine (INIT, BACKUP, MASTER, FAULT, STOP) as a pure function:
//   step(state, event, now, ctx) -> { state, actions }
// Time is integer microseconds on a monotonic clock supplied by the caller. The behaviour is keepalived
// 2.2.7's (vrrp.c vrrp_state_backup / vrrp_state_master_rx / vrrp_state_master_tx / vrrp_state_goto_master
// / vrrp_state_leave_master / vrrp_state_leave_fault; vrrp_scheduler.c vrrp_init_state,
// vrrp_dispatcher_read(_timeout), try_up_instance; vrrp_track.c down_instance, vrrp_set_effective_priority),
// which refines RFC 3768 §6.4 / RFC 5798 §6.4. Where keepvs deliberately differs it says so here:
//  * A MASTER restarts its advert timer only when it actually sent an advert while handling a received
//    packet. keepalived restarts it after every received packet (even an invalid one), so a flood of
//    garbage could keep a keepalived master silent until its backups take over.
//  * The advert a MASTER sends back to a lower-priority advert ("forcing new election") is sent at most
//    once per tenth of the advert interval, so a flood of forged adverts cannot be amplified.
//  * On becoming MASTER a VRRPv3 instance always resets Master_Adver_Interval to its own interval
//    (RFC 5798 §6.4.1); keepalived 2.2.7 does so only when run with -D (a logging condition).
// Side effects are returned as actions for the caller (instance runtime) to perform in order.
import { addrEqual, type Addr } from '../core/addr.ts';
import type { ResolvedInstance, VrrpStateName } from './config.ts';
import type { DropReason } from './drop-reasons.ts';
import { AUTH_TYPE, PRIO_OWNER, PRIO_STOP } from './packet.ts';
import { checkAdvert, type ChecksumCompat, type ReceivedPacket, type ReceiveExpectations } from './receive-check.ts';
import { masterDownInterval, skewMin, skewTime, TIMER_CENTI_HZ } from './timers.ts';

export type WantState = 'BACKUP' | 'MASTER' | 'FAULT';

export interface InstanceState {
  readonly state: VrrpStateName;
  /** What the instance would be in, disregarding its sync group (keepalived wantstate). */
  readonly wantState: WantState;
  /** Configured priority; drops to 254 when another address owner is heard (keepalived does the same). */
  readonly basePriority: number;
  /** basePriority + tracker adjustments. */
  readonly totalPriority: number;
  /** What goes into adverts: totalPriority clamped to 1..254, or 255 for the owner. */
  readonly effectivePriority: number;
  readonly masterAdverIntUs: number;
  readonly msDownTimerUs: number;
  /** Next protocol deadline: Master_Down expiry (BACKUP) or next advert (MASTER); null = none. */
  readonly sands: number | null;
  /** preempt_delay end; 0 = not running. */
  readonly preemptTime: number;
  readonly masterAddr: Addr | null;
  readonly masterPriority: number;
  /** The virtual addresses (and routes, rules) are installed. */
  readonly vipSet: boolean;
  /** Fault-causing trackers (keepalived num_script_if_fault). */
  readonly faults: number;
  /** Weight-0 scripts that have not reported yet (num_script_init): the instance waits in FAULT silently. */
  readonly initPending: number;
  /** Second gratuitous ARP/NA burst after becoming MASTER (garp_master_delay). */
  readonly garpDelayAt: number | null;
  /** Second burst after a lower-priority advert (garp_lower_prio_delay). */
  readonly lowerPrioGarpAt: number | null;
  /** Periodic refresh (garp_master_refresh). */
  readonly garpRefreshAt: number | null;
  /** AH sequence counter: last sent or accepted (keepalived keeps one counter for both). */
  readonly ahSeq: number;
  readonly checksumCompat: ChecksumCompat;
  /** When we last sent an advert in reply to a received one (flood cap). */
  readonly lastReplyAdvertAt: number | null;
  /** Our own address for equal-priority tie-breaks (unicast_src_ip or the interface's primary address). */
  readonly localAddr: Addr | null;
  /** Notifies were sent at least once (keepalived notifies_sent; sync groups suppress repeats). */
  readonly notifiesSent: boolean;
}

/** Named counters, keepalived's vrrp_stats fields. */
export type VrrpCounter = 'advert_rcvd' | 'advert_sent' | 'become_master' | 'release_master' | 'pri_zero_rcvd' | 'pri_zero_sent';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
export type NotifyEvent = 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

export type Action =
  /** Send one advert (to the group, or to every unicast peer). `ahSeq` is set with auth_type AH. */
  | { readonly type: 'send-advert'; readonly priority: number; readonly ahSeq: number | null }
  /** Install virtual_ipaddress, virtual_ipaddress_excluded, virtual_routes, virtual_rules (that order). */
  | { readonly type: 'add-addresses' }
  /** Remove rules, routes, then addresses. `residual`: at start, clear whatever a crashed run left. */
  | { readonly type: 'remove-addresses'; readonly residual: boolean }
  /** `repeat` rounds of one gratuitous ARP / unsolicited NA per virtual address. */
  | { readonly type: 'garp'; readonly repeat: number }
  /** One gratuitous ARP / NA for our own source address (unicast peers refresh their ARP cache). */
  | { readonly type: 'garp-source' }
  | { readonly type: 'notify'; readonly state: NotifyState; readonly priority: number }
  | { readonly type: 'notify-event'; readonly event: NotifyEvent; readonly priority: number }
  | { readonly type: 'drop'; readonly reason: DropReason; readonly detail: string }
  | { readonly type: 'count'; readonly counter: VrrpCounter }
  /** Sync group: this member received a lower-priority advert as MASTER; siblings with garp_lower_prio_repeat send GARPs. */
  | { readonly type: 'sync-lower-prio-garp' }
  | { readonly type: 'log'; readonly text: string };

/** Tracker totals, computed by tracking.ts. */
export interface TrackingTotals {
  readonly totalPriority: number;
  readonly faults: number;
  readonly initPending: number;
}

export type VrrpEvent =
  | { readonly type: 'start' }
  | { readonly type: 'timer' }
  | { readonly type: 'packet'; readonly packet: ReceivedPacket }
  | { readonly type: 'tracking'; readonly totals: TrackingTotals }
  | { readonly type: 'local-addr'; readonly addr: Addr | null }
  /** Sync group transitions imposed by a sibling (vrrp_sync.c). */
  | { readonly type: 'sync-backup' }
  | { readonly type: 'sync-master' }
  | { readonly type: 'sync-fault' }
  | { readonly type: 'stop' };

/** What a sync group member needs to know about its group (absent for instances without one). */
export interface SyncContext {
  /** The group's current state. */
  readonly groupState: VrrpStateName;
  /** Every other member wants MASTER (vrrp_sync_can_goto_master). */
  readonly othersWantMaster: boolean;
  /** Some other member is faulted (group num_member_fault > own contribution). */
  readonly othersFaulted: boolean;
  /** Some member still waits for its first script result. */
  readonly memberInitPending: boolean;
}

export interface StepContext {
  readonly sync?: SyncContext;
  /**
   * vrrp_startup_delay: until this time (µs) a BACKUP's Master_Down timer counts from it instead of from
   * now (vrrp_scheduler.c vrrp_init_instance_sands with vrrp_delayed_start_time).
   */
  readonly delayedStartUntil?: number;
}

export interface StepResult {
  readonly state: InstanceState;
  readonly actions: readonly Action[];
}

/** Initial state before 'start' (keepalived after vrrp_complete_instance and initialise_tracking_priorities). */
export function initialState(cfg: ResolvedInstance, totals: TrackingTotals, localAddr: Addr | null): InstanceState {
  const eff = effectiveOf(cfg.basePriority, totals.totalPriority);
  return {
    state: totals.faults > 0 ? 'FAULT' : 'INIT',
    wantState: cfg.initialState,
    basePriority: cfg.basePriority,
    totalPriority: totals.totalPriority,
    effectivePriority: eff,
    masterAdverIntUs: cfg.adverIntUs,
    msDownTimerUs: masterDownInterval(cfg.version, eff, cfg.adverIntUs, cfg.downTimerAdverts),
    sands: null,
    preemptTime: 0,
    masterAddr: null,
    masterPriority: 0,
    vipSet: false,
    faults: totals.faults,
    initPending: totals.initPending,
    garpDelayAt: null,
    lowerPrioGarpAt: null,
    garpRefreshAt: null,
    ahSeq: 0,
    checksumCompat: cfg.checksumCompat,
    lastReplyAdvertAt: null,
    localAddr,
    notifiesSent: false,
  };
}

function effectiveOf(base: number, total: number): number {
  if (base === PRIO_OWNER) return PRIO_OWNER;
  return total < 1 ? 1 : total >= PRIO_OWNER ? PRIO_OWNER - 1 : total;
}

/** The earliest time the instance needs a 'timer' event; null when nothing is pending. */
export function nextDeadline(s: InstanceState): number | null {
  let d: number | null = s.sands;
  for (const t of [s.garpDelayAt, s.lowerPrioGarpAt]) if (t !== null && (d === null || t < d)) d = t;
  return d;
}

/** What the receive check needs, from configuration and run-time state. */
export function receiveExpectations(cfg: ResolvedInstance, s: InstanceState): ReceiveExpectations {
  return {
    family: cfg.family, version: cfg.version, authType: cfg.authType, authData: cfg.authData, adverIntUs: cfg.adverIntUs,
    vips: cfg.vips.map((v) => v.addr), unicast: cfg.unicast, peers: cfg.peers, checkUnicastSrc: cfg.checkUnicastSrc,
    mcastGroup4: cfg.mcastGroup4, checksumCompat: s.checksumCompat, ahSeq: s.ahSeq,
  };
}

/** Compare two addresses as keepalived's inet_sockaddrcmp: -1, 0, 1 (byte order = numeric order). */
export function addrCompare(a: Addr, b: Addr): number {
  if (a.family !== b.family) return 0;
  for (let i = 0; i < a.bytes.length; i++) {
    if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] < b.bytes[i] ? -1 : 1;
  }
  return 0;
}

/** Mutable working copy for one step. */
type Draft = { -readonly [K in keyof InstanceState]: InstanceState[K] };

class Stepper {
  readonly s: Draft;
  readonly actions: Action[] = [];
  readonly cfg: ResolvedInstance;
  readonly now: number;
  readonly ctx: StepContext;

  constructor(cfg: ResolvedInstance, s: InstanceState, now: number, ctx: StepContext) {
    this.cfg = cfg;
    this.s = { ...s };
    this.now = now;
    this.ctx = ctx;
  }

  log(text: string): void {
    this.actions.push({ type: 'log', text: `(${this.cfg.name}) ${text}` });
  }

  count(counter: VrrpCounter): void {
    this.actions.push({ type: 'count', counter });
  }

  skew(): number {
    return skewTime(this.cfg.version, this.s.effectivePriority, this.s.masterAdverIntUs);
  }

  msDownTimer(): number {
    return masterDownInterval(this.cfg.version, this.s.effectivePriority, this.s.masterAdverIntUs, this.cfg.downTimerAdverts);
  }

  /** vrrp_init_instance_sands. */
  initSands(): void {
    if (this.s.state === 'MASTER') this.s.sands = this.now + this.cfg.adverIntUs;
    else if (this.s.state === 'BACKUP') {
      const until = this.ctx.delayedStartUntil;
      this.s.sands = (until !== undefined && this.now < until ? until : this.now) + this.s.msDownTimerUs;
    }
    else this.s.sands = null;
  }

  /** vrrp_send_adv. */
  sendAdvert(priority: number): void {
    let ahSeq: number | null = null;
    if (this.cfg.authType === AUTH_TYPE.ah) {
      // keepalived stops at 0xFFFFFFFD (its "cycle" flag); 2^32 seconds of adverts is out of reach.
      if (this.s.ahSeq < 0xfffffffd) this.s.ahSeq += 1;
      ahSeq = this.s.ahSeq;
    }
    this.actions.push({ type: 'send-advert', priority, ahSeq });
    this.count('advert_sent');
  }

  /** send_instance_notifies, with the sync-group suppression of vrrp_notify.c. */
  notify(): void {
    const st = this.s.state;
    if (st !== 'MASTER' && st !== 'BACKUP' && st !== 'FAULT' && st !== 'STOP') return;
    if (this.s.notifiesSent && this.ctx.sync && this.ctx.sync.groupState === st) return;
    this.s.notifiesSent = true;
    this.actions.push({ type: 'notify', state: st, priority: this.s.effectivePriority });
  }

  /** vrrp_restore_interface. */
  restoreInterface(advF: boolean): void {
    if (advF) {
      this.sendAdvert(PRIO_STOP);
      this.count('pri_zero_sent');
      this.log('sent 0 priority');
    }
    this.s.garpDelayAt = null;
    this.s.lowerPrioGarpAt = null;
    this.s.garpRefreshAt = null;
    if (this.s.vipSet) {
      this.log('removing VIPs.');
      this.actions.push({ type: 'remove-addresses', residual: false });
      this.s.vipSet = false;
    }
  }

  /** vrrp_state_become_master. */
  becomeMaster(): void {
    this.count('become_master');
    // RFC 5798 §6.4.1: Master_Adver_Interval = Advertisement_Interval on becoming MASTER.
    this.s.masterAdverIntUs = this.cfg.adverIntUs;
    this.log('setting VIPs.');
    this.actions.push({ type: 'add-addresses' });
    this.s.vipSet = true;
    if (this.cfg.garp.masterRepeat > 0) this.actions.push({ type: 'garp', repeat: this.cfg.garp.masterRepeat });
    this.s.garpRefreshAt = this.cfg.garp.refreshUs > 0 ? this.now + this.cfg.garp.refreshUs : null;
    this.notify();
  }

  /** vrrp_state_master_tx. */
  masterTx(): void {
    // The advert goes first, so the old master drops the addresses before our GARPs arrive.
    this.sendAdvert(this.s.effectivePriority);
    if (!this.s.vipSet) {
      this.log('Entering MASTER STATE');
      this.becomeMaster();
      if (this.cfg.garp.masterDelayUs > 0) this.s.garpDelayAt = this.now + this.cfg.garp.masterDelayUs;
    } else if (this.s.garpRefreshAt !== null && this.now > this.s.garpRefreshAt) {
      this.actions.push({ type: 'garp', repeat: this.cfg.garp.refreshRepeat });
      this.s.garpRefreshAt = this.now + this.cfg.garp.refreshUs;
    }
  }

  /** vrrp_sync_can_goto_master (its side effect: re-arm the down timer while waiting). */
  canGotoMaster(): boolean {
    const sync = this.ctx.sync;
    if (!sync || sync.groupState === 'MASTER' || sync.othersWantMaster) return true;
    this.s.msDownTimerUs = this.msDownTimer();
    this.initSands();
    return false;
  }

  /** vrrp_state_goto_master. */
  gotoMaster(): void {
    if (this.cfg.syncGroup && !this.canGotoMaster()) {
      this.s.wantState = 'MASTER';
      return;
    }
    this.s.state = 'MASTER';
    this.initSands();
    this.masterTx();
  }

  /** vrrp_state_leave_master. */
  leaveMaster(advF: boolean): void {
    if (this.s.wantState === 'BACKUP') {
      this.log('Entering BACKUP STATE');
      this.s.preemptTime = 0;
    } else if (this.s.wantState === 'FAULT') {
      this.log('Entering FAULT STATE');
      this.sendAdvert(PRIO_STOP);
    } else {
      return;
    }
    this.restoreInterface(advF);
    this.s.state = this.s.wantState;
    this.notify();
    this.s.msDownTimerUs = this.msDownTimer();
    this.initSands();
    this.count('release_master');
  }

  /** vrrp_state_leave_fault. */
  leaveFault(): void {
    if (this.s.wantState === 'MASTER') {
      this.gotoMaster();
    } else {
      if (this.s.state !== this.s.wantState) this.log(`Entering ${this.s.wantState} STATE`);
      if (this.s.wantState === 'FAULT' && this.s.state === 'MASTER') {
        this.sendAdvert(PRIO_STOP);
        this.restoreInterface(false);
      }
      this.s.state = this.s.wantState;
      this.notify();
      if (this.s.state === 'BACKUP') this.s.preemptTime = 0;
    }
    this.s.masterAdverIntUs = this.cfg.adverIntUs;
    this.s.msDownTimerUs = this.msDownTimer();
    this.initSands();
  }

  /** down_instance: a tracker puts the instance in FAULT. */
  downInstance(): void {
    this.s.wantState = 'FAULT';
    if (this.s.state === 'MASTER') this.leaveMaster(true);
    else this.leaveFault();
  }

  /** try_up_instance once no fault is left. */
  tryUpInstance(): void {
    if (!(this.s.wantState === 'MASTER' && this.s.basePriority === PRIO_OWNER)) this.s.wantState = 'BACKUP';
    this.s.masterAdverIntUs = this.cfg.adverIntUs;
    this.s.msDownTimerUs = this.s.wantState === 'MASTER' && this.s.basePriority === PRIO_OWNER
      ? this.s.masterAdverIntUs + this.skew()
      : this.msDownTimer();
    const sync = this.ctx.sync;
    if (sync && (sync.othersFaulted || sync.memberInitPending)) return;
    const want = this.s.wantState;
    if (sync && this.s.wantState === 'MASTER' && !(sync.groupState === 'MASTER' || sync.othersWantMaster)) this.s.wantState = 'BACKUP';
    this.leaveFault();
    if (this.cfg.unicast && this.cfg.srcAddr) this.actions.push({ type: 'garp-source' });
    this.initSands();
    this.s.wantState = want;
  }

  /** vrrp_set_effective_priority. */
  setEffectivePriority(): void {
    if (this.s.basePriority === PRIO_OWNER) return;
    const p = effectiveOf(this.s.basePriority, this.s.totalPriority);
    if (p === this.s.effectivePriority) return;
    this.log(`Changing effective priority from ${this.s.effectivePriority} to ${p}`);
    this.s.effectivePriority = p;
    const old = this.s.msDownTimerUs;
    this.s.msDownTimerUs = this.msDownTimer();
    // A BACKUP keeps its running timer but shifts it by the change in skew.
    if (this.s.state === 'BACKUP' && this.s.sands !== null) this.s.sands += this.s.msDownTimerUs - old;
    if (this.cfg.notifyPriorityChanges) {
      this.actions.push({ type: 'notify-event', event: this.s.state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY', priority: p });
    }
  }

  // -------------------------------------------------------------------------------------------- events

  start(): void {
    if (this.s.state !== 'INIT' && this.s.state !== 'FAULT') return;
    const begin = this.s.state;
    // A crashed earlier run may have left our addresses configured; they must not be used as a source.
    this.actions.push({ type: 'remove-addresses', residual: true });
    if (this.s.state === 'FAULT') {
      // vrrp_complete_init announces instances that start faulted, before vrrp_init_state.
      this.log('entering FAULT state');
      this.notify();
      this.s.wantState = 'FAULT';
    }
    const sync = this.ctx.sync;
    const newState: VrrpStateName = sync ? sync.groupState : this.s.wantState;
    const isUp = this.s.faults === 0;
    const initBlocked = this.s.initPending > 0 || (sync?.memberInitPending ?? false);
    if (isUp && newState === 'MASTER' && !initBlocked && this.s.basePriority === PRIO_OWNER && this.s.wantState === 'MASTER') {
      // The address owner takes over at once: time out of BACKUP after 1 µs.
      this.s.state = 'BACKUP';
      this.s.msDownTimerUs = 1;
    } else {
      // A member wanting MASTER in a BACKUP group waits one interval for any other master.
      this.s.msDownTimerUs = newState === 'BACKUP' && this.s.wantState === 'MASTER'
        ? this.s.masterAdverIntUs + skewMin(this.cfg.version, this.s.masterAdverIntUs)
        : this.msDownTimer();
      if (isUp && newState !== 'FAULT' && !initBlocked) {
        if ((this.s.state as VrrpStateName) !== 'BACKUP') {
          this.log('Entering BACKUP STATE (init)');
          this.s.state = 'BACKUP';
        }
      } else {
        if (begin !== 'FAULT') this.log('Entering FAULT STATE (init)');
        this.s.state = 'FAULT';
      }
      if (begin !== this.s.state && (this.s.state !== 'FAULT' || this.s.faults > 0)) this.notify();
    }
    this.initSands();
  }

  timer(): void {
    const now = this.now;
    if (this.s.garpDelayAt !== null && this.s.garpDelayAt <= now) {
      this.s.garpDelayAt = null;
      if (this.s.vipSet && this.cfg.garp.masterRepeat > 0) this.actions.push({ type: 'garp', repeat: this.cfg.garp.masterRepeat });
    }
    if (this.s.lowerPrioGarpAt !== null && this.s.lowerPrioGarpAt <= now) {
      this.s.lowerPrioGarpAt = null;
      if (this.s.vipSet && this.cfg.garp.lowerPrioRepeat > 0) this.actions.push({ type: 'garp', repeat: this.cfg.garp.lowerPrioRepeat });
    }
    if (this.s.sands === null || this.s.sands > now) return;
    if (this.s.state === 'BACKUP') {
      this.log('Receive advertisement timeout');
      this.s.wantState = 'MASTER';
      this.gotoMaster();
    } else if (this.s.state === 'MASTER') {
      this.masterTx();
    }
    this.initSands();
  }

  packet(pkt: ReceivedPacket): void {
    if (this.s.state !== 'BACKUP' && this.s.state !== 'MASTER') {
      this.actions.push({ type: 'drop', reason: 'not_running', detail: `state ${this.s.state}` });
      return;
    }
    if (this.s.state === 'BACKUP') this.backupRx(pkt);
    else this.masterRx(pkt);
  }

  /** Run the receive check; count and report drops. */
  check(pkt: ReceivedPacket, checkVipAddr: boolean) {
    const r = checkAdvert(pkt, receiveExpectations(this.cfg, this.s), checkVipAddr);
    if (!r.ok) {
      this.actions.push({ type: 'drop', reason: r.reason, detail: r.detail });
      return null;
    }
    const a = r.advert;
    if (a.ahSeq !== null) this.s.ahSeq = a.ahSeq;
    if (a.switchedToOldChecksum) {
      this.s.checksumCompat = 'detected';
      this.log('Setting unicast VRRPv3 checksum to old version');
    }
    this.count('advert_rcvd');
    if (a.header.priority === 0) this.count('pri_zero_rcvd');
    return a;
  }

  /** vrrp_state_backup. */
  backupRx(pkt: ReceivedPacket): void {
    const sameMaster = this.s.masterAddr !== null && addrEqual(this.s.masterAddr, pkt.src);
    const a = this.check(pkt, !this.cfg.skipCheckAdvAddr || !sameMaster);
    let ignore = a === null;
    if (a) {
      const prio = a.header.priority;
      if (prio === 0) {
        // The master resigned: take over after Skew_Time only.
        this.s.msDownTimerUs = this.skew();
      } else if (this.cfg.nopreempt || prio >= this.s.effectivePriority
        || (this.cfg.preemptDelayUs > 0 && (this.s.preemptTime === 0 || this.s.preemptTime > this.now))) {
        if (this.cfg.version === 3) {
          // RFC 5798 §6.4.2: a backup adopts the master's advertisement interval.
          const masterInt = a.header.adverInt * TIMER_CENTI_HZ;
          if (masterInt !== this.s.masterAdverIntUs) {
            this.log(`advertisement interval updated from ${this.s.masterAdverIntUs / 1000}ms to ${masterInt / 1000}ms by master`);
            this.s.masterAdverIntUs = masterInt;
          }
        }
        this.s.msDownTimerUs = this.msDownTimer();
        this.s.masterAddr = a.src;
        this.s.masterPriority = prio;
        if (this.cfg.preemptDelayUs > 0) {
          if (prio >= this.s.effectivePriority) this.s.preemptTime = 0;
          else if (this.s.preemptTime === 0) {
            this.log(`start preempt delay (${this.cfg.preemptDelayUs / 1_000_000})`);
            this.s.preemptTime = this.now + this.cfg.preemptDelayUs;
          }
        }
        // Held in BACKUP by a sync group after our timer expired, an accepted advert cancels the wish.
        this.s.wantState = 'BACKUP';
      } else {
        this.log(`received lower priority (${prio}) advert from ${a.src.text} - discarding`);
        ignore = true;
        this.s.masterAddr = a.src;
      }
    }
    if (ignore) {
      // The timer keeps running: what is left of it becomes the new down timer.
      const left = this.s.sands === null ? 0 : this.s.sands - this.now;
      this.s.msDownTimerUs = left < 0 ? 0 : left;
    }
    this.initSands();
  }

  /** Reply to a received advert, within the flood cap. Returns true when an advert went out. */
  replyAdvert(): boolean {
    const gap = Math.floor(this.cfg.adverIntUs / 10);
    if (this.s.lastReplyAdvertAt !== null && this.now - this.s.lastReplyAdvertAt < gap) return false;
    this.s.lastReplyAdvertAt = this.now;
    this.sendAdvert(this.s.effectivePriority);
    return true;
  }

  /** vrrp_state_master_rx (+ the dispatcher's leave_master when it returns true). */
  masterRx(pkt: ReceivedPacket): void {
    const a = this.check(pkt, true);
    if (!a) return;
    const prio = a.header.priority;
    const mine = this.s.effectivePriority;
    const addrCmp = this.s.localAddr ? addrCompare(a.src, this.s.localAddr) : 0;
    let sent = false;
    if (prio === 0 || (this.cfg.higherPrioSendAdvert && (prio > mine || (prio === mine && addrCmp > 0)))) {
      sent = this.replyAdvert();
      if (prio === 0) {
        this.log('Master received priority 0 message');
        if (sent) this.initSands();
        return;
      }
    }
    if (prio === mine) {
      if (addrCmp === 0) this.log('WARNING - equal priority advert received from remote host with our IP address.');
      else if (mine === PRIO_OWNER) {
        this.log('CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority');
        this.s.effectivePriority = PRIO_OWNER - 1;
        this.s.basePriority = PRIO_OWNER - 1;
      }
    }
    const eff = this.s.effectivePriority;
    if (prio < eff || (prio === eff && addrCmp < 0)) {
      this.log(`Received advert from ${a.src.text} with lower priority ${prio}, ours ${eff}${this.cfg.lowerPrioNoAdvert ? '' : ', forcing new election'}`);
      if (this.cfg.authType === AUTH_TYPE.ah && a.ahSeq !== null) this.s.ahSeq = a.ahSeq + 1;
      if (!this.cfg.lowerPrioNoAdvert) sent = this.replyAdvert() || sent;
      if (this.cfg.garp.lowerPrioRepeat > 0) {
        this.actions.push({ type: 'garp', repeat: this.cfg.garp.lowerPrioRepeat });
        if (this.cfg.garp.lowerPrioDelayUs > 0) this.s.lowerPrioGarpAt = this.now + this.cfg.garp.lowerPrioDelayUs;
      }
      if (this.cfg.syncGroup) this.actions.push({ type: 'sync-lower-prio-garp' });
      this.actions.push({ type: 'notify-event', event: 'MASTER_RX_LOWER_PRI', priority: eff });
      if (sent) this.initSands();
      return;
    }
    if (prio > eff || (prio === eff && addrCmp > 0)) {
      if (prio > eff) this.log(`Master received advert from ${a.src.text} with higher priority ${prio}, ours ${eff}`);
      else this.log(`Master received advert from ${a.src.text} with same priority ${prio} but higher IP address than ours`);
      if (this.cfg.version === 3) this.s.masterAdverIntUs = a.header.adverInt * TIMER_CENTI_HZ;
      this.s.msDownTimerUs = this.msDownTimer();
      this.s.masterPriority = prio;
      this.s.masterAddr = a.src;
      this.s.wantState = 'BACKUP';
      this.s.state = 'MASTER';
      this.leaveMaster(false);
      return;
    }
    if (sent) this.initSands();
  }

  tracking(t: TrackingTotals): void {
    const wasFaulted = this.s.faults > 0;
    const wasInit = this.s.initPending > 0;
    this.s.totalPriority = t.totalPriority;
    this.s.faults = t.faults;
    this.s.initPending = t.initPending;
    if (this.s.state === 'STOP') return;
    // Priority first: the FAULT notify then carries the priority the trackers left.
    this.setEffectivePriority();
    if (!wasFaulted && t.faults > 0) this.downInstance();
    if ((wasFaulted || wasInit) && t.faults === 0 && t.initPending === 0 && (this.s.state === 'FAULT' || this.s.state === 'INIT')) {
      this.tryUpInstance();
    }
  }

  syncBackup(): void {
    if (this.s.state === 'BACKUP' || this.s.state === 'STOP') return;
    this.s.wantState = 'BACKUP';
    if (this.s.state === 'FAULT' || this.s.state === 'INIT') this.leaveFault();
    else this.leaveMaster(false);
  }

  syncMaster(): void {
    if (this.s.state === 'MASTER' || this.s.state === 'STOP') return;
    this.s.wantState = 'MASTER';
    this.gotoMaster();
  }

  syncFault(): void {
    if (this.s.state === 'FAULT' || this.s.state === 'STOP') return;
    this.s.wantState = 'FAULT';
    if (this.s.state === 'MASTER') this.leaveMaster(false);
    else {
      this.s.state = 'FAULT';
      this.leaveFault();
    }
  }

  stop(): void {
    if (this.s.state === 'STOP') return;
    // restore_vrrp_interfaces: a MASTER resigns with priority 0 and drops its addresses.
    if (this.s.state === 'MASTER') this.restoreInterface(true);
    this.s.state = 'STOP';
    this.s.sands = null;
    this.s.garpDelayAt = null;
    this.s.lowerPrioGarpAt = null;
    this.s.notifiesSent = false;
    this.notify();
  }
}

/** Advance one instance by one event at time `now` (µs). */
export function step(cfg: ResolvedInstance, state: InstanceState, event: VrrpEvent, now: number, ctx: StepContext = {}): StepResult {
  const st = new Stepper(cfg, state, now, ctx);
  switch (event.type) {
    case 'start': st.start(); break;
    case 'timer': st.timer(); break;
    case 'packet': st.packet(event.packet); break;
    case 'tracking': st.tracking(event.totals); break;
    case 'local-addr': st.s.localAddr = event.addr; break;
    case 'sync-backup': st.syncBackup(); break;
    case 'sync-master': st.syncMaster(); break;
    case 'sync-fault': st.syncFault(); break;
    case 'stop': st.stop(); break;
  }
  return { state: st.s, actions: st.actions };
}
