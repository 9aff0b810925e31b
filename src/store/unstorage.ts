/**
 * The session store over unstorage (`sealed-session/unstorage`): Nitro's `useStorage()`,
 * or any unstorage driver (Cloudflare KV, Vercel KV, Deno KV, the file system, ...).
 * unstorage is an optional peer: this file imports nothing of it, and takes any object with
 * the three methods it uses ({@link UnstorageLike}).
 *
 * Layout: one item per session, `<prefix>s:<id>`, holding `{c, s, e, u, d, f}` (createdAt,
 * lastSeenAt, expiresAt, user tag, then data and flash as flat `[key, json, ...]` arrays:
 * arrays, because unstorage parses items with destr, which drops object keys named
 * `__proto__`); and one index per user, `<prefix>u:<userTag>`, a list of `{id, e}`. An id
 * or user tag that would not survive unstorage's key normalization or a driver's rules
 * (`:`, `/`, `?`, dot segments, length) goes into the key as the SHA-256 of its UTF-8
 * instead, under `sx:` and `ux:`. Items are written with a TTL for the drivers that honour
 * one, and every read checks `e` itself, because TTLs are loose or absent in many drivers.
 *
 * Limits, which are unstorage's (it has no atomic operation, no compare-and-set):
 * - Every write is read-modify-write of an item. Two parallel writes of one session can
 *   lose one's change; an `update` checks that the record exists first, but a revocation
 *   that lands between the check and the write is undone by it (the session comes back).
 * - A flash may be read twice by parallel requests.
 * - The user index is read-modify-write too: parallel writes of two sessions of one user
 *   can lose an index entry, and `revokeUserSessions` then misses that session. The index is
 *   pruned of ended entries on every change (and an entry is checked against its record
 *   before it is dropped), so it stays bounded by the user's live sessions.
 * - On an eventually consistent KV (Cloudflare KV), a revocation may take the KV's
 *   propagation delay (up to a minute) to reach every edge, and a key takes about one write
 *   a second (a user's index is written with each write of any of their sessions): a user
 *   whose sessions are written many times a second needs Redis.
 * - Drivers without TTLs (memory, fs) keep the record of a session nobody comes back to
 *   until a user's index prunes it, or forever for a session of no user: clear them with
 *   the driver's own tools.
 * Use `redisStore` where revocation must be immediate and exact.
 */
import { encodeBase64url } from '../internal/base64url.js';
import { sha256 } from '../internal/sha256.js';
import { SessionError } from '../errors.js';
import type { SessionStore, StoreChange, StoredRecord, StoredSessionInfo } from './store.js';

/**
 * The part of an unstorage `Storage` (or Nitro's `useStorage()`) the store uses. Values are
 * written as JSON text; `getItem` may give them back parsed (unstorage does) or as text.
 */
export interface UnstorageLike {
  /** The value of `key`, parsed or as text; `null` or `undefined` when there is none. */
  getItem(key: string): Promise<unknown>;
  /** Writes `value` under `key`; `ttl` in seconds, for drivers that expire items. */
  setItem(key: string, value: string, options?: { ttl?: number }): Promise<unknown>;
  /** Deletes `key`; nothing when there is none. */
  removeItem(key: string): Promise<unknown>;
}

/** Options of {@link unstorageStore}. */
export interface UnstorageStoreOptions {
  /**
   * Put before every key the store writes, so sessions can share a storage with other
   * data. End it with `:` to make it a folder of its own (unstorage's key separator).
   * @default 'sealed-session:'
   */
  readonly prefix?: string;
  /**
   * The deadline of each call in milliseconds, which the engine enforces.
   * @default 1500
   */
  readonly timeout?: number;
}

const DEFAULT_PREFIX = 'sealed-session:';
const DEFAULT_TIMEOUT = 1500;
const OPTION_KEYS: ReadonlySet<string> = new Set(['prefix', 'timeout']);
/** Cloudflare KV refuses TTLs under 60 seconds; nothing is lost by asking every driver for 60. */
const MIN_TTL_SECONDS = 60;
/**
 * Ids and user tags used as keys as they are: base64url and UUIDs, dot-separated, which
 * survive every driver (no `:` or `/` that unstorage splits on, no `?` it cuts at, no `.`
 * or `..` segment that fs refuses, no leading dot that hides a file), and short enough for
 * file names (255 bytes) and KV keys (512 bytes) with a prefix in front.
 */
