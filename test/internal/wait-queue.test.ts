/**
 * WaitQueue: first in, first out, whatever the length, while the slots it has handed out are
 * dropped along the way.
 */
import { describe, expect, it } from 'vitest';
import { WaitQueue } from '../../src/internal/wait-queue.js';

describe('WaitQueue', () => {
  it('hands out callbacks oldest first, across thousands taken while more arrive', () => {
    const queue = new WaitQueue();
    const order: number[] = [];
    let next = 0;
    const push = (): void => {
      const n = next++;
      queue.push(() => order.push(n));
    };
    // A line that never empties: two in for each one out, then drained.
    for (let i = 0; i < 3000; i++) {
      push();
      push();
      queue.shift()?.();
    }
    expect(queue.size).toBe(3000);
    for (let callback = queue.shift(); callback !== undefined; callback = queue.shift()) {
      callback();
    }
    expect(order).toEqual(Array.from({ length: 6000 }, (_, n) => n));
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
