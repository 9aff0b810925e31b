/**
 * A budget of work per turn of the event loop, for work that anyone can cause at will.
 *
 * A server handles, in one turn, every request whose bytes have arrived. When some of them
 * carry tokens that cost a key derivation to refuse (well-formed forgeries with fresh salts),
 * a flood of such tokens gets as many turns' worth of work as the valid traffic beside it,
 * and each costs several valid requests. With a budget, at most `perTurn` units start in one
 * turn; the rest wait, first come first served, for the next turns, while requests that need
 * no such work go on at once. The budget only changes the order: a unit still runs in full
 * when its turn comes, none is refused, and a turn with little such work loses nothing.
 * Past `maxWaiting` units waiting, a new one runs at once, as it would without a budget, so
 * the queue (each unit in it holds a request) stays bounded whatever arrives.
 *
 * It needs turns that end by themselves: `setImmediate` on Node, Bun and Deno. Where a
 * timer belongs to the request that set it (workerd cancels them when that request ends),
 * a turn's end could be lost and the units behind it would wait forever, so callers there
 * have no budget (see the node backend's `scheduleTurn`).
 */

import { WaitQueue } from './wait-queue.js';

/** Runs `callback` on a later turn of the event loop, after the pending I/O has been handled. */
export type ScheduleTurn = (callback: () => void) => void;

export class TurnBudget {
  readonly #perTurn: number;
  readonly #maxWaiting: number;
  readonly #schedule: ScheduleTurn;
  /** Units started in this turn. */
  #used = 0;
  /** Whether the end of this turn is scheduled (it resets `#used` and lets waiters go). */
  #endScheduled = false;
  /** Waiting units, oldest first. */
  readonly #waiting = new WaitQueue();

  /**
   * @throws RangeError unless `perTurn` and `maxWaiting` are positive integers
   */
  constructor(perTurn: number, maxWaiting: number, schedule: ScheduleTurn) {
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
    return this.#waiting.size;
  }

  /**
   * Asks to start one unit: `true` to start it now, or a promise that resolves when it may
   * start (never rejects).
   */
  admit(): true | Promise<void> {
    if (this.#used < this.#perTurn && this.waiting === 0) {
      this.#used++;
      this.#scheduleEnd();
      return true;
    }
    // A full queue no longer orders anything: the unit runs now, as without a budget.
    if (this.waiting >= this.#maxWaiting) return true;
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
      this.#used++;
      (this.#waiting.shift() as () => void)();
    }
    // What was let go counts against this turn, which must end too.
    if (this.#used > 0) this.#scheduleEnd();
  }
}
