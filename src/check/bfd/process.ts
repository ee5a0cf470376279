// The BFD process: keepalived's BFD child (keepalived/bfd/bfd_scheduler.c, bfd_daemon.c) on our
// event loop. It owns the sockets (src/sys/bfd-socket.ts), one timer per session from an injected
// clock, and the sessions' pure state machines (session.ts). Received datagrams are checked
// (packet.ts), matched to a session — by Your Discriminator, or when that is zero by the source
// address (and destination, when the instance has a source_ip), as RFC 5880 §6.8.6 and keepalived's
// find_bfd_by_discr / find_bfd_by_addr do — and stepped. Every refused datagram is counted by reason.
// BFD_CHECK reads the sessions through the BfdStatusSource interface (check.ts).
import type { SchedulerClock } from '../scheduler.ts';
import { systemClock } from '../scheduler.ts';
import type { BfdDatagram, BfdNet, BfdReceiver, BfdSender } from '../../sys/bfd-socket.ts';
import { BFD_DIAGS, BFD_DROP_REASONS, type BfdDropReason, decodeBfd, encodeBfd, type BfdState } from './packet.ts';
import { type BfdSession, type BfdStep, type BfdEvent, initialSession, nextDeadline, stepSession } from './session.ts';
import { BFD_CONTROL_PORT, type BfdInstanceConfig } from './config.ts';
import type { BfdStatusSource } from './check.ts';

/** keepalived retries a session whose send socket could not be opened after this long (bfd_open_fd_out_thread). */
export const SENDER_RETRY_MS = 60_000;

export interface BfdProcessOptions {
  readonly instances: readonly BfdInstanceConfig[];
  readonly net: BfdNet;
  readonly clock?: SchedulerClock;
  readonly random?: () => number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Destination and listening port; 3784 (RFC 5881 §4). */
  readonly port?: number;
}

export interface BfdSessionSnapshot {
  readonly name: string;
  readonly neighbor: string;
  readonly source: string | null;
  readonly localPort: number | null;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  readonly localDiag: string;
  readonly remoteDiag: string;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly txIntervalMs: number;
  readonly detectionTimeMs: number;
  readonly passive: boolean;
  /** This session's datagrams since it (re)started: matched to it, sent by it, and refused by it (by reason). */
  readonly counters: BfdSessionCounters;
}

export interface BfdSessionCounters {
  readonly received: number;
  readonly sent: number;
  readonly dropped: Readonly<Partial<Record<BfdDropReason, number>>>;
}

export interface BfdStats {
  readonly received: number;
  readonly sent: number;
  readonly sendErrors: number;
  /** Datagrams refused, by reason (packet.ts: BFD_DROP_REASONS). */
  readonly dropped: Readonly<Record<BfdDropReason, number>>;
  /** Datagrams accepted without a TTL from the kernel (the GTSM check could not run). */
  readonly noTtl: number;
  readonly transitions: number;
}

interface Live {
  readonly cfg: BfdInstanceConfig;
  session: BfdSession;
  sender: BfdSender | null;
  timer: unknown;
  timerAt: number | null;
  retry: unknown;
  closed: boolean;
  received: number;
  sent: number;
  dropped: Partial<Record<BfdDropReason, number>>;
}

function sameConfig(a: BfdInstanceConfig, b: BfdInstanceConfig): boolean {
  return a.neighbor.text === b.neighbor.text && (a.source?.text ?? null) === (b.source?.text ?? null)
    && JSON.stringify(a.session) === JSON.stringify(b.session);
}

export class BfdProcess implements BfdStatusSource {
  readonly #net: BfdNet;
  readonly #clock: SchedulerClock;
  readonly #random: () => number;
  readonly #log: NonNullable<BfdProcessOptions['log']>;
  readonly #port: number;
  #instances: readonly BfdInstanceConfig[];
  readonly #live = new Map<string, Live>();
  readonly #receivers = new Map<4 | 6, BfdReceiver>();
  readonly #listeners = new Set<(name: string, up: boolean) => void>();
  readonly #dropped = Object.fromEntries(Object.keys(BFD_DROP_REASONS).map((k) => [k, 0])) as Record<BfdDropReason, number>;
  #received = 0;
  #sent = 0;
  #sendErrors = 0;
  #noTtl = 0;
  #transitions = 0;
  #started = false;
  #stopped = false;

