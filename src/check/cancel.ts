// Cancelling checks in flight. Every probe takes a signal with AbortSignal's shape, but the health
// checker hands them one shared CheckCancel instead of an AbortController per check: Node's
// EventTarget walks its listener list on every addEventListener, which at thousands of checks a
// second cost more than the checks' own bookkeeping. A real AbortSignal fits the same type.

export interface CheckSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

export class CheckCancel implements CheckSignal {
  #aborted = false;
  readonly #fns = new Set<() => void>();

  get aborted(): boolean {
    return this.#aborted;
  }

  addEventListener(_type: 'abort', fn: () => void): void {
    if (this.#aborted) queueMicrotask(fn);
    else this.#fns.add(fn);
  }

  removeEventListener(_type: 'abort', fn: () => void): void {
    this.#fns.delete(fn);
  }

  /** Abort every check listening now. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const fns = [...this.#fns];
    this.#fns.clear();
    for (const fn of fns) fn();
  }
}
