/**
 * A budget of work per turn of the event loop, for work that anyone can cause at will.
 *
 * A server handles, in one turn, every request whose bytes have arrived. When some of them
 * carry tokens that cost a key derivation to refuse (well-formed forgeries with fresh salts),
 * a flood of such tokens gets as many turns' worth of work as the valid traffic beside it,
 * and each costs several valid requests. With a budget, at most `perTurn` units run in one
 * turn; the rest wait, first come first served, for the next turns, while requests that need
 * no such work go on at once. A unit still runs in full when its turn comes: no token is
 * refused or checked less because it waited, and a turn with little such work loses nothing.
 * Past `maxWaiting` units waiting, a new one is refused (the caller decides how), so a flood
 * cannot grow the queue without bound.
 */

/** Runs `callback` on a later turn of the event loop, after pending I/O has been handled. */
export type ScheduleTurn = (callback: () => void) => void;

/**
 * `setImmediate` where there is one (Node, Bun, Deno): it runs after the turn's I/O
 * callbacks, so waiting work goes after the requests already read. Elsewhere a zero timer.
 */
export const nextTurn: ScheduleTurn =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => {
        globalThis.setImmediate(callback);
      }
    : (callback) => {
        setTimeout(callback, 0);
      };

export class TurnBudget {
  readonly #perTurn: number;
  readonly #maxWaiting: number;
  readonly #schedule: ScheduleTurn;
  /** Units started in this turn. */
  #used = 0;
  /** Whether the end of this turn is scheduled (it resets `#used` and lets waiters go). */
  #endScheduled = false;
  /** Waiting units, oldest first from `#head`; the array is reset when it empties. */
  #waiting: (() => void)[] = [];
  #head = 0;

  /**
   * @throws RangeError unless `perTurn` and `maxWaiting` are positive integers
   */
  constructor(perTurn: number, maxWaiting: number, schedule: ScheduleTurn = nextTurn) {
    for (const [name, value] of [
      ['perTurn', perTurn],
      ['maxWaiting', maxWaiting],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`TurnBudget: ${name} must be a positive integer, not ${value}`);
      }
    }
    this.#perTurn = perTurn;
    this.#maxWaiting = maxWaiting;
    this.#schedule = schedule;
  }

  /** Units waiting for a later turn. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /**
   * Asks to start one unit: `true` to start it now, a promise that resolves when it may
   * start, or `undefined` when too many are waiting already (the unit must not run).
   */
  admit(): true | Promise<void> | undefined {
    if (this.#used < this.#perTurn && this.waiting === 0) {
      this.#used++;
      this.#scheduleEnd();
      return true;
    }
    if (this.waiting >= this.#maxWaiting) return undefined;
    const admitted = new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
    });
    this.#scheduleEnd();
    return admitted;
  }

  #scheduleEnd(): void {
    if (this.#endScheduled) return;
    this.#endScheduled = true;
    this.#schedule(() => {
      this.#endTurn();
    });
  }

  /** A new turn: the budget is whole again, and the oldest waiters take it first. */
  #endTurn(): void {
    this.#endScheduled = false;
    this.#used = 0;
    while (this.#used < this.#perTurn && this.waiting > 0) {
      const resolve = this.#waiting[this.#head] as () => void;
      this.#head++;
      this.#used++;
      resolve();
    }
    if (this.waiting === 0) {
      this.#waiting = [];
      this.#head = 0;
    }
    // What was let go counts against this turn, which must end too.
    if (this.#used > 0) this.#scheduleEnd();
  }
}
