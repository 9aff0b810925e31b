/**
 * The in-process session store: records in a Map of this process, for development, tests,
 * and single-process servers that want revocable sessions without running a database.
 * Sessions do not survive a restart and are not shared between processes.
 *
 * Memory is bounded twice over: at most `max` records (the least recently used one goes
 * first, and leaves its user's index), and ended records are swept lazily, when they are
 * read and a few at a time on every write, so a server that stops seeing a session does
 * not keep it until `max` pushes it out.
 *
 * A record is a small object of fixed shape whose data and flash are flat arrays of
 * alternating keys and JSON texts (`null` when empty): a session holds a handful of keys,
 * and a flat array is a fraction of the size of a Map or a dictionary-mode object of the
 * same entries. Reads hand out fresh objects, so no caller can reach into a record.
 *
 * Every method does its work synchronously before it returns its promise, so calls made in
 * one tick apply in call order, and each call is atomic.
 */
import { SessionError } from '../errors.js';
import type { SessionStore, StoreChange, StoredRecord, StoredSessionInfo } from './store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most records kept; beyond it the least recently used record is evicted (a session
   * whose record is evicted ends, as if it had been deleted).
   * @default 100_000
   */
  readonly max?: number;
  /**
   * The clock that decides when a record has ended, in ms since the epoch. Tests inject
   * one; it should be the clock the session engine uses.
   * @default Date.now
   */
  readonly now?: () => number;
}

const DEFAULT_MAX = 100_000;
const OPTION_KEYS: ReadonlySet<string> = new Set(['max', 'now']);
/**
 * Records a write checks for expiry, so a full pass over the records takes a bounded
 * number of writes and an idle session is dropped long before `max` would push it out.
 */
const SWEEP_PER_WRITE = 8;
/** Past this many keys, applying a change indexes the entries in a Map instead of scanning. */
const LINEAR_KEYS = 16;

/** One session. Fields in a fixed order so every record shares one hidden class. */
class MemoryRecord {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  userTag: string | undefined;
  /** Data as `[key, json, key, json, ...]`, or null when there is none. */
  data: string[] | null;
  /** Flash as `[key, json, ...]`, or null when there is none (the usual case). */
  flash: string[] | null;

  constructor(createdAt: number, userTag: string | undefined) {
    this.createdAt = createdAt;
    this.lastSeenAt = createdAt;
    this.expiresAt = 0;
    this.userTag = userTag;
    this.data = null;
    this.flash = null;
  }
}

/**
 * `entries` (flat, or null) with `unset` removed and `set` applied, or null when nothing is
 * left. Mutates and returns `entries` when there is one: records are never shared.
 */
function applyEntries(
  entries: string[] | null,
  set: Readonly<Record<string, string>>,
  unset: readonly string[],
): string[] | null {
  const setKeys = Object.keys(set);
  if (setKeys.length === 0 && unset.length === 0) return entries;
  const current = entries ?? [];
  if (current.length / 2 + setKeys.length <= LINEAR_KEYS) {
    for (const key of unset) {
      const at = indexOfKey(current, key);
      if (at >= 0) current.splice(at, 2);
    }
    for (const key of setKeys) {
      const value = set[key]!;
      const at = indexOfKey(current, key);
      if (at >= 0) current[at + 1] = value;
      else current.push(key, value);
    }
    return current.length === 0 ? null : current;
  }
  // Large records: one pass to index, so a change of many keys stays linear.
  const map = new Map<string, string>();
  for (let i = 0; i < current.length; i += 2) map.set(current[i]!, current[i + 1]!);
  for (const key of unset) map.delete(key);
  for (const key of setKeys) map.set(key, set[key]!);
  if (map.size === 0) return null;
  const out: string[] = [];
  for (const [key, value] of map) out.push(key, value);
  return out;
}

/** Where `key` sits in flat `entries`, or -1. */
function indexOfKey(entries: readonly string[], key: string): number {
  for (let i = 0; i < entries.length; i += 2) if (entries[i] === key) return i;
  return -1;
}

