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

/**
 * Timer coalescing for the checkers' real clock: every expiry is rounded up to a multiple of
 * `slackMs`, so checks due within one window start in one event-loop turn. At 10 000 checks a
 * second a 1 ms timer starts ~10 checks per turn and the turns themselves (timer, microtasks,
 * epoll_wait) cost more than the checks' JavaScript; a check now starts at most `slackMs` late,
 * which on a delay_loop of a second or more is noise (keepalived's own timers run late under load).
 */
export function coalescedClock(slackMs: number, base: SchedulerClock = systemClock): SchedulerClock {
  return {
    now: () => base.now(),
    setTimer: (fn, delayMs) => {
      const now = base.now();
      const due = Math.ceil((now + Math.max(0, delayMs)) / slackMs) * slackMs;
      return base.setTimer(fn, due - now);
    },
    clearTimer: (h) => base.clearTimer(h),
  };
}

/** The health checker's default timer slack (see coalescedClock). */
export const CHECK_TIMER_SLACK_MS = 8;

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
  /** Current generation per task id (ids are small integers); an entry with an older generation is stale (cancelled). */
  readonly #gen: number[] = [];
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
    const gen = (this.#gen[id] ?? 0) + 1;
    this.#gen[id] = gen;
    this.#push({ at, seq: this.#seq++, id, gen, task });
    if (at < this.#timerAt) this.#arm();
  }

  cancel(id: number): void {
    this.#gen[id] = (this.#gen[id] ?? 0) + 1;
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
      if (this.#gen[e.id] !== e.gen) continue;
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
      if (this.#gen[e.id] === e.gen) this.#start(e);
    }
    if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#waitHead);
      this.#waitHead = 0;
    }
  }

  // Sifts move a hole instead of swapping pairs: one write per level.
  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p];
      if (q.at < e.at || (q.at === e.at && q.seq < e.seq)) break;
      h[i] = q;
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (h[r].at < h[c].at || (h[r].at === h[c].at && h[r].seq < h[c].seq))) c = r;
      const x = h[c];
      if (last.at < x.at || (last.at === x.at && last.seq < x.seq)) break;
      h[i] = x;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
