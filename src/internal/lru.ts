/**
 * A bounded map that keeps recently used entries. Every cache in this library is one of
 * these, so nothing an attacker sends (random salts, random tokens) can grow memory past
 * `capacity` entries.
 *
 * Two generations instead of a strict LRU list: a hit in the young generation costs one
 * Map lookup and no reordering (a strict LRU deletes and re-inserts on every hit, which
 * made most of the garbage of a cached unseal when it was profiled). When the young
 * generation fills, it becomes the old one and the previous old one is dropped; a hit in
 * the old generation moves the entry back to the young one. Each generation holds half
 * the capacity.
 */
export class LruCache<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #generationSize: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError('capacity must be an integer of at least 2');
    }
    this.#generationSize = Math.floor(capacity / 2);
  }

  /** Entries held, at most `capacity`. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#promote(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.has(key)) {
      this.#young.set(key, value);
      return;
    }
    this.#old.delete(key);
    this.#promote(key, value);
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  /** Drops every entry. */
  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }

  #promote(key: K, value: V): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
