/**
 * A share of time for work that anyone can cause at will and that runs off the event loop
 * (key derivations of many iterations on libuv's thread pool).
 *
 * A limit on how many such tasks run at once bounds how many threads they hold, not how much
 * of the machine they take: a flood that always has one waiting keeps the threads busy all
 * the time, and on a small machine those threads take the cores the event loop needs. So
 * the tasks here also draw on a budget of time: each task is charged the time it took
 * (start to settle, so time spent queued on a busy pool counts too), the budget refills at
 * `share` of wall time (0.5: half of one thread, on average), and holds at most `burstMs`,
 * so a burst after a quiet spell (a restart, whose every cookie is new to the process) goes
 * through at once. A task starts when fewer than `running` run and the budget is not
 * spent; the next task is charged up front what the last one took, so tasks do not start
 * together on a budget only one of them fits in.
 *
 * A task that cannot start waits, first come first served; its caller (a request) waits
 * with it, which is what keeps a flood's request rate down to what the share lets through.
 * Past `maxWaiting` waiting, a new task is refused: the caller answers at once without it,
 * and the queue stays bounded whatever arrives.
 *
 * It needs timers that fire whoever set them (Node, Bun, Deno): a spent budget waits for
 * one to refill. Where a timer belongs to the request that set it (workerd cancels them when
 * that request ends), a refill could be lost and the tasks behind it would wait forever, so
 * callers there use a plain limit (see the node backend's `clock`).
 */

import { WaitQueue } from './wait-queue.js';

/** The time source and timer a share runs on. */
export interface Clock {
  /**
   * Milliseconds from a fixed origin. One that goes back (a process restored from a startup
   * snapshot has a clock of its own) refills and charges nothing for the jump.
   */
  now(): number;
  /** Runs `callback` after `ms` milliseconds (a timer that keeps the process alive). */
  after(ms: number, callback: () => void): void;
}

export interface TimeShareLimits {
  /** Tasks running at once, at most. */
  readonly running: number;
  /** The share of wall time the tasks may take on average, above 0 and at most 1. */
  readonly share: number;
  /** Milliseconds of task time the budget holds when full. */
  readonly burstMs: number;
  /** Tasks waiting, at most; past it a new task is refused. */
  readonly maxWaiting: number;
}

/** The longest delay a timer takes (2^31 - 1 ms); a longer wait re-arms it. */
const MAX_TIMER_MS = 2_147_483_647;

export class TimeShare {
  #running: number;
  readonly #share: number;
  readonly #burstMs: number;
  readonly #maxWaiting: number;
  readonly #clock: Clock;
  /** Milliseconds of task time left; below zero, what the tasks overdrew. */
  #budget: number;
  /** When the budget was last refilled. */
  #refilled: number;
  /** What the last task took, charged to the next one when it starts. */
  #lastCost = 0;
  #active = 0;
  /** Whether a timer will pump the queue once the budget has refilled. */
  #timerSet = false;
  /** Waiting tasks' starters, oldest first. */
  readonly #waiting = new WaitQueue();

  /**
   * @throws RangeError unless `running` and `maxWaiting` are positive integers, `share` is
   *   in (0, 1] and `burstMs` is positive
   */
  constructor(limits: TimeShareLimits, clock: Clock) {
    const { running, share, burstMs, maxWaiting } = limits;
    checkCount('running', running);
    checkCount('maxWaiting', maxWaiting);
    if (!(share > 0 && share <= 1)) {
      throw new RangeError(`TimeShare: share must be above 0 and at most 1, not ${share}`);
    }
    if (!(burstMs > 0 && Number.isFinite(burstMs))) {
      throw new RangeError(`TimeShare: burstMs must be a positive number, not ${burstMs}`);
    }
    this.#running = running;
    this.#share = share;
    this.#burstMs = burstMs;
    this.#maxWaiting = maxWaiting;
    this.#clock = clock;
    this.#budget = burstMs;
    this.#refilled = clock.now();
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting to start. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Sets how many tasks may run at once; running ones go on, waiting ones may start. */
  setRunning(running: number): void {
    checkCount('running', running);
    this.#running = running;
    this.#pump();
  }

  /**
   * Runs `task` now or once the limits let it: its result, or `undefined` when it is refused
   * (`maxWaiting` tasks are already waiting). A task that throws is a rejection.
   */
  run<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.waiting === 0 && this.#canStart()) return this.#start(task);
    if (this.waiting >= this.#maxWaiting) return undefined;
    const result = new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        this.#start(task).then(resolve, reject);
      });
    });
    this.#wakeLater();
    return result;
  }

  #canStart(): boolean {
    if (this.#active >= this.#running) return false;
    const now = this.#clock.now();
    // A clock that went back (a process restored from a startup snapshot starts its own
    // from zero) refills nothing, rather than charging the builder's whole run.
    const elapsed = Math.max(0, now - this.#refilled);
    this.#budget = Math.min(this.#burstMs, this.#budget + elapsed * this.#share);
    this.#refilled = now;
    return this.#budget > 0;
  }

  #start<T>(task: () => Promise<T>): Promise<T> {
    const charged = this.#lastCost;
    this.#budget -= charged;
    this.#active++;
    const started = this.#clock.now();
    const settled = (): void => {
      const took = Math.max(0, this.#clock.now() - started);
      this.#lastCost = took;
      this.#budget -= took - charged;
      this.#active--;
      this.#pump();
    };
    let result: Promise<T>;
    try {
      result = task();
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the task's own error, passed on as thrown
      result = Promise.reject(error);
    }
    result.then(settled, settled);
    return result;
  }

  /** Starts the waiting tasks the limits allow, oldest first. */
  #pump(): void {
    while (this.waiting > 0 && this.#canStart()) (this.#waiting.shift() as () => void)();
    this.#wakeLater();
  }

  /**
   * With tasks waiting on a spent budget and a place free (a full set of running tasks
   * pumps the queue as each settles), a timer pumps it once the budget is back above zero.
   */
  #wakeLater(): void {
    if (this.#timerSet || this.waiting === 0 || this.#active >= this.#running) return;
    this.#timerSet = true;
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(-this.#budget / this.#share) + 1));
    this.#clock.after(ms, () => {
      this.#timerSet = false;
      this.#pump();
    });
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`TimeShare: ${name} must be a positive integer, not ${value}`);
  }
}
