/**
 * TurnBudget: at most `perTurn` units start in one turn, the rest wait in order for later
 * turns, past `maxWaiting` waiting a unit is refused, and a turn with budget left delays
 * nothing. The turns here are driven by the test (a scheduler that queues its callbacks),
 * so each assertion names the turn it is about; the last test runs on the real event loop.
 */
import { describe, expect, it, vi } from 'vitest';
import { TurnBudget, nextTurn } from '../../src/internal/turn-budget.js';

/** A scheduler whose turns end when the test says so. */
function manualTurns(): { schedule: (callback: () => void) => void; end: () => Promise<void> } {
  let pending: (() => void)[] = [];
  return {
    schedule: (callback) => {
      pending.push(callback);
    },
    // Ends the turn, then lets the promise reactions of what it released run.
    end: async () => {
      const run = pending;
      pending = [];
      for (const callback of run) callback();
      await Promise.resolve();
      await Promise.resolve();
    },
  };
}

describe('TurnBudget', () => {
  it('starts perTurn units at once, then makes the rest wait for later turns in order', async () => {
    const turns = manualTurns();
    const budget = new TurnBudget(2, 10, turns.schedule);
    const started: number[] = [];
    const admissions = [0, 1, 2, 3, 4].map((unit) => {
      const admitted = budget.admit();
      if (admitted === true) started.push(unit);
      else void admitted?.then(() => started.push(unit));
      return admitted;
    });
    expect(admissions.slice(0, 2)).toEqual([true, true]);
    expect(admissions.slice(2).every((a) => a instanceof Promise)).toBe(true);
    expect(started).toEqual([0, 1]);
    expect(budget.waiting).toBe(3);

    await turns.end();
    expect(started).toEqual([0, 1, 2, 3]);
    expect(budget.waiting).toBe(1);
    // The two let go used up this turn's budget: a newcomer waits behind the last one.
    const late = budget.admit();
    expect(late).toBeInstanceOf(Promise);
    void (late as Promise<void>).then(() => started.push(5));

    await turns.end();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(budget.waiting).toBe(0);

    // A turn with nobody waiting: the budget is whole again.
    await turns.end();
    expect(budget.admit()).toBe(true);
    expect(budget.admit()).toBe(true);
  });

  it('refuses a unit when maxWaiting are waiting, and takes one again once the queue moves', async () => {
    const turns = manualTurns();
    const budget = new TurnBudget(1, 2, turns.schedule);
    expect(budget.admit()).toBe(true);
    expect(budget.admit()).toBeInstanceOf(Promise);
    expect(budget.admit()).toBeInstanceOf(Promise);
    expect(budget.admit()).toBeUndefined();
    expect(budget.waiting).toBe(2);
    await turns.end();
    expect(budget.waiting).toBe(1);
    expect(budget.admit()).toBeInstanceOf(Promise);
    expect(budget.admit()).toBeUndefined();
  });

  it('schedules one end per turn, and none when nothing was started', async () => {
    let scheduled = 0;
    const turns = manualTurns();
    const budget = new TurnBudget(3, 10, (callback) => {
      scheduled++;
      turns.schedule(callback);
    });
    expect(scheduled).toBe(0);
    const admissions = [budget.admit(), budget.admit(), budget.admit(), budget.admit()];
    expect(admissions.slice(0, 3)).toEqual([true, true, true]);
    expect(scheduled).toBe(1);
    await turns.end();
    await admissions[3];
    // The waiting one started in the new turn, which must end as well.
    expect(scheduled).toBe(2);
    await turns.end();
    expect(scheduled).toBe(2);
  });

  it('refuses limits that are not positive integers, naming the limit', () => {
    expect(() => new TurnBudget(0, 1)).toThrow(/perTurn must be a positive integer/);
    expect(() => new TurnBudget(1.5, 1)).toThrow(/perTurn/);
    expect(() => new TurnBudget(1, 0)).toThrow(/maxWaiting must be a positive integer/);
    expect(() => new TurnBudget(1, Number.NaN)).toThrow(/maxWaiting/);
  });

  it('on the real event loop, waiting units start a few per turn, after the turn that queued them', async () => {
    const budget = new TurnBudget(2, 100);
    const ran: number[] = [];
    const units = Array.from({ length: 6 }, (_, unit) => {
      const admitted = budget.admit();
      if (admitted === true) {
        ran.push(unit);
        return Promise.resolve();
      }
      return (admitted as Promise<void>).then(() => {
        ran.push(unit);
      });
    });
    const turn = (): Promise<void> =>
      new Promise((resolve) => {
        setImmediate(resolve);
      });
    await Promise.resolve();
    expect(ran).toEqual([0, 1]);
    await turn();
    expect(ran).toEqual([0, 1, 2, 3]);
    await turn();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    await Promise.all(units);
  });

  it('without setImmediate (workerd, browsers), a turn is a zero timer', async () => {
    const setImmediateBefore = globalThis.setImmediate;
    vi.resetModules();
    // @ts-expect-error -- removed for the import below, as on a runtime without it
    delete globalThis.setImmediate;
    let turnOf: typeof nextTurn;
    try {
      ({ nextTurn: turnOf } = await import('../../src/internal/turn-budget.js'));
    } finally {
      globalThis.setImmediate = setImmediateBefore;
    }
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      turnOf(() => {
        order.push('turn');
        resolve();
      });
    });
    await Promise.resolve();
    order.push('microtask');
    await done;
    expect(order).toEqual(['microtask', 'turn']);
    expect(timers).toHaveBeenCalledWith(expect.any(Function), 0);
    timers.mockRestore();
  });
});
