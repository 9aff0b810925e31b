/**
 * The waiting line of the budgets (turn-budget.ts, time-share.ts): callbacks first in, first
 * out. Taking from the front only moves an index, and the slots already taken are dropped
 * once the line is empty or past a thousand of them, so a line that never empties (a flood
 * that lasts) does not keep them all.
 */

/** Past this many callbacks taken from the front, the taken slots are dropped. */
const COMPACT_AFTER = 1024;

export class WaitQueue {
  #items: ((() => void) | undefined)[] = [];
  #head = 0;

  /** Callbacks waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(callback: () => void): void {
    this.#items.push(callback);
  }

  /** Removes and returns the oldest callback, or undefined when none waits. */
  shift(): (() => void) | undefined {
    if (this.size === 0) return undefined;
    const callback = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.size === 0) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return callback;
  }
}