const KEY_SAFE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const KEY_SAFE_MAX = 128;

const utf8 = new TextEncoder();

/** A session record as it is stored. */
interface Item {
  /** createdAt */
  c: number;
  /** lastSeenAt */
  s: number;
  /** expiresAt */
  e: number;
  /** user tag (absent for none) */
  u?: string;
  /** data as `[key, json, ...]` */
  d: string[];
  /** flash as `[key, json, ...]` */
  f: string[];
}

/** One session in a user's index: the session's expiry as of its last write. */
interface IndexEntry {
  id: string;
  e: number;
}

/** An item the store cannot read: reported, never taken for a missing session. */
function unreadable(what: string): Error {
  // Fixed text: keys hold session ids, which never go into messages.
  return new Error(`sealed-session unstorageStore: a stored ${what} is not readable`);
}

/** The item as JSON: unstorage gives it parsed, other storages may give the text. */
function parsed(raw: unknown, what: string): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    // JSON.parse's message quotes the text, which holds session data: never pass it on.
    throw unreadable(what);
  }
}

function isFlat(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length % 2 === 0 &&
    value.every((entry) => typeof entry === 'string')
  );
}

/** @throws Error when the stored value is not a session record */
function decodeItem(raw: unknown): Item | undefined {
  if (raw === null || raw === undefined) return undefined;
  const value = parsed(raw, 'session');
  if (typeof value !== 'object' || value === null) throw unreadable('session');
  const item = value as Partial<Record<keyof Item, unknown>>;
  if (
    !Number.isFinite(item.c) ||
    !Number.isFinite(item.s) ||
    !Number.isFinite(item.e) ||
    (item.u !== undefined && typeof item.u !== 'string') ||
    !isFlat(item.d) ||
    !isFlat(item.f)
  ) {
    throw unreadable('session');
  }
  return item as Item;
}

/** @throws Error when the stored value is not a user index */
function decodeIndex(raw: unknown): IndexEntry[] {
  if (raw === null || raw === undefined) return [];
  const value = parsed(raw, 'user index');
  if (!Array.isArray(value)) throw unreadable('user index');
  for (const entry of value as unknown[]) {
    const candidate = entry as Partial<Record<keyof IndexEntry, unknown>> | null;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.id !== 'string' ||
      !Number.isFinite(candidate.e)
    ) {
      throw unreadable('user index');
    }
  }
  return value as IndexEntry[];
}

/** `entries` with `unset` removed and `set` applied, as a new flat array. */
function applyEntries(
  entries: readonly string[],
  set: Readonly<Record<string, string>>,
  unset: readonly string[],
): string[] {
  const map = new Map<string, string>();
  for (let i = 0; i < entries.length; i += 2) map.set(entries[i]!, entries[i + 1]!);
  for (const key of unset) map.delete(key);
  for (const key of Object.keys(set)) map.set(key, set[key]!);
  const out: string[] = [];
  for (const [key, value] of map) out.push(key, value);
  return out;
}

/** A map of flat `entries` without a prototype, so a `__proto__` key stays a key. */
function toMap(entries: readonly string[]): Record<string, string> {
  const map = Object.create(null) as Record<string, string>;
  for (let i = 0; i < entries.length; i += 2) map[entries[i]!] = entries[i + 1]!;
  return map;
}

/** A TTL in whole seconds, at least the 60 that Cloudflare KV accepts. */
function ttlSeconds(expiresAt: number, now: number): number {
  return Math.max(MIN_TTL_SECONDS, Math.ceil((expiresAt - now) / 1000));
}

/**
 * `value` as the last segment of a key: as it is when it survives every driver, else the
 * SHA-256 of its UTF-8 in base64url, in a namespace of its own (`x`) so a hashed value
 * never meets a plain one. A hash rather than an encoding keeps the key short whatever
 * `generateId` makes; the id itself never has to be read back from a key.
 */
function keySegment(value: string): string {
  if (value.length <= KEY_SAFE_MAX && KEY_SAFE.test(value)) return `:${value}`;
  return `x:${encodeBase64url(sha256(utf8.encode(value)))}`;
}

/** What an item holds, as the store contract gives it. */
function recordOf(item: Item): StoredRecord {
  return {
    createdAt: item.c,
    lastSeenAt: item.s,
    userTag: item.u,
    data: toMap(item.d),
    flash: toMap(item.f),
  };
}

