/**
 * Random bytes handed out from a pool refilled in one call. On Node (and so for the
 * WebCrypto backend there too), one `randomFillSync` / `getRandomValues` call was measured
 * to cost about as much as a whole seal (bench/results/NOTES.md), while a 16-byte IV per
 * seal needs almost nothing: 4 KB at a time makes the cost per IV negligible.
 *
 * Bytes are copied out and wiped from the pool as they are handed out, so no caller ever
 * sees bytes another caller received. Requests larger than the pool are filled directly.
 *
 * A pool lives in the JavaScript heap, so a copy of the heap (a startup snapshot) copies the
 * bytes not yet handed out: `discard` drops them, for whoever knows such a copy was made.
 */
export type RandomSource = (size: number) => Uint8Array;

/** A {@link RandomSource} whose unused bytes can be dropped. */
export interface RandomPool extends RandomSource {
  /** Wipes and drops the bytes not yet handed out; the next request refills the pool. */
  discard(): void;
}

const POOL_BYTES = 4096;

export function createRandomPool(fill: (target: Uint8Array) => void): RandomPool {
  let pool = new Uint8Array(0);
  let offset = 0;
  const take = (size: number): Uint8Array => {
    if (size > POOL_BYTES) {
      const out = new Uint8Array(size);
      // getRandomValues takes at most 65,536 bytes a call.
      for (let at = 0; at < size; at += 65_536) fill(out.subarray(at, at + 65_536));
      return out;
    }
    if (offset + size > pool.length) {
      pool = new Uint8Array(POOL_BYTES);
      fill(pool);
      offset = 0;
    }
    const out = pool.slice(offset, offset + size);
    pool.fill(0, offset, offset + size);
    offset += size;
    return out;
  };
  const discard = (): void => {
    pool.fill(0);
    pool = new Uint8Array(0);
    offset = 0;
  };
  return Object.assign(take, { discard });
}
