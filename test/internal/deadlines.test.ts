/**
 * DeadlineList: many deadlines under one timer, on a fake clock whose timers fire only when
 * the test advances it. The store's own deadline tests (test/store/faults.test.ts,
 * test/session/store-engine.test.ts) show it on real timers through the public API.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineList, type DeadlineClock } from '../../src/internal/deadlines.js';

class FakeClock implements DeadlineClock {
  time = 0;
  timers: { at: number; run: () => void }[] = [];
  /** How far early each timer fires, as Node's loop time may make one. */
  early = 0;

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, ms: number): unknown {
    expect(Number.isInteger(ms) && ms >= 1).toBe(true);
    this.timers.push({ at: this.time + ms - this.early, run });
    return undefined;
  }

  /** Moves time forward, firing each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.run();
    }
    this.time = end;
  }
}

describe('DeadlineList', () => {
  it('expires each call at its own deadline, in order, under one timer at a time', () => {
    const clock = new FakeClock();
    const list = new DeadlineList(100, clock);
    const expired: string[] = [];
    list.start(() => expired.push(`a@${clock.time}`));
    clock.advance(30);
    list.start(() => expired.push(`b@${clock.time}`));
    clock.advance(10);
    list.start(() => expired.push(`c@${clock.time}`));
    expect(clock.timers).toHaveLength(1);
    clock.advance(59);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['a@100']);
    clock.advance(30);
    expect(expired).toEqual(['a@100', 'b@130']);
    clock.advance(10);
    expect(expired).toEqual(['a@100', 'b@130', 'c@140']);
    expect(list.size).toBe(0);
    // Nothing pending: no timer left armed.
    expect(clock.timers).toHaveLength(0);
  });

  it('never expires a call that finished in time, and says whether it was in time', () => {
    const clock = new FakeClock();
    const list = new DeadlineList(50, clock);
    const expired: string[] = [];
    const finishA = list.start(() => expired.push('a'));
    clock.advance(10);
    const finishB = list.start(() => expired.push('b'));
    expect(finishA()).toBe(true);
    expect(finishA()).toBe(false);
    clock.advance(45);
    // The timer armed for a fired, found b not due, and armed again for b's deadline.
    expect(expired).toEqual([]);
    clock.advance(5);
    expect(expired).toEqual(['b']);
    expect(finishB()).toBe(false);
  });

  it('arms again when its timer fires early, and expires nothing before its deadline', () => {
    const clock = new FakeClock();
    clock.early = 0.6;
    const list = new DeadlineList(20.3, clock);
    const expired: number[] = [];
    list.start(() => expired.push(clock.time));
    clock.advance(40);
    expect(expired).toHaveLength(1);
    expect(expired[0]).toBeGreaterThanOrEqual(20.3);
  });

  it('starts a new timer for calls that come after the list was empty', () => {
    const clock = new FakeClock();
    const list = new DeadlineList(10, clock);
    const expired: number[] = [];
    list.start(() => expired.push(clock.time));
    clock.advance(10);
    clock.advance(5);
    list.start(() => expired.push(clock.time));
    clock.advance(10);
    expect(expired).toEqual([10, 25]);
  });
});