/** JSON.parse that gives undefined for text that is not JSON. */
function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The store behind {@link unstorageStore}. */
class UnstorageStore implements SessionStore {
  readonly kind = 'unstorage';
  readonly timeout: number;
  readonly #storage: UnstorageLike;
  readonly #prefix: string;

  constructor(storage: UnstorageLike, prefix: string, timeout: number) {
    this.#storage = storage;
    this.#prefix = prefix;
    this.timeout = timeout;
  }

  async get(id: string): Promise<StoredRecord | undefined> {
    const item = await this.#read(id, Date.now());
    return item === undefined ? undefined : recordOf(item);
  }

  async write(id: string, change: StoreChange): Promise<boolean> {
    const now = Date.now();
    const old = await this.#read(id, now);
    if (old === undefined && (change.mode === 'update' || (await this.#markerOf(id, now)))) {
      return false;
    }
    const item: Item = {
      c: old?.c ?? change.createdAt,
      s: change.lastSeenAt,
      e: change.expiresAt,
      d: applyEntries(old?.d ?? [], change.set, change.unset),
      f: applyEntries(old?.f ?? [], change.flashSet, change.flashUnset),
    };
    if (change.userTag !== undefined) item.u = change.userTag;
    if (change.expiresAt <= now) {
      // The change ends the session: nothing to keep.
      if (old !== undefined) await this.#remove(id, old.u, now);
      return true;
    }
    // The index first: should the record's write fail, an entry without a record is
    // pruned later, where a record without an entry would escape a revocation.
    if (old?.u !== undefined && old.u !== item.u) await this.#unindex(old.u, id, now);
    if (item.u !== undefined) await this.#index(item.u, id, item.e, now);
    await this.#save(id, item, now);
    return true;
  }

  async touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    const item = await this.#read(id, now);
    if (item === undefined) return false;
    if (expiresAt <= now) {
      await this.#remove(id, item.u, now);
      return true;
    }
    item.s = lastSeenAt;
    item.e = expiresAt;
    if (item.u !== undefined) await this.#index(item.u, id, expiresAt, now);
    await this.#save(id, item, now);
    return true;
  }

  async takeFlash(id: string, key: string): Promise<string | undefined> {
    const now = Date.now();
    const item = await this.#read(id, now);
    if (item === undefined) return undefined;
    for (let i = 0; i < item.f.length; i += 2) {
      if (item.f[i] !== key) continue;
      const value = item.f[i + 1];
      item.f.splice(i, 2);
      await this.#save(id, item, now);
      return value;
    }
    return undefined;
  }

  async delete(id: string): Promise<boolean | string> {
    const now = Date.now();
    // Read even when ended: the item still names the index to leave.
    const item = decodeItem(await this.#storage.getItem(this.#recordKey(id)));
    if (item === undefined) {
      const movedTo = await this.#markerOf(id, now);
      if (movedTo === undefined) return false;
      await this.#storage.removeItem(this.#markerKey(id));
      return movedTo;
    }
    await this.#remove(id, item.u, now);
    return item.e > now;
  }

  async markMoved(id: string, to: string, until: number): Promise<StoredRecord | undefined> {
    const now = Date.now();
    const item = await this.#read(id, now);
    if (item === undefined) return undefined;
    // The marker first: a failure in between then leaves the record, not a gap.
    await this.#storage.setItem(this.#markerKey(id), JSON.stringify({ t: to, e: until }), {
      ttl: ttlSeconds(until, now),
    });
    await this.#remove(id, item.u, now);
    return recordOf(item);
  }

