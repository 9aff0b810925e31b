/**
 * TurnBudget: at most `perTurn` units start in one turn, the rest wait in order for later
 * turns, past `maxWaiting` waiting a unit starts at once (nothing is refused), and a turn
 * with budget left delays nothing. The turns here are driven by the test (a scheduler that
 * queues its callbacks), so each assertion names the turn it is about; the last test runs on
 * the real event loop.
 */
import { setImmediate } from 'node:timers';
import { describe, expect, it } from 'vitest';
import { TurnBudget } from '../../src/internal/turn-budget.js';

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
      else void admitted.then(() => started.push(unit));
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

  it('starts a unit at once when maxWaiting are waiting, and queues again once the queue moves', async () => {
    const turns = manualTurns();
    const budget = new TurnBudget(1, 2, turns.schedule);
    expect(budget.admit()).toBe(true);
    expect(budget.admit()).toBeInstanceOf(Promise);
    expect(budget.admit()).toBeInstanceOf(Promise);
    // The queue is full: ordering stops, nothing is refused.
    expect(budget.admit()).toBe(true);
    expect(budget.waiting).toBe(2);
    await turns.end();
    expect(budget.waiting).toBe(1);
    expect(budget.admit()).toBeInstanceOf(Promise);
    expect(budget.admit()).toBe(true);
  });

  it('keeps the order over a queue that never empties for thousands of turns', async () => {
    const turns = manualTurns();
    const budget = new TurnBudget(1, 100_000, turns.schedule);
    const started: number[] = [];
    let next = 0;
    const enqueue = (): void => {
      const unit = next++;
      const admitted = budget.admit();
      if (admitted === true) started.push(unit);
      else void admitted.then(() => started.push(unit));
    };
    for (let i = 0; i < 3000; i++) enqueue();
    // Each turn one starts and two more arrive: the queue grows, never empties.
    for (let turn = 0; turn < 2500; turn++) {
      await turns.end();
      enqueue();
      enqueue();
    }
    expect(started).toEqual(Array.from({ length: started.length }, (_, i) => i));
    expect(started.length).toBe(2501);
    expect(budget.waiting).toBe(next - started.length);
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
    const schedule = (callback: () => void): void => {
      setImmediate(callback);
    };
    expect(() => new TurnBudget(0, 1, schedule)).toThrow(/perTurn must be a positive integer/);
    expect(() => new TurnBudget(1.5, 1, schedule)).toThrow(/perTurn/);
    expect(() => new TurnBudget(1, 0, schedule)).toThrow(/maxWaiting must be a positive integer/);
    expect(() => new TurnBudget(1, Number.NaN, schedule)).toThrow(/maxWaiting/);
  });

  it('on the real event loop, waiting units start a few per turn, after the turn that queued them', async () => {
    const budget = new TurnBudget(2, 100, (callback) => {
      setImmediate(callback);
    });
    const ran: number[] = [];
    const units = Array.from({ length: 6 }, (_, unit) => {
      const admitted = budget.admit();
      if (admitted === true) {
        ran.push(unit);
        return Promise.resolve();
      }
      return admitted.then(() => {
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
});
