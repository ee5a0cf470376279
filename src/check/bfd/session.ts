// One BFD session's state machine, pure: (session, event, context) → (session, packets to send now,
// state change). Time is the context's `now` (milliseconds); intervals are microseconds as on the
// wire. Timers are deadlines in the session (txAt, expireAt, resetAt); the edge (process.ts) arms
// one timer at the earliest and feeds a `timer` event back.
//
// It follows RFC 5880 §6.2 (AdminDown/Down/Init/Up, three-way handshake), §6.8.4 (detection time =
// remote Detect Mult × max(local Required Min RX, remote Desired Min TX)), §6.5 (poll/final) and
// §6.8.3 (Desired Min TX at least 1 s while not Up), in the way keepalived 2.2.7 does them
// (keepalived/bfd/bfd_scheduler.c: bfd_handle_packet, bfd_state_*, bfd_sender_*, bfd_expire_*,
// bfd_reset_*; bfd.c: bfd_build_packet, bfd_*_tx_intv, bfd_reset_state):
// - while not Up it sends every idle_tx (and advertises idle_tx as Desired Min TX); on reaching Up it
//   starts a poll sequence when idle_tx differs from min_tx, and switches to min_tx;
// - the transmit interval is recomputed on every packet while not Up, and while Up only on a packet
//   with P or F;
// - the detection timer starts on entering Init or Up and is pushed back by packets only while Up
//   (so an Init that never completes expires one detection time after it began);
// - going Down arms a reset: one detection time later the remote's state, discriminator, poll and
//   final are forgotten; leaving Up picks a new local discriminator;
// - a passive session sends nothing until the peer has been heard (Init), and stops again when Down;
// - jitter: each interval is shortened by 10-25% (keepalived uses the 10% floor for every Detect Mult,
//   RFC 5880 §6.8.7 requires it only for Detect Mult 1);
// - clients (the checker) are told of Up, and of Down only when leaving Up for a reason other than the
//   peer's AdminDown (RFC 5882 §3.2: an administrative shutdown is not a path failure).
import { DIAG, type BfdPacket, type BfdState } from './packet.ts';

/** A bfd_instance's timing, keepalived's units (µs) and defaults: see config.ts. */
export interface BfdSessionConfig {
  readonly minRxUs: number;
  readonly minTxUs: number;
  readonly idleTxUs: number;
  readonly detectMult: number;
  readonly passive: boolean;
  /** TTL (IPv4) / hop limit (IPv6) sent, and the base of the receive check. */
  readonly ttl: number;
  /** Hops accepted below `ttl`; 255 (keepalived: -1) disables the check. */
  readonly maxHops: number;
}

export interface BfdSession {
  readonly local: BfdState;
  readonly remote: BfdState;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly localDiag: number;
  readonly remoteDiag: number;
  readonly remoteMinTxUs: number;
  readonly remoteMinRxUs: number;
  readonly remoteDetectMult: number;
  readonly remoteDemand: boolean;
  readonly poll: boolean;
  readonly final: boolean;
  /** The interval we transmit at (bfd.local_tx_intv). */
  readonly localTxUs: number;
  /** The interval the peer transmits at, as we agree it (bfd.remote_tx_intv). */
  readonly remoteTxUs: number;
  /** Detection time (bfd.local_detect_time). */
  readonly detectUs: number;
  /** Deadlines (ms); null = not scheduled. */
  readonly txAt: number | null;
  readonly expireAt: number | null;
  readonly resetAt: number | null;
  readonly lastSeen: number | null;
}

export type BfdEvent =
  /** The process starts the session: a first packet at once, then every interval (not when passive). */
  | { readonly type: 'start' }
  /** A packet for this session that passed decodeBfd; `ttl` from IP_RECVTTL/IPV6_HOPLIMIT, null when unknown. */
  | { readonly type: 'packet'; readonly packet: BfdPacket; readonly ttl: number | null }
  /** A deadline may be due. */
  | { readonly type: 'timer' }
  /** The session cannot send (keepalived: no socket): AdminDown, nothing sent. */
  | { readonly type: 'admin-down' }
  | { readonly type: 'admin-up' };

export interface BfdContext {
  readonly now: number;
  /** Uniform [0, 1): transmit jitter. */
  readonly random: () => number;
  /** A fresh non-zero local discriminator, unique in the process. */
  readonly newDiscriminator: () => number;
}

export interface BfdChange {
  readonly from: BfdState;
  readonly to: BfdState;
  readonly diag: number;
  /** Whether clients (BFD_CHECK) are told: keepalived's bfd_event_send calls. */
  readonly notify: boolean;
}

export interface BfdStep {
  readonly session: BfdSession;
  readonly send: readonly BfdPacket[];
  readonly changes: readonly BfdChange[];
  /** A packet refused by a session-level check. */
  readonly drop?: 'ttl' | 'auth' | 'admin-down';
}

