// Which services the data plane serves while VRRP moves the VIPs (docs/vrrp.md, "Serving a VIP only
// while MASTER"). keepalived programs IPVS on both directors and lets the address decide where the
// traffic lands; keepvs's proxy plane cannot listen on an address the host does not have, so the
// daemon tells the plane which addresses VRRP manages (from the file, before the first sync) and
// which it holds (from the VRRP process, as instances become MASTER or release), and syncs the plane
// after every change. A sync that fails while an address is held (the kernel not ready for the new
// address yet) is retried a bounded number of times.
import type { Director } from '../core/director.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { Logger } from './log.ts';

/** Retries of a failed sync after a takeover, and the pause between them. */
const RETRIES = 10;
const RETRY_MS = 200;

export interface VipServingClock {
  now(): number;
  /** Run fn after ms; tests pass a fake. */
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

const REAL_CLOCK: VipServingClock = {
  now: Date.now,
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export class VipServing {
  readonly #plane: DataPlane;
  readonly #director: Director;
  readonly #log: Logger;
  readonly #clock: VipServingClock;
  #managed: ReadonlySet<string> = new Set();
  #held: ReadonlySet<string> = new Set();
  #retry: { cancel(): void } | null = null;
  #stopped = false;

  constructor(plane: DataPlane, director: Director, log: Logger, clock: VipServingClock = REAL_CLOCK) {
    this.#plane = plane;
    this.#director = director;
    this.#log = log;
    this.#clock = clock;
  }

  /** The addresses VRRP manages (the caller syncs the plane afterwards, as a config load does). */
  setManaged(managed: ReadonlySet<string>): void {
    this.#managed = managed;
    this.#push();
  }

  /** VRRP's held addresses changed: tell the plane and sync it; resolves when the plane follows. */
  setHeld(held: ReadonlySet<string>): Promise<void> {
    const gained = [...held].filter((a) => !this.#held.has(a));
    const lost = [...this.#held].filter((a) => !held.has(a));
    this.#held = new Set(held);
    this.#push();
    return this.#sync(gained, lost, 0);
  }

  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
    this.#retry = null;
  }

  #push(): void {
    this.#plane.setHeldAddresses?.({ managed: this.#managed, held: this.#held });
  }

  async #sync(gained: readonly string[], lost: readonly string[], attempt: number): Promise<void> {
    if (this.#stopped || !this.#plane.setHeldAddresses) return;
    this.#retry?.cancel();
    this.#retry = null;
    const began = this.#clock.now();
    try {
      await this.#plane.sync(this.#director);
      const what = [...gained.map((a) => `serving ${a}`), ...lost.map((a) => `no longer serving ${a}`)].join(', ');
      if (what) this.#log.info(`VRRP: data plane ${what} (${this.#clock.now() - began} ms)`);
    } catch (e) {
      const still = gained.filter((a) => this.#held.has(a));
      if (attempt < RETRIES && still.length > 0 && !this.#stopped) {
        this.#log.warn(`VRRP: data plane cannot serve ${still.join(', ')} yet, retrying: ${(e as Error).message}`);
        this.#retry = this.#clock.setTimer(() => void this.#sync(still, [], attempt + 1), RETRY_MS);
      } else {
        this.#log.error(`VRRP: data plane: ${(e as Error).message}`);
      }
    }
  }
}