/**
 * A fresh map of flat `entries`, without a prototype: a `__proto__` key stays a key, and
 * no inherited name (`constructor`, `toString`) reads as a value.
 */
function toMap(entries: readonly string[] | null): Record<string, string> {
  const map = Object.create(null) as Record<string, string>;
  if (entries !== null)
    for (let i = 0; i < entries.length; i += 2) map[entries[i]!] = entries[i + 1]!;
  return map;
}

/** What a record holds, as fresh objects: no caller can reach into the record. */
function snapshotOf(record: MemoryRecord): StoredRecord {
  return {
    createdAt: record.createdAt,
    lastSeenAt: record.lastSeenAt,
    userTag: record.userTag,
    data: toMap(record.data),
    flash: toMap(record.flash),
  };
}

/** The store behind {@link memoryStore}. */
class MemoryStore implements SessionStore {
  readonly kind = 'memory';
  readonly timeout: number | undefined = undefined;
  readonly #max: number;
  readonly #now: () => number;
  /** Records in least recently used order: a use moves a record to the end. */
  readonly #records = new Map<string, MemoryRecord>();
  /**
   * User tag → the id of its one record, or a Set of the ids of its records. Most users
   * have one session, and a Set per user would be most of the index's memory.
   */
  readonly #users = new Map<string, string | Set<string>>();
  /**
   * Where the incremental sweep stands. Map iterators stay valid while entries are added
   * and deleted, so the sweep resumes where the last write left it.
   */
  #sweep: Iterator<[string, MemoryRecord]> | undefined;
  /**
   * Move markers: an old id → where its session moved and until when the marker holds.
   * Markers live for moments (a request in flight), so they are pruned from the oldest on
   * every move, and bounded by `max` as the records are.
   */
  readonly #moved = new Map<string, { readonly to: string; readonly until: number }>();

  constructor(max: number, now: () => number) {
    this.#max = max;
    this.#now = now;
  }

  get(id: string): Promise<StoredRecord | undefined> {
    const record = this.#live(id, this.#now());
    return Promise.resolve(record === undefined ? undefined : snapshotOf(record));
  }

  write(id: string, change: StoreChange): Promise<boolean> {
    const now = this.#now();
    let record = this.#live(id, now);
    const created = record === undefined;
    if (record === undefined) {
      if (change.mode === 'update' || this.#markerOf(id, now) !== undefined) {
        return Promise.resolve(false);
      }
      // A session born ended is never kept (nor indexed).
      if (change.expiresAt <= now) return Promise.resolve(true);
      record = new MemoryRecord(change.createdAt, undefined);
    }
    record.data = applyEntries(record.data, change.set, change.unset);
    record.flash = applyEntries(record.flash, change.flashSet, change.flashUnset);
    record.lastSeenAt = change.lastSeenAt;
    record.expiresAt = change.expiresAt;
    if (record.userTag !== change.userTag) {
      this.#unindex(record.userTag, id);
      record.userTag = change.userTag;
      this.#index(change.userTag, id);
    }
    if (created) {
      this.#records.set(id, record);
      this.#evict();
    } else if (change.expiresAt <= now) {
      this.#remove(id, record);
    }
    this.#sweepSome(now);
    return Promise.resolve(true);
  }

  touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    const record = this.#live(id, now);
    if (record === undefined) return Promise.resolve(false);
    record.lastSeenAt = lastSeenAt;
    record.expiresAt = expiresAt;
    if (expiresAt <= now) this.#remove(id, record);
    return Promise.resolve(true);
  }

  takeFlash(id: string, key: string): Promise<string | undefined> {
    const record = this.#live(id, this.#now());
    const flash = record?.flash;
    if (record === undefined || flash == null) return Promise.resolve(undefined);
    const at = indexOfKey(flash, key);
    if (at < 0) return Promise.resolve(undefined);
    const value = flash[at + 1];
    flash.splice(at, 2);
    if (flash.length === 0) record.flash = null;
    return Promise.resolve(value);
  }

  delete(id: string): Promise<boolean | string> {
    const now = this.#now();
    const marker = this.#markerOf(id, now);
    if (marker !== undefined) {
      this.#moved.delete(id);
      return Promise.resolve(marker.to);
    }
    const record = this.#records.get(id);
    if (record === undefined) return Promise.resolve(false);
    this.#remove(id, record);
    return Promise.resolve(record.expiresAt > now);
  }

  markMoved(id: string, to: string, until: number): Promise<StoredRecord | undefined> {
    const now = this.#now();
    const record = this.#live(id, now);
    if (record === undefined) return Promise.resolve(undefined);
    this.#remove(id, record);
    // Oldest first: markers are added with about the same lifetime, so the expired ones
    // are at the front.
    for (const [old, marker] of this.#moved) {
      if (marker.until > now && this.#moved.size < this.#max) break;
      this.#moved.delete(old);
    }
    if (until > now) this.#moved.set(id, { to, until });
    return Promise.resolve(snapshotOf(record));
  }

  /** The live move marker of `id`, if any. */
  #markerOf(id: string, now: number): { readonly to: string; readonly until: number } | undefined {
    const marker = this.#moved.get(id);
    if (marker === undefined) return undefined;
    if (marker.until > now) return marker;
    this.#moved.delete(id);
    return undefined;
  }

  list(userTag: string, now: number): Promise<StoredSessionInfo[]> {
    const listed: StoredSessionInfo[] = [];
    const clock = this.#now();
    for (const id of this.#idsOf(userTag)) {
      // Every indexed id has a record: records leave only through #remove, which unindexes.
      const record = this.#records.get(id)!;
      if (record.expiresAt <= now || record.expiresAt <= clock) {
        // Ended for the engine: drop the record with its entry, so the two stay in step.
        this.#remove(id, record);
      } else {
        listed.push({ id, createdAt: record.createdAt, lastSeenAt: record.lastSeenAt });
      }
    }
    return Promise.resolve(listed);
  }

  deleteUser(userTag: string, except: readonly string[]): Promise<number> {
    const kept = new Set(except);
    const clock = this.#now();
    let deleted = 0;
    for (const id of this.#idsOf(userTag)) {
      if (kept.has(id)) continue;
      const record = this.#records.get(id)!;
      // An ended record is removed too, but it was no live session to count.
      if (record.expiresAt > clock) deleted++;
      this.#remove(id, record);
    }
    return Promise.resolve(deleted);
  }

  /** Counts for tests and benchmarks. */
  stats(): MemoryStoreStats {
    let indexed = 0;
    for (const ids of this.#users.values()) indexed += typeof ids === 'string' ? 1 : ids.size;
    return { records: this.#records.size, users: this.#users.size, indexed };
  }

  /** The record of `id` if it has not ended at `now` (marked as used), else undefined. */
  #live(id: string, now: number): MemoryRecord | undefined {
    const record = this.#records.get(id);
    if (record === undefined) return undefined;
    if (record.expiresAt <= now) {
      this.#remove(id, record);
      return undefined;
    }
    this.#records.delete(id);
    this.#records.set(id, record);
    return record;
  }

  #remove(id: string, record: MemoryRecord): void {
    this.#records.delete(id);
    this.#unindex(record.userTag, id);
  }

  /** A snapshot of the ids indexed under `userTag`, safe to iterate while removing. */
  #idsOf(userTag: string): string[] {
    const ids = this.#users.get(userTag);
    if (ids === undefined) return [];
    return typeof ids === 'string' ? [ids] : [...ids];
  }

  #index(userTag: string | undefined, id: string): void {
    if (userTag === undefined) return;
    const ids = this.#users.get(userTag);
    // Called only when a record joins the user, so `id` is not indexed there yet.
    if (ids === undefined) this.#users.set(userTag, id);
    else if (typeof ids === 'string') this.#users.set(userTag, new Set([ids, id]));
    else ids.add(id);
  }

  #unindex(userTag: string | undefined, id: string): void {
    if (userTag === undefined) return;
    const ids = this.#users.get(userTag);
    // Called only for a record of the user, so `id` is indexed there.
    if (typeof ids === 'string' || ids === undefined) {
      this.#users.delete(userTag);
      return;
    }
    ids.delete(id);
    // Back to the compact form, so a user down to one session costs no Set (a Set holds
    // two ids or more, so it never empties here).
    if (ids.size === 1) this.#users.set(userTag, ids.values().next().value!);
  }

  /** Drops least recently used records past `max`. */
  #evict(): void {
    while (this.#records.size > this.#max) {
      // Not empty: it holds more than `max`, which is at least 1.
      const [id, record] = this.#records.entries().next().value!;
      this.#remove(id, record);
    }
  }

  /** Checks the next few records of the incremental sweep, dropping the ended ones. */
  #sweepSome(now: number): void {
    this.#sweep ??= this.#records.entries();
    for (let i = 0; i < SWEEP_PER_WRITE; i++) {
      const next = this.#sweep.next();
      if (next.done === true) {
        // A full pass ended: the next write starts another from the least recently used.
        this.#sweep = undefined;
        return;
      }
      const [id, record] = next.value;
      if (record.expiresAt <= now) this.#remove(id, record);
    }
  }
}

