/**
 * TimeShare: at most `running` tasks at once, each charged the time it took, the budget
 * refilling at `share` of wall time up to `burstMs`; tasks that cannot start wait in order,
 * past `maxWaiting` waiting a new one is refused, and a spent budget wakes the queue by a
 * timer once it has refilled. The clock and its timers are the test's, so each assertion
 * names the moment it is about; the last test runs on real time.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TimeShare, type Clock, type TimeShareLimits } from '../../src/internal/time-share.js';
import { manualClock, settle } from './manual-clock.js';

/** Tasks the test settles one by one; each records when it started. */
function tasks(): {
  make: (name: string) => () => Promise<string>;
  started: string[];
  finish: (name: string, ok?: boolean) => Promise<void>;
} {
  const started: string[] = [];
  const settlers = new Map<string, (ok: boolean) => void>();
  return {
    started,
    make: (name) => () => {
      started.push(name);
      return new Promise<string>((resolve, reject) => {
        settlers.set(name, (ok) => {
          if (ok) resolve(name);
          else reject(new Error(`${name} failed`));
        });
      });
    },
    finish: async (name, ok = true) => {
      const settleTask = settlers.get(name);
      if (settleTask === undefined) throw new Error(`${name} has not started`);
      settleTask(ok);
      await settle();
    },
  };
}

const limits = { running: 2, share: 0.5, burstMs: 10, maxWaiting: 3 };

