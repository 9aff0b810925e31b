/**
 * The random pool: one fill serves many small requests, handed-out bytes are wiped and never
 * handed out twice, large requests bypass it, and `discard` drops what is left.
 */
import { describe, expect, it } from 'vitest';
import { createRandomPool } from '../../src/internal/random-pool.js';

/** A deterministic source that counts how often, and how much, it was asked to fill. */
function countingSource() {
  const calls: number[] = [];
  let next = 1;
  const fill = (target: Uint8Array): void => {
    calls.push(target.length);
    // A multiplicative hash of a counter: distinct 16-byte windows, and never all zero.
    for (let i = 0; i < target.length; i++) target[i] = (Math.imul(next++, 2654435761) >>> 24) | 1;
  };
  return { calls, fill };
}

describe('createRandomPool', () => {
  it('serves many small requests from one fill, never the same bytes twice', () => {
    const { calls, fill } = countingSource();
    const random = createRandomPool(fill);
    const seen = new Set<string>();
    for (let i = 0; i < 256; i++) {
      const bytes = random(16);
      expect(bytes).toHaveLength(16);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(calls).toEqual([4096]);
    expect(seen.size).toBe(256);
    random(16); // the pool is spent: one more fill
    expect(calls).toEqual([4096, 4096]);
  });

  it('hands out copies and wipes what it handed out', () => {
    const { fill } = countingSource();
    let pool: Uint8Array | undefined;
    const random = createRandomPool((target) => {
      pool = target;
      fill(target);
    });
    const first = random(32);
    expect(pool?.subarray(0, 32).every((byte) => byte === 0)).toBe(true);
    expect(first.some((byte) => byte !== 0)).toBe(true);
    first.fill(0xaa); // a caller scribbling on its bytes cannot touch the pool
    expect(pool?.subarray(32, 64).includes(0xaa)).toBe(false);
  });

  it('fills requests larger than the pool directly, in chunks WebCrypto accepts', () => {
    const { calls, fill } = countingSource();
    const random = createRandomPool(fill);
    expect(random(5000)).toHaveLength(5000);
    expect(random(70_000)).toHaveLength(70_000);
    expect(calls).toEqual([5000, 65_536, 70_000 - 65_536]);
  });

  it('discard wipes the unused bytes and makes the next request refill', () => {
    const { calls, fill } = countingSource();
    let pool: Uint8Array | undefined;
    const random = createRandomPool((target) => {
      pool = target;
      fill(target);
    });
    const before = random(16);
    const dropped = pool;
    random.discard();
    expect(dropped?.every((byte) => byte === 0)).toBe(true);
    const after = random(16);
    expect(calls).toEqual([4096, 4096]);
    expect(pool).not.toBe(dropped);
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(false);
    // Discarding an empty or spent pool is harmless.
    createRandomPool(fill).discard();
    random.discard();
    random.discard();
    expect(random(16)).toHaveLength(16);
  });

  it('works with the real sources (node:crypto and WebCrypto)', async () => {
    const { randomFillSync } = await import('node:crypto');
    for (const random of [
      createRandomPool((t) => randomFillSync(t)),
      createRandomPool((t) => globalThis.crypto.getRandomValues(t)),
    ]) {
      const a = random(16);
      const b = random(16);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    }
  });
});
