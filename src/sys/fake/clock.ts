// A manual clock in microseconds: timers fire in time order when the test advances it.
export interface FakeTimer {
  cancel(): void;
}

export class FakeClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(at: number, fn: () => void): FakeTimer {
    const id = ++this.seq;
    this.timers.set(id, { at: Math.max(at, this.t), seq: id, fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Earliest pending timer, or null. */
  next(): number | null {
    let best: number | null = null;
    for (const t of this.timers.values()) if (best === null || t.at < best) best = t.at;
    return best;
  }

  /**
   * Run every timer due up to `until` (inclusive), in order, then set the time to `until`. `between`
   * runs after each timer (tests flush promise jobs there). Bounded: at most `maxSteps` timers.
   */
  async advanceTo(until: number, between: () => Promise<void> = async () => {}, maxSteps = 1_000_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      let due: { id: number; at: number; seq: number; fn: () => void } | null = null;
      for (const [id, t] of this.timers) {
        if (t.at > until) continue;
        if (!due || t.at < due.at || (t.at === due.at && t.seq < due.seq)) due = { id, ...t };
      }
      if (!due) break;
      this.timers.delete(due.id);
      this.t = due.at;
      due.fn();
      await between();
    }
    this.t = Math.max(this.t, until);
  }

  async advance(by: number, between?: () => Promise<void>): Promise<void> {
    await this.advanceTo(this.t + by, between);
  }
}