/** Counts of a memory store, from {@link memoryStoreStats}. */
export interface MemoryStoreStats {
  /** Records held (ended ones not yet swept included). */
  readonly records: number;
  /** User tags with at least one indexed record. */
  readonly users: number;
  /** Index entries over all user tags: never more than `records`. */
  readonly indexed: number;
}

/**
 * A session store in this process's memory: revocable sessions (`listSessions`,
 * `revokeUserSessions`) without a database, for development, tests and single-process
 * servers. Sessions are lost on restart and not shared between processes; use
 * `redisStore` or `unstorageStore` for those.
 *
 * Each call is atomic and applied before its promise is returned. At most `max` records
 * are kept, the least recently used evicted first; ended records are dropped when read
 * and swept a few at a time on every write.
 *
 * @param options - `max` (@default 100_000) and `now` (@default Date.now); see
 *   {@link MemoryStoreOptions}
 * @returns a {@link SessionStore} of kind `memory`, with no timeout of its own
 * @throws SessionError `ERR_CONFIG_INVALID` when an option breaks its rule (the message
 *   names it): `max` not a positive safe integer, `now` not a function, an unknown option
 */
export function memoryStore(options?: MemoryStoreOptions): SessionStore {
  // Checked as unknown: JavaScript callers reach here unchecked.
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null) {
    throw invalid('options must be an object');
  }
  for (const key of Object.keys(input)) {
    if (!OPTION_KEYS.has(key)) throw invalid(`${key} is not an option`);
  }
  const { max = DEFAULT_MAX, now = Date.now } = input as MemoryStoreOptions;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw invalid('max must be a positive safe integer');
  }
  if (typeof now !== 'function') throw invalid('now must be a function');
  return new MemoryStore(max, now);
}

/**
 * The record and index counts of a store made by {@link memoryStore}, for tests and
 * benchmarks (that eviction and expiry leave no index entry behind, memory per session).
 *
 * @param store - a store made by {@link memoryStore}
 * @returns the counts, or undefined when `store` is not a memory store
 * @internal
 */
export function memoryStoreStats(store: SessionStore): MemoryStoreStats | undefined {
  return store instanceof MemoryStore ? store.stats() : undefined;
}

function invalid(rule: string): SessionError {
  return new SessionError('ERR_CONFIG_INVALID', `Invalid memoryStore options: ${rule}`);
}