export function initialSession(cfg: BfdSessionConfig, discriminator: number): BfdSession {
  return {
    local: 'Down', remote: 'Down', localDiscr: discriminator, remoteDiscr: 0, localDiag: DIAG.none, remoteDiag: DIAG.none,
    remoteMinTxUs: 0, remoteMinRxUs: 0, remoteDetectMult: 0, remoteDemand: false, poll: false, final: false,
    localTxUs: cfg.idleTxUs, remoteTxUs: 0, detectUs: 0, txAt: null, expireAt: null, resetAt: null, lastSeen: null,
  };
}

/** The next deadline, for the edge's single timer. */
export function nextDeadline(s: BfdSession): number | null {
  let at: number | null = null;
  for (const t of [s.txAt, s.expireAt, s.resetAt]) if (t !== null && (at === null || t < at)) at = t;
  return at;
}

/** The interval until the next transmission: local_tx_intv less 10-25% (bfd_scheduler.c: get_jitter). */
export function txDelayMs(localTxUs: number, random: number): number {
  const min = Math.floor(localTxUs / 10);
  const max = Math.floor(localTxUs / 4);
  return (localTxUs - (min + Math.floor(random * (max - min + 1)))) / 1000;
}

/** The control packet the session sends now (bfd.c: bfd_build_packet). */
export function controlPacket(cfg: BfdSessionConfig, s: BfdSession): BfdPacket {
  return {
    version: 1, diag: s.localDiag, state: s.local, poll: s.poll, final: s.final, cpi: false, auth: false, demand: false,
    multipoint: false, detectMult: cfg.detectMult, length: 24, myDiscriminator: s.localDiscr, yourDiscriminator: s.remoteDiscr,
    // RFC 5880 §6.8.3: Desired Min TX is at least 1 s (idle_tx) while not Up.
    desiredMinTxUs: s.local === 'Up' ? cfg.minTxUs : cfg.idleTxUs,
    requiredMinRxUs: cfg.minRxUs, requiredMinEchoRxUs: 0,
  };
}

type Mut = { -readonly [K in keyof BfdSession]: BfdSession[K] };

class Stepper {
  readonly s: Mut;
  readonly send: BfdPacket[] = [];
  readonly changes: BfdChange[] = [];
  readonly cfg: BfdSessionConfig;
  readonly ctx: BfdContext;

  constructor(cfg: BfdSessionConfig, s: BfdSession, ctx: BfdContext) {
    this.cfg = cfg;
    this.s = { ...s };
    this.ctx = ctx;
  }

  schedTx(): void {
    this.s.txAt = this.ctx.now + txDelayMs(this.s.localTxUs, this.ctx.random());
  }

  /** bfd_sender_thread: one packet; a final is sent once. `reschedule` false for the immediate (event) sends. */
  transmit(reschedule: boolean): void {
    // bfd_build_packet: answering a poll while wanting to poll, the new values ride on the Final.
    if (this.s.poll && this.s.final) this.s.poll = false;
    this.send.push(controlPacket(this.cfg, this.s));
    this.s.final = false;
    if (reschedule) this.schedTx();
  }

  idleTx(): void {
    this.s.localTxUs = Math.max(this.cfg.idleTxUs, this.s.remoteMinRxUs);
  }

  change(from: BfdState, notify: boolean): void {
    if (from !== this.s.local) this.changes.push({ from, to: this.s.local, diag: this.s.localDiag, notify });
  }

  /** bfd_state_down + bfd_state_fall. */
  down(diag: number): void {
    const from = this.s.local;
    if (from === 'Up') this.s.localDiscr = this.ctx.newDiscriminator();
    this.s.local = 'Down';
    this.s.localDiag = diag;
    if (this.s.resetAt === null) this.s.resetAt = this.ctx.now + this.s.detectUs / 1000;
    if (this.cfg.passive) this.s.txAt = null;
    this.idleTx();
    this.s.expireAt = null;
    this.change(from, from === 'Up' && this.s.remote !== 'AdminDown');
  }

  /** bfd_state_rise: Init and Up. */
  rise(): void {
    this.s.localDiag = DIAG.none;
    this.s.resetAt = null;
    if (this.s.expireAt === null) this.s.expireAt = this.ctx.now + this.s.detectUs / 1000;
  }

  init(): void {
    const from = this.s.local;
    this.s.local = 'Init';
    this.rise();
    if (this.cfg.passive && this.s.txAt === null) this.schedTx();
    this.change(from, false);
  }

  up(): void {
    const from = this.s.local;
    this.s.local = 'Up';
    this.rise();
    // bfd_state_up: the faster min_tx is announced through a poll sequence (RFC 5880 §6.8.3).
    if (this.cfg.idleTxUs !== this.cfg.minTxUs && !this.s.final) this.s.poll = true;
    this.change(from, true);
  }

