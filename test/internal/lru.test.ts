/**
 * The bounded cache behind every cache of the engine: it never holds more than its
 * capacity, keeps what is used, and forgets what is not.
 */
import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/internal/lru.js';

describe('LruCache', () => {
  it('never holds more than its capacity, whatever is inserted', () => {
    const cache = new LruCache<number, number>(10);
    for (let i = 0; i < 10_000; i++) {
      cache.set(i, i);
      expect(cache.size).toBeLessThanOrEqual(10);
    }
  });

  it('keeps an entry that keeps being used, and forgets one that is not', () => {
    const cache = new LruCache<string, number>(8);
    cache.set('hot', 1);
    cache.set('cold', 2);
    for (let i = 0; i < 100; i++) {
      cache.set(`k${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
    expect(cache.get('cold')).toBeUndefined();
  });

  it('updates a value in place, and deletes', () => {
    const cache = new LruCache<string, number>(4);
    cache.set('a', 1);
    cache.set('a', 2);
    expect(cache.get('a')).toBe(2);
    expect(cache.size).toBe(1);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('refuses a capacity that cannot hold two generations', () => {
    expect(() => new LruCache(1)).toThrow(RangeError);
    expect(() => new LruCache(2.5)).toThrow(RangeError);
  });
});
