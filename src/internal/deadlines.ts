/**
 * Deadlines for many calls at once under one timer. Every store call has a deadline; a
 * `setTimeout` and a `clearTimeout` per call were about 3% of a store-mode write
 * (bench/results/NOTES.md). All deadlines of one list are the same time after their start, so
 * they expire in the order they were added: a Map in insertion order is the queue, and one
 * timer, armed for the oldest, is enough.
 */

interface Pending {
  readonly deadline: number;
  readonly expire: () => void;
}

/** The timer functions used; tests pass a fake clock's. */
export interface DeadlineClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
}

const realClock: DeadlineClock = {
  now: () => performance.now(),
  setTimeout(run, ms) {
    const timer = setTimeout(run, ms);
    // A deadline must not keep a process alive that has nothing else to do.
    timer.unref();
    return timer;
  },
};

export class DeadlineList {
  readonly #timeoutMs: number;
  readonly #clock: DeadlineClock;
  readonly #pending = new Map<number, Pending>();
  #nextKey = 0;
  #armed = false;

  constructor(timeoutMs: number, clock: DeadlineClock = realClock) {
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /**
   * Calls `expire` once the list's timeout has passed, unless the returned function is
   * called first (it returns whether it came in time).
   */
  start(expire: () => void): () => boolean {
    const key = this.#nextKey++;
    this.#pending.set(key, { deadline: this.#clock.now() + this.#timeoutMs, expire });
    if (!this.#armed) this.#arm(this.#timeoutMs);
    return () => this.#pending.delete(key);
  }

  /** Calls in flight: for tests. */
  get size(): number {
    return this.#pending.size;
  }

  #arm(ms: number): void {
    this.#armed = true;
    // Timers take whole milliseconds; one that fires a little early arms again for the rest.
    this.#clock.setTimeout(
      () => {
        this.#expireDue();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  #expireDue(): void {
    this.#armed = false;
    const now = this.#clock.now();
    for (const [key, pending] of this.#pending) {
      if (pending.deadline > now) {
        this.#arm(pending.deadline - now);
        return;
      }
      this.#pending.delete(key);
      pending.expire();
    }
  }
}