  packet(p: BfdPacket, ttl: number | null): BfdStep['drop'] {
    const s = this.s;
    const cfg = this.cfg;
    // RFC 5881 §5 (GTSM), widened by keepalived's max_hops: refuse ttl < ttl_configured - max_hops.
    if (cfg.maxHops !== 255 && ttl !== null && ttl !== 0 && cfg.maxHops + ttl < cfg.ttl) return 'ttl';
    if (p.auth) return 'auth';
    if (s.local === 'AdminDown') return 'admin-down';
    const oldLocalTx = s.localTxUs;
    s.remoteDiscr = p.myDiscriminator;
    s.remote = p.state;
    s.remoteDiag = p.diag;
    s.remoteMinRxUs = p.requiredMinRxUs;
    s.remoteMinTxUs = p.desiredMinTxUs;
    s.remoteDemand = p.demand;
    s.remoteDetectMult = p.detectMult;
    if (p.final) s.poll = false;
    // While Up the intervals change only through a poll sequence (RFC 5880 §6.8.3).
    if (s.local !== 'Up' || p.poll || p.final) {
      if (s.remote === 'Up' && (s.local === 'Init' || s.local === 'Up')) s.localTxUs = Math.max(cfg.minTxUs, s.remoteMinRxUs);
      else this.idleTx();
      s.remoteTxUs = Math.max(cfg.minRxUs, s.remoteMinTxUs);
    }
    s.detectUs = s.remoteDetectMult * s.remoteTxUs;
    if (s.localTxUs < oldLocalTx && s.txAt !== null) this.schedTx();

    // RFC 5880 §6.8.6, the state table.
    if (s.remote === 'AdminDown' && s.local !== 'Down') this.down(DIAG.neighborDown);
    else if (s.local === 'Down') {
      if (s.remote === 'Down') this.init();
      else if (s.remote === 'Init') this.up();
    } else if (s.local === 'Init') {
      if (s.remote === 'Init' || s.remote === 'Up') this.up();
    } else if (s.local === 'Up' && s.remote === 'Down') this.down(DIAG.neighborDown);

    // Demand mode (the peer's): stop periodic sending while both are Up; otherwise make sure it runs.
    if (s.remoteDemand && s.local === 'Up' && s.remote === 'Up') s.txAt = null;
    else if (s.txAt === null) this.schedTx();
    // RFC 5880 §6.5: a Poll is answered at once with a Final.
    if (p.poll) {
      s.final = true;
      this.transmit(false);
    }
    s.lastSeen = this.ctx.now;
    if (s.local === 'Up' && s.expireAt !== null) s.expireAt = this.ctx.now + s.detectUs / 1000;
    return undefined;
  }

  timers(): void {
    const s = this.s;
    const now = this.ctx.now;
    // Order of keepalived's timer threads is by deadline; expiry before reset before sending at equal times.
    if (s.expireAt !== null && s.expireAt <= now) {
      s.expireAt = null;
      s.remoteDiscr = 0; // RFC 5880 §6.8.1: forgotten after a detection time of silence
      this.down(DIAG.expired);
    }
    if (s.resetAt !== null && s.resetAt <= now) {
      s.resetAt = null;
      // bfd_reset_state: back to a fresh Down, keeping what RFC 5880 says is never reinitialised.
      s.local = 'Down';
      s.remote = 'Down';
      s.remoteDiscr = 0;
      s.remoteDiag = DIAG.none;
      s.remoteDemand = false;
      s.poll = false;
      s.final = false;
      this.idleTx();
    }
    if (s.txAt !== null && s.txAt <= now && s.local !== 'AdminDown') this.transmit(true);
  }
}

export function stepSession(cfg: BfdSessionConfig, session: BfdSession, ev: BfdEvent, ctx: BfdContext): BfdStep {
  const st = new Stepper(cfg, session, ctx);
  let drop: BfdStep['drop'];
  switch (ev.type) {
    case 'start':
      if (!cfg.passive && st.s.local !== 'AdminDown') {
        st.schedTx();
        st.transmit(false);
      }
      break;
    case 'packet':
      drop = st.packet(ev.packet, ev.ttl);
      break;
    case 'timer':
      st.timers();
      break;
    case 'admin-down': {
      const from = st.s.local;
      st.s.local = 'AdminDown';
      st.s.localDiag = DIAG.adminDown;
      st.s.txAt = null;
      st.s.expireAt = null;
      st.idleTx();
      st.change(from, false);
      break;
    }
    case 'admin-up':
      if (st.s.local === 'AdminDown') {
        st.s.local = 'Down';
        st.change('AdminDown', false);
        if (!cfg.passive) st.schedTx();
      }
      break;
  }
  return drop ? { session, send: [], changes: [], drop } : { session: st.s, send: st.send, changes: st.changes };
}