describe('TimeShare', () => {
  it('runs up to `running` tasks at once; the rest wait and start in order as places free', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, burstMs: 1000 }, clock);
    const t = tasks();
    const results = ['a', 'b', 'c', 'd'].map((name) => share.run(t.make(name)));
    expect(t.started).toEqual(['a', 'b']);
    expect([share.active, share.waiting]).toEqual([2, 2]);

    await t.finish('b');
    expect(t.started).toEqual(['a', 'b', 'c']);
    await t.finish('a', false);
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
    await t.finish('c');
    await t.finish('d');
    const outcomes = await Promise.allSettled(results as Promise<string>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect([share.active, share.waiting]).toEqual([0, 0]);
  });

  it('past `maxWaiting` waiting, a new task is refused without running', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 1 }, clock);
    const t = tasks();
    const accepted = ['a', 'b', 'c', 'd'].map((name) => share.run(t.make(name)));
    expect(accepted.every((result) => result instanceof Promise)).toBe(true);
    expect(share.waiting).toBe(3);
    expect(share.run(t.make('e'))).toBeUndefined();
    expect(t.started).toEqual(['a']);
    // Once one of them has started, there is room again.
    await t.finish('a');
    expect(share.run(t.make('e'))).toBeInstanceOf(Promise);
  });

  it('charges each task the time it took, and lets the next start once the share has refilled', async () => {
    const clock = manualClock();
    const share = new TimeShare(limits, clock);
    const t = tasks();
    void share.run(t.make('a'));
    // a takes 30 ms of the 10 the budget held: 20 overdrawn, less the 15 refilled meanwhile.
    await clock.advance(30);
    await t.finish('a');
    void share.run(t.make('b'));
    expect(t.started).toEqual(['a']);
    // 5 ms short at half of wall time: 10 ms more, then the timer (1 ms past) starts b.
    expect(clock.timers()).toEqual([11]);
    await clock.advance(10);
    expect(t.started).toEqual(['a']);
    await clock.advance(1);
    expect(t.started).toEqual(['a', 'b']);
  });

  it('a timer that fires before the budget has refilled (a task settled since, charged more) sets the next', async () => {
    const clock = manualClock();
    const share = new TimeShare(limits, clock);
    const t = tasks();
    void share.run(t.make('x'));
    void share.run(t.make('a'));
    await clock.advance(30);
    await t.finish('a');
    // 10 - 30 = -20, +15 refilled: 5 short, with a place free: a timer in 11 ms.
    void share.run(t.make('b'));
    expect(clock.timers()).toEqual([11]);
    // x settles after 35 ms: 35 more charged, 2.5 refilled.
    await clock.advance(5);
    await t.finish('x');
    expect(t.started).toEqual(['x', 'a']);
    // The timer fires 37.5 - 3 = 34.5 short: it sets the next, 70 ms on.
    await clock.advance(6);
    expect(t.started).toEqual(['x', 'a']);
    expect(clock.timers()).toEqual([70]);
    await clock.advance(70);
    expect(t.started).toEqual(['x', 'a', 'b']);
  });

  it('a clock that goes back (a process restored from a startup snapshot) refills nothing', () => {
    let now = 1_000_000;
    const clock: Clock = { now: () => now, after: () => undefined };
    const share = new TimeShare(limits, clock);
    const t = tasks();
    // Nothing ran; the clock starts again near zero: the budget stays whole.
    now = 5;
    void share.run(t.make('a'));
    expect(t.started).toEqual(['a']);
  });

  it('a task that straddles a clock going back is charged nothing for it, and gains nothing', async () => {
    let now = 1_000_000;
    const clock: Clock = { now: () => now, after: () => undefined };
    const share = new TimeShare({ ...limits, running: 4 }, clock);
    const t = tasks();
    void share.run(t.make('a'));
    now = 5;
    await t.finish('a');
    // a took nothing on this clock. b then takes 30 ms of the 10 held (15 refilled): c waits.
    void share.run(t.make('b'));
    now = 35;
    await t.finish('b');
    void share.run(t.make('c'));
    expect(t.started).toEqual(['a', 'b']);
  });

  it("charges a task up front what the last one took, so two do not start on one task's budget", async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 4, burstMs: 50 }, clock);
    const t = tasks();
    void share.run(t.make('a'));
    await clock.advance(40);
    await t.finish('a');
    // 50 - 40 + 20 refilled = 30 left: b is charged 40 at its start, so c waits.
    void share.run(t.make('b'));
    void share.run(t.make('c'));
    expect(t.started).toEqual(['a', 'b']);
    // b settles at once: 0 ms taken, the 40 charged given back; c starts.
    await t.finish('b');
    expect(t.started).toEqual(['a', 'b', 'c']);
  });

  it('a budget unused for a while holds at most `burstMs`', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 10, burstMs: 20 }, clock);
    const t = tasks();
    void share.run(t.make('a'));
    await clock.advance(8);
    await t.finish('a');
    // An hour later the budget is 20 ms, not an hour's share. Each start is charged the 8 ms
    // a took: b and c leave 4, which still lets d start; then it is spent, and e waits.
    await clock.advance(3_600_000);
    for (const name of ['b', 'c', 'd', 'e']) void share.run(t.make(name));
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('setRunning raises or lowers the limit; waiting tasks start when it rises', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 1, burstMs: 1000 }, clock);
    const t = tasks();
    for (const name of ['a', 'b', 'c']) void share.run(t.make(name));
    expect(t.started).toEqual(['a']);
    share.setRunning(3);
    expect(t.started).toEqual(['a', 'b', 'c']);
    share.setRunning(1);
    void share.run(t.make('d'));
    await t.finish('a');
    await t.finish('b');
    expect(t.started).toEqual(['a', 'b', 'c']);
    await t.finish('c');
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a long queue keeps its order while the slots it has let go are dropped', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 1, burstMs: 1e9, maxWaiting: 5000 }, clock);
    const order: number[] = [];
    const runs = Array.from(
      { length: 3000 },
      (_, n) =>
        share.run(() => {
          order.push(n);
          return Promise.resolve(n);
        }) ?? Promise.reject(new Error('refused')),
    );
    expect(share.waiting).toBe(2999);
    expect(await Promise.all(runs)).toEqual(order);
    expect(order).toEqual(Array.from({ length: 3000 }, (_, n) => n));
    expect(share.waiting).toBe(0);
  });

  it('a task that throws is a rejection, and frees its place', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 1, burstMs: 1000 }, clock);
    const thrown = share.run(() => {
      throw new Error('at once');
    });
    await expect(thrown).rejects.toThrow('at once');
    expect(share.active).toBe(0);
    await expect(share.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('a waiting task that throws when its turn comes is a rejection, and the queue goes on', async () => {
    const clock = manualClock();
    const share = new TimeShare({ ...limits, running: 1, burstMs: 1000 }, clock);
    const t = tasks();
    void share.run(t.make('a'));
    const thrown = share.run(() => {
      throw new Error('when started');
    });
    const after = share.run(t.make('c'));
    await t.finish('a');
    await expect(thrown).rejects.toThrow('when started');
    expect(t.started).toEqual(['a', 'c']);
    await t.finish('c');
    await expect(after).resolves.toBe('c');
  });

  it.each<[Partial<TimeShareLimits>, RegExp]>([
    [{ running: 0 }, /running must be a positive integer/],
    [{ maxWaiting: 1.5 }, /maxWaiting must be a positive integer/],
    [{ share: 0 }, /share must be above 0 and at most 1/],
    [{ share: 1.5 }, /share must be above 0 and at most 1/],
    [{ share: Number.NaN }, /share must be above 0 and at most 1/],
    [{ burstMs: 0 }, /burstMs must be a positive number/],
    [{ burstMs: Number.POSITIVE_INFINITY }, /burstMs must be a positive number/],
  ])('refuses the limits %o, naming the rule', (bad, message) => {
    expect(() => new TimeShare({ ...limits, ...bad }, manualClock())).toThrow(message);
  });

  it.each([0, -1, 2.5, Number.NaN])('setRunning refuses %s, naming the rule', (running) => {
    const share = new TimeShare(limits, manualClock());
    expect(() => {
      share.setRunning(running);
    }).toThrow(/running must be a positive integer/);
  });

  it('on real time, tasks of 10 ms at half a share take about twice their length', async () => {
    const clock: Clock = {
      now: () => performance.now(),
      after: (ms, callback) => {
        setTimeout(callback, ms);
      },
    };
    const share = new TimeShare({ running: 4, share: 0.5, burstMs: 1, maxWaiting: 100 }, clock);
    const start = performance.now();
    const runs = Array.from(
      { length: 10 },
      () => share.run(() => delay(10)) ?? Promise.reject(new Error('refused')),
    );
    await Promise.all(runs);
    const elapsed = performance.now() - start;
    // 100 ms of tasks at half of wall time: about 200 ms. (Four start at first, before any
    // task's length is known; the share then holds them back until the budget is repaid.)
    expect(elapsed).toBeGreaterThanOrEqual(170);
  });
});
