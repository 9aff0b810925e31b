/**
 * A clock for tests of the share of time (src/internal/time-share.ts): it moves only when
 * the test says, and fires the timers that came due.
 */
import type { Clock } from '../../src/internal/time-share.js';

export interface ManualClock extends Clock {
  /** Moves the clock, fires the timers due, then lets the reactions they caused run. */
  advance(ms: number): Promise<void>;
  /** Milliseconds until each pending timer. */
  timers(): number[];
}

/** Lets a few rounds of promise reactions run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export function manualClock(): ManualClock {
  let now = 0;
  let timers: { at: number; callback: () => void }[] = [];
  return {
    now: () => now,
    after: (ms, callback) => {
      timers.push({ at: now + ms, callback });
    },
    timers: () => timers.map((timer) => timer.at - now),
    advance: async (ms) => {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.callback();
      await settle();
    },
  };
}
