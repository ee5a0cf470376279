// Runs checks at their due times on one event loop: a binary min-heap of (due time, sequence) and
// a single armed timer for the earliest entry, so 10 000 checkers cost one timer, not 10 000.
// A concurrency cap bounds the checks in flight (sockets, processes); due checks beyond it wait
// in FIFO order and start as others finish — late, never dropped. keepalived has no such cap (it
// raises RLIMIT_NOFILE instead); with the default cap a healthy pool never meets it.
//
// Time comes from an injected clock, so tests step it by hand.

export interface SchedulerClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => performance.now(),
  setTimer: (fn, delayMs) => {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type Task = () => Promise<void>;

interface Entry {
  at: number;
  seq: number;
  id: number;
  gen: number;
  task: Task;
}

export const DEFAULT_CONCURRENCY = 4096;

export interface SchedulerStats {
  readonly scheduled: number;
  readonly running: number;
  readonly waiting: number;
  /** Checks that started later than due because the cap was reached. */
  readonly delayedByCap: number;
}

export class Scheduler {
  readonly #clock: SchedulerClock;
  readonly #cap: number;
  readonly #heap: Entry[] = [];
  readonly #waiting: Entry[] = [];
  #waitHead = 0;
  /** Current generation per task id; an entry with an older generation is stale (cancelled). */
  readonly #gen = new Map<number, number>();
  #seq = 0;
  #running = 0;
  #delayedByCap = 0;
  #timer: unknown = null;
  #timerAt = Infinity;
  #stopped = false;

  constructor(clock: SchedulerClock = systemClock, concurrency = DEFAULT_CONCURRENCY) {
    this.#clock = clock;
    this.#cap = Math.max(1, concurrency);
  }

  /** Run `task` (identified by `id`) at time `at`; replaces any pending run of the same id. */
  schedule(id: number, at: number, task: Task): void {
    if (this.#stopped) return;
    const gen = (this.#gen.get(id) ?? 0) + 1;
    this.#gen.set(id, gen);
    this.#push({ at, seq: this.#seq++, id, gen, task });
    if (at < this.#timerAt) this.#arm();
  }

  cancel(id: number): void {
    this.#gen.set(id, (this.#gen.get(id) ?? 0) + 1);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#heap.length = 0;
    this.#waiting.length = 0;
    this.#waitHead = 0;
  }

  stats(): SchedulerStats {
    return { scheduled: this.#heap.length, running: this.#running, waiting: this.#waiting.length - this.#waitHead, delayedByCap: this.#delayedByCap };
  }

  #arm(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
    if (this.#heap.length === 0 || this.#stopped) return;
    const at = this.#heap[0].at;
    this.#timerAt = at;
    this.#timer = this.#clock.setTimer(() => this.#fire(), at - this.#clock.now());
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0].at <= now) {
      const e = this.#pop();
      if (this.#gen.get(e.id) !== e.gen) continue;
      if (this.#running < this.#cap) this.#start(e);
      else {
        this.#waiting.push(e);
        this.#delayedByCap++;
      }
    }
    this.#arm();
  }

  /** One bound completion handler instead of two promise closures per check. */
  readonly #done = (): void => {
    this.#running--;
    if (this.#waitHead < this.#waiting.length) this.#drain();
  };

  #start(e: Entry): void {
    this.#running++;
    let p: Promise<void>;
    try {
      p = e.task();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(this.#done, this.#done);
  }

  #drain(): void {
    while (this.#running < this.#cap && this.#waitHead < this.#waiting.length && !this.#stopped) {
      const e = this.#waiting[this.#waitHead++];
      if (this.#gen.get(e.id) === e.gen) this.#start(e);
    }
    if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#waitHead);
      this.#waitHead = 0;
    }
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