  /** Where the session of `id` moved, while its marker holds. */
  async #markerOf(id: string, now: number): Promise<string | undefined> {
    const raw: unknown = await this.#storage.getItem(this.#markerKey(id));
    const marker = (typeof raw === 'string' ? safeParse(raw) : raw) as
      { t?: unknown; e?: unknown } | null | undefined;
    if (typeof marker !== 'object' || marker === null) return undefined;
    const { t, e } = marker;
    return typeof t === 'string' && typeof e === 'number' && e > now ? t : undefined;
  }

  #markerKey(id: string): string {
    return `${this.#prefix}m${keySegment(id)}`;
  }

  async list(userTag: string, now: number): Promise<StoredSessionInfo[]> {
    const key = this.#indexKey(userTag);
    const entries = decodeIndex(await this.#storage.getItem(key));
    if (entries.length === 0) return [];
    const listed: StoredSessionInfo[] = [];
    const kept: IndexEntry[] = [];
    // The records, not the index, say what is live: the index's `e` may lag behind.
    await Promise.all(
      entries.map(async (entry) => {
        const item = await this.#readAny(entry.id);
        if (item === undefined || item.u !== userTag) return;
        if (item.e <= now) {
          await this.#storage.removeItem(this.#recordKey(entry.id));
          return;
        }
        kept.push({ id: entry.id, e: item.e });
        listed.push({ id: entry.id, createdAt: item.c, lastSeenAt: item.s });
      }),
    );
    if (!sameEntries(entries, kept)) await this.#saveIndex(key, kept, Date.now());
    return listed;
  }

  async deleteUser(userTag: string, except: readonly string[]): Promise<number> {
    const key = this.#indexKey(userTag);
    const entries = decodeIndex(await this.#storage.getItem(key));
    if (entries.length === 0) return 0;
    const excepted = new Set(except);
    const now = Date.now();
    const kept: IndexEntry[] = [];
    let deleted = 0;
    await Promise.all(
      entries.map(async (entry) => {
        if (excepted.has(entry.id)) {
          kept.push(entry);
          return;
        }
        const item = await this.#readAny(entry.id);
        // A session that has left this user (signed out, another user) is not theirs.
        if (item === undefined || item.u !== userTag) return;
        if (item.e > now) deleted++;
        await this.#storage.removeItem(this.#recordKey(entry.id));
      }),
    );
    if (!sameEntries(entries, kept)) await this.#saveIndex(key, kept, now);
    return deleted;
  }

  #recordKey(id: string): string {
    return `${this.#prefix}s${keySegment(id)}`;
  }

  #indexKey(userTag: string): string {
    return `${this.#prefix}u${keySegment(userTag)}`;
  }

  /** The record of `id` whether or not it has ended. */
  async #readAny(id: string): Promise<Item | undefined> {
    return decodeItem(await this.#storage.getItem(this.#recordKey(id)));
  }

  /** The record of `id` if it has not ended at `now`. */
  async #read(id: string, now: number): Promise<Item | undefined> {
    const item = await this.#readAny(id);
    return item !== undefined && item.e > now ? item : undefined;
  }

  async #save(id: string, item: Item, now: number): Promise<void> {
    await this.#storage.setItem(this.#recordKey(id), JSON.stringify(item), {
      ttl: ttlSeconds(item.e, now),
    });
  }

  /** Deletes the record of `id` and its entry in the index of `userTag`. */
  async #remove(id: string, userTag: string | undefined, now: number): Promise<void> {
    await this.#storage.removeItem(this.#recordKey(id));
    if (userTag !== undefined) await this.#unindex(userTag, id, now);
  }

  /** Sets the entry of `id` in the index of `userTag` to expire at `expiresAt`. */
  async #index(userTag: string, id: string, expiresAt: number, now: number): Promise<void> {
    const key = this.#indexKey(userTag);
    const entries = decodeIndex(await this.#storage.getItem(key));
    const current = entries.find((entry) => entry.id === id);
    const stale = entries.some((entry) => entry.e <= now);
    if (current?.e === expiresAt && !stale) return;
    const next = await this.#pruned(userTag, entries, id, now);
    next.push({ id, e: expiresAt });
    await this.#saveIndex(key, next, now);
  }

  /** Removes the entry of `id` from the index of `userTag`. */
  async #unindex(userTag: string, id: string, now: number): Promise<void> {
    const key = this.#indexKey(userTag);
    const entries = decodeIndex(await this.#storage.getItem(key));
    if (entries.length === 0) return;
    const next = await this.#pruned(userTag, entries, id, now);
    if (!sameEntries(entries, next)) await this.#saveIndex(key, next, now);
  }

  /**
   * `entries` without the one of `id` and without ended ones. An entry that looks ended
   * is checked against its record first: a lost index update leaves an old `e` behind,
   * and a live session must stay revocable (it is kept, with the record's `e`). The
   * record of an entry that has really ended goes with it, so drivers without TTLs do
   * not keep it.
   */
  async #pruned(
    userTag: string,
    entries: readonly IndexEntry[],
    id: string,
    now: number,
  ): Promise<IndexEntry[]> {
    const next: IndexEntry[] = [];
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.id === id) return;
        if (entry.e > now) {
          next.push(entry);
          return;
        }
        const item = await this.#readAny(entry.id);
        if (item === undefined || item.u !== userTag) return;
        if (item.e > now) next.push({ id: entry.id, e: item.e });
        else await this.#storage.removeItem(this.#recordKey(entry.id));
      }),
    );
    return next;
  }

  /** Writes an index, or removes it when it has no entry left. */
  async #saveIndex(key: string, entries: readonly IndexEntry[], now: number): Promise<void> {
    if (entries.length === 0) {
      await this.#storage.removeItem(key);
      return;
    }
    let last = 0;
    for (const entry of entries) last = Math.max(last, entry.e);
    await this.#storage.setItem(key, JSON.stringify(entries), { ttl: ttlSeconds(last, now) });
  }
}