  constructor(o: BfdProcessOptions) {
    this.#net = o.net;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
    this.#log = o.log ?? (() => {});
    this.#port = o.port ?? BFD_CONTROL_PORT;
    this.#instances = o.instances;
  }

  /** Open the sockets and start every session (keepalived: bfd_dispatcher_init, bfd_register_workers). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#apply(this.#instances);
  }

  /** A reload: sessions whose instance is unchanged keep running; others stop or start. */
  async reconfigure(instances: readonly BfdInstanceConfig[]): Promise<void> {
    this.#instances = instances;
    if (this.#started && !this.#stopped) await this.#apply(instances);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const l of this.#live.values()) this.#close(l);
    this.#live.clear();
    const rs = [...this.#receivers.values()];
    this.#receivers.clear();
    await Promise.all(rs.map((r) => r.close()));
  }

  isUp(name: string): boolean | null {
    const l = this.#live.get(name);
    return l ? l.session.local === 'Up' : null;
  }

  subscribe(fn: (name: string, up: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  snapshot(): BfdSessionSnapshot[] {
    return [...this.#live.values()].map((l) => ({
      name: l.cfg.name, neighbor: l.cfg.neighbor.text, source: l.cfg.source?.text ?? null, localPort: l.sender?.localPort ?? null,
      state: l.session.local, remoteState: l.session.remote, localDiag: BFD_DIAGS[l.session.localDiag] ?? String(l.session.localDiag),
      remoteDiag: BFD_DIAGS[l.session.remoteDiag] ?? String(l.session.remoteDiag), localDiscriminator: l.session.localDiscr,
      remoteDiscriminator: l.session.remoteDiscr, txIntervalMs: l.session.localTxUs / 1000, detectionTimeMs: l.session.detectUs / 1000,
      passive: l.cfg.session.passive, counters: { received: l.received, sent: l.sent, dropped: { ...l.dropped } },
    }));
  }

  stats(): BfdStats {
    return {
      received: this.#received, sent: this.#sent, sendErrors: this.#sendErrors, dropped: { ...this.#dropped }, noTtl: this.#noTtl,
      transitions: this.#transitions,
    };
  }

  // ---- internals ----------------------------------------------------------------------

  async #apply(instances: readonly BfdInstanceConfig[]): Promise<void> {
    const want = new Map(instances.map((i) => [i.name, i]));
    for (const [name, l] of this.#live) {
      const n = want.get(name);
      if (!n || !sameConfig(n, l.cfg)) {
        this.#close(l);
        this.#live.delete(name);
      }
    }
    // Receivers for the families in use (keepalived keeps its listening socket across reloads too).
    const families = new Set(instances.map((i) => i.neighbor.family));
    for (const f of [4, 6] as const) {
      if (families.has(f) && !this.#receivers.has(f)) {
        try {
          this.#receivers.set(f, this.#net.openReceiver(f, this.#port, (d) => this.#onDatagram(d)));
        } catch (e) {
          // keepalived exits without its listening socket; we log and leave the sessions Down.
          this.#log('error', `BFD: cannot listen on ${f === 4 ? '0.0.0.0' : '[::]'}:${this.#port}: ${(e as Error).message}`);
        }
      } else if (!families.has(f) && this.#receivers.has(f)) {
        const r = this.#receivers.get(f)!;
        this.#receivers.delete(f);
        await r.close();
      }
    }
    const fresh: Live[] = [];
    for (const cfg of instances) {
      if (this.#live.has(cfg.name)) continue;
      const l: Live = { cfg, session: initialSession(cfg.session, this.#newDiscriminator()), sender: null, timer: null, timerAt: null, retry: null, closed: false, received: 0, sent: 0, dropped: {} };
      this.#live.set(cfg.name, l);
      fresh.push(l);
    }
    await Promise.all(fresh.map((l) => this.#openSender(l)));
    for (const l of fresh) {
      if (l.closed) continue;
      this.#step(l, l.sender ? { type: 'start' } : { type: 'admin-down' });
    }
  }

  async #openSender(l: Live): Promise<void> {
    try {
      const s = await this.#net.openSender({
        family: l.cfg.neighbor.family, neighbor: l.cfg.neighbor.text, port: this.#port, source: l.cfg.source?.text ?? null,
        ttl: l.cfg.session.ttl, random: this.#random,
      });
      if (l.closed) s.close();
      else l.sender = s;
    } catch (e) {
      this.#log('error', `(${l.cfg.name}) Unable to open output socket, disabling instance: ${(e as Error).message}`);
      if (!l.closed) l.retry = this.#clock.setTimer(() => void this.#retrySender(l), SENDER_RETRY_MS);
    }
  }

  async #retrySender(l: Live): Promise<void> {
    l.retry = null;
    if (l.closed) return;
    await this.#openSender(l);
    if (l.sender && !l.closed) this.#step(l, { type: 'admin-up' });
  }

  #close(l: Live): void {
    l.closed = true;
    if (l.timer !== null) this.#clock.clearTimer(l.timer);
    if (l.retry !== null) this.#clock.clearTimer(l.retry);
    l.timer = null;
    l.sender?.close();
    l.sender = null;
  }

  #newDiscriminator(): number {
    const used = new Set([...this.#live.values()].map((l) => l.session.localDiscr));
    // Random, non-zero and unique (bfd_data.c: bfd_get_random_discr); a source that keeps repeating
    // itself (a test's constant random) falls back to the next free number.
    for (let i = 0; i < 16; i++) {
      const d = Math.floor(this.#random() * 0x100000000) >>> 0;
      if (d !== 0 && !used.has(d)) return d;
    }
    let d = 1;
    while (used.has(d)) d++;
    return d;
  }

  #step(l: Live, ev: BfdEvent): BfdStep {
    const r = stepSession(l.cfg.session, l.session, ev, {
      now: this.#clock.now(), random: this.#random, newDiscriminator: () => this.#newDiscriminator(),
    });
    l.session = r.session;
    if (r.drop) {
      this.#dropped[r.drop]++;
      l.dropped[r.drop] = (l.dropped[r.drop] ?? 0) + 1;
    }
    for (const p of r.send) {
      const sender = l.sender;
      if (!sender) continue;
      this.#sent++;
      l.sent++;
      void sender.send(encodeBfd(p)).then((ok) => { if (!ok) this.#sendErrors++; });
    }
    for (const c of r.changes) {
      this.#transitions++;
      const level = c.to === 'Up' || c.from === 'Up' ? (c.to === 'Up' ? 'info' : 'warn') : 'info';
      this.#log(level, `(${l.cfg.name}) Entering ${c.to} state${c.to === 'Down' ? ` (Local diagnostic - ${BFD_DIAGS[c.diag]}, Remote diagnostic - ${BFD_DIAGS[l.session.remoteDiag] ?? l.session.remoteDiag})` : ''}`);
      if (c.notify) {
        for (const fn of this.#listeners) {
          try {
            fn(l.cfg.name, c.to === 'Up');
          } catch (e) {
            this.#log('error', `BFD listener failed: ${(e as Error).message}`);
          }
        }
      }
    }
    this.#arm(l);
    return r;
  }

  #arm(l: Live): void {
    if (l.closed) return;
    const at = nextDeadline(l.session);
    if (at === l.timerAt && l.timer !== null) return;
    if (l.timer !== null) this.#clock.clearTimer(l.timer);
    l.timer = null;
    l.timerAt = at;
    if (at === null) return;
    l.timer = this.#clock.setTimer(() => {
      l.timer = null;
      l.timerAt = null;
      if (!l.closed) this.#step(l, { type: 'timer' });
    }, at - this.#clock.now());
  }

  #onDatagram(d: BfdDatagram): void {
    if (this.#stopped) return;
    this.#received++;
    if (d.truncated) {
      this.#dropped.truncated++;
      return;
    }
    const r = decodeBfd(d.data);
    if (!r.ok) {
      this.#dropped[r.reason]++;
      return;
    }
    const p = r.packet;
    let found: Live | undefined;
    for (const l of this.#live.values()) {
      if (p.yourDiscriminator !== 0) {
        if (l.session.localDiscr === p.yourDiscriminator) { found = l; break; }
      } else if (l.cfg.neighbor.text === d.src && (!l.cfg.source || d.dst === null || l.cfg.source.text === d.dst)) {
        found = l;
        break;
      }
    }
    if (!found) {
      this.#dropped['no-session']++;
      return;
    }
    if (d.ttl === null) this.#noTtl++;
    found.received++;
    this.#step(found, { type: 'packet', packet: p, ttl: d.ttl });
  }
}
