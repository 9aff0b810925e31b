/**
 * The contract between the session engine and a server-side store. The engine decides
 * what changes (which top-level data keys, which flash keys, the timestamps) and checks
 * every expiry itself; a store keeps records, applies each change atomically, keeps the
 * per-user index, and lets the backend's TTL collect what has ended.
 *
 * Values cross this boundary as JSON text, one string per top-level data key and per
 * flash key: the engine stringifies and parses them (with the same refusals as a sealed
 * cookie), so a store never interprets session data, and two requests that change
 * different keys of one session both keep their change (a change is applied key by key).
 *
 * Every call may be slow or fail: the engine puts a deadline on each one and turns a
 * failure into `ERR_STORE_UNAVAILABLE`. A store rejects with whatever its client throws.
 */

/** A session record as a store keeps it. */
export interface StoredRecord {
  /** Creation time, ms since the epoch. */
  readonly createdAt: number;
  /** Last time the session was written or touched, ms since the epoch. */
  readonly lastSeenAt: number;
  /** The user tag the record is indexed under, if any (see {@link userTagOf}). */
  readonly userTag: string | undefined;
  /** Top-level data keys to their JSON text. */
  readonly data: Readonly<Record<string, string>>;
  /** Flash keys to their JSON text. */
  readonly flash: Readonly<Record<string, string>>;
}

/** One atomic change of a record. */
export interface StoreChange {
  /**
   * `create`: write the record whether or not it exists (the first write of a session, which
   * a parallel first write of the same session may have made already: then the change is
   * applied to it). `update`: apply the change only if the record still exists, so a write
   * that loses the race against a revocation or a sign-out never brings the session back.
   */
  readonly mode: 'create' | 'update';
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** When the session ends, ms since the epoch: the backend may drop the record after it. */
  readonly expiresAt: number;
  /** The user tag to index the session under, or undefined for none. */
  readonly userTag: string | undefined;
  /** Data keys to set, to their JSON text. */
  readonly set: Readonly<Record<string, string>>;
  /** Data keys to delete. */
  readonly unset: readonly string[];
  /** Flash keys to set, to their JSON text. */
  readonly flashSet: Readonly<Record<string, string>>;
  /** Flash keys to delete. */
  readonly flashUnset: readonly string[];
}

/** A live session of a user, as `listSessions` reports it. */
export interface StoredSessionInfo {
  readonly id: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/**
 * A server-side session store. Implementations: `memoryStore` (`sealed-session`),
 * `redisStore` (`sealed-session/redis`), `unstorageStore` (`sealed-session/unstorage`).
 */
export interface SessionStore {
  /** What the store is, for messages and metrics (`memory`, `redis`, `unstorage`). */
  readonly kind: string;
  /**
   * The deadline of each call in milliseconds, which the engine enforces.
   * @default 1500
   */
  readonly timeout?: number | undefined;
  /** The record of `id`, or undefined when there is none. */
  get(id: string): Promise<StoredRecord | undefined>;
  /**
   * Applies `change` to the record of `id` atomically, and keeps the user index in step.
   * `change.userTag` is always the tag the id carries (`userTagInId(id)`): a session that
   * changes user gets a new id, so a record never moves between users, and on a Redis
   * Cluster a user's records and index stay in one slot. Resolves false only for an
   * `update` whose record no longer exists.
   */
  write(id: string, change: StoreChange): Promise<boolean>;
  /**
   * Moves the record's `lastSeenAt` and expiry without changing its data. Resolves false
   * when the record no longer exists.
   */
  touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean>;
  /**
   * Removes flash key `key` from the record of `id` and gives its JSON text, or undefined
   * when it was not there (another request took it): atomic, so a flash is read once.
   */
  takeFlash(id: string, key: string): Promise<string | undefined>;
  /**
   * Deletes the record of `id` and its index entry. Resolves `true` when there was a live
   * record, `false` when there was none, or, when `id` is a move marker (see
   * {@link markMoved}), the id the session moved to: the marker is deleted, and the caller
   * follows it, so a sign-out or revocation with the old id still reaches the session.
   */
  delete(id: string): Promise<boolean | string>;
  /**
   * Ends the record of `id` because its session moved to the id `to` (a sign-in, a
   * regenerate): atomically replaces a live record with a marker naming `to`, kept until
   * `until` (ms since the epoch), and takes it out of its user's index. Resolves the record
   * as it was, or undefined (changing nothing) when there was no live record: the session
   * was revoked meanwhile. A marker reads as no record for every call but `delete`; a
   * write, even a `create`, to a marked id resolves false.
   */
  markMoved(id: string, to: string, until: number): Promise<StoredRecord | undefined>;
  /**
   * The sessions indexed under `userTag` whose `expiresAt` has not passed at `now`
   * (the engine checks `maxAge` and `idleTimeout` on what it gets), and drops the ended
   * entries from the index.
   */
  list(userTag: string, now: number): Promise<StoredSessionInfo[]>;
  /**
   * Deletes every session indexed under `userTag` except the ids in `except`, and their
   * index entries, atomically; resolves to how many were deleted.
   */
  deleteUser(userTag: string, except: readonly string[]): Promise<number>;
}

/** The operations of a {@link SessionStore}: its methods. */
export type StoreMethod = Exclude<keyof SessionStore, 'kind' | 'timeout'>;

/** Every {@link StoreMethod} once; a record so the compiler notices one left out. */
const STORE_METHOD_SET: Readonly<Record<StoreMethod, true>> = {
  get: true,
  write: true,
  touch: true,
  takeFlash: true,
  delete: true,
  markMoved: true,
  list: true,
  deleteUser: true,
};

/** The methods every store must have, in the order of the interface. */
export const STORE_METHODS = Object.keys(STORE_METHOD_SET) as readonly StoreMethod[];