/** Whether two index lists hold the same entries (in any order). */
function sameEntries(a: readonly IndexEntry[], b: readonly IndexEntry[]): boolean {
  if (a.length !== b.length) return false;
  const expiries = new Map(a.map((entry) => [entry.id, entry.e]));
  return b.every((entry) => expiries.get(entry.id) === entry.e);
}

/**
 * A session store over unstorage: Nitro's `useStorage()` or any unstorage driver, so
 * server-side sessions run wherever Nitro deploys (Cloudflare KV, Vercel KV, Deno KV,
 * Netlify Blobs, the file system, ...).
 *
 * unstorage has no atomic operation, so this store is weaker than `redisStore`:
 * - no atomic user index: parallel writes of two sessions of one user can lose an index
 *   entry, and revoking that user's sessions then misses the session;
 * - an `update` checks that the record exists and then writes it, so a revocation that
 *   lands in between is undone (the session comes back); two parallel writes of one
 *   session can lose one's change;
 * - a flash may be read twice under parallel requests;
 * - on an eventually consistent KV (Cloudflare KV), a revocation may take the KV's
 *   propagation delay (up to a minute) to reach every edge.
 * Items get a TTL in seconds (at least 60, Cloudflare KV's minimum) for drivers that
 * honour one; every read checks the expiry anyway.
 *
 * @example
 * ```ts
 * import { unstorageStore } from 'sealed-session/unstorage';
 * const store = unstorageStore(useStorage('sessions'));
 * ```
 *
 * @param storage - an unstorage `Storage` (`createStorage({ driver })`, Nitro's
 *   `useStorage()`), or anything with the same `getItem`, `setItem`, `removeItem`
 * @param options - `prefix` of every key (@default 'sealed-session:'), and the `timeout`
 *   of each call in ms (@default 1500); see {@link UnstorageStoreOptions}
 * @returns a {@link SessionStore} of kind `unstorage`
 * @throws SessionError `ERR_CONFIG_INVALID` when `storage` lacks one of the three methods
 *   or an option breaks its rule (the message names it): `prefix` not a string, `timeout`
 *   not a positive finite number, an unknown option
 */
export function unstorageStore(
  storage: UnstorageLike,
  options?: UnstorageStoreOptions,
): SessionStore {
  // Checked as unknown: JavaScript callers reach here unchecked.
  const candidate = storage as Partial<Record<keyof UnstorageLike, unknown>> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.getItem !== 'function' ||
    typeof candidate.setItem !== 'function' ||
    typeof candidate.removeItem !== 'function'
  ) {
    throw invalid('storage must have getItem, setItem and removeItem (an unstorage Storage)');
  }
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null) throw invalid('options must be an object');
  for (const key of Object.keys(input)) {
    if (!OPTION_KEYS.has(key)) throw invalid(`${key} is not an option`);
  }
  const { prefix = DEFAULT_PREFIX, timeout = DEFAULT_TIMEOUT } = input as UnstorageStoreOptions;
  if (typeof prefix !== 'string') throw invalid('prefix must be a string');
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw invalid('timeout must be a positive finite number of milliseconds');
  }
  return new UnstorageStore(storage, prefix, timeout);
}

function invalid(rule: string): SessionError {
  return new SessionError('ERR_CONFIG_INVALID', `Invalid unstorageStore options: ${rule}`);
}
