/**
 * What the session engine needs to keep a session in a store, apart from the engine's
 * order of operations: store calls with a deadline, a record turned into a session (its
 * times checked here, never trusted to the backend's TTL), and a session's change turned
 * into the keys a store sets and deletes.
 *
 * Values travel as JSON text per top-level key, so a change names only the keys it
 * changed: two requests of one session that change different keys both keep their change,
 * and one that changes a key another changed last wins for that key. A whole-object write
 * would let the slower request put back what the faster one changed or deleted.
 */
import { SessionError } from '../errors.js';
import { parseSafe, setDataKey, stringifyLossless } from '../iron/json.js';
import { userTagInId, userTagOf } from '../store/session-id.js';
import type { SessionStore, StoreChange, StoredRecord } from '../store/store.js';
import type { ResolvedConfig } from './config.js';
import type { Session } from './types.js';

/** A record as this request last saw it: what a change is measured against. */
export interface RecordSnapshot {
  readonly id: string;
  readonly lastSeenAt: number;
  /** Data keys to their JSON text. */
  readonly data: Readonly<Record<string, string>>;
  /** Flash keys to their JSON text. */
  readonly flash: Readonly<Record<string, string>>;
}

/** No keys: what a change of a session that has no record is measured against. */
const NO_KEYS: Readonly<Record<string, string>> = Object.freeze(
  Object.create(null) as Record<string, string>,
);

/**
 * Runs one store call with the config's deadline. A failure or a missed deadline becomes
 * `ERR_STORE_UNAVAILABLE` with the store's error as `cause`: the caller must then neither
 * read nor write the session, so a store that is down never signs anyone in or out.
 */
export function callStore<R>(
  config: ResolvedConfig,
  call: (store: SessionStore) => Promise<R>,
): Promise<R> {
  const store = config.store!;
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new SessionError(
          'ERR_STORE_UNAVAILABLE',
          `The session store (${store.kind}) did not answer within ${config.storeTimeoutMs} ms`,
        ),
      );
    }, config.storeTimeoutMs);
    // A deadline must not keep a process alive that has nothing else to do.
    (timer as { unref?: () => void }).unref?.();
    const failed = (error: unknown): void => {
      clearTimeout(timer);
      reject(
        new SessionError('ERR_STORE_UNAVAILABLE', `The session store (${store.kind}) failed`, {
          cause: error,
        }),
      );
    };
    let pending: Promise<R>;
    try {
      pending = call(store);
    } catch (error) {
      failed(error);
      return;
    }
    // After the deadline the answer is dropped (the promise already settled), but a late
    // rejection is still handled here, never left unhandled.
    Promise.resolve(pending).then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, failed);
  });
}

/** The user tag of a user key: a non-empty string or a finite number is a user. */
export function userTagOfKey(key: unknown): string | undefined {
  if (typeof key === 'string' && key !== '') return userTagOf(key);
  if (typeof key === 'number' && Number.isFinite(key)) return userTagOf(String(key));
  return undefined;
}

/**
 * The user tag of `data` under the config's `userKey`, if it names a user.
 *
 * @throws SessionError `ERR_CONFIG_INVALID` when `userKey` gives anything but a user key,
 *   `undefined` or `null`: a user the index cannot hold would silently escape revocation
 */
export function userTagFor(
  config: ResolvedConfig,
  data: Record<string, unknown>,
): string | undefined {
  if (config.userKey === undefined) return undefined;
  const key = config.userKey(data);
  if (key === undefined || key === null) return undefined;
  const tag = userTagOfKey(key);
  if (tag === undefined) {
    throw new SessionError(
      'ERR_CONFIG_INVALID',
      'Invalid session config: userKey must give a non-empty string, a number, or nothing',
    );
  }
  return tag;
}

/**
 * The values of JSON texts by key, parsed with the sealed-data rules.
 *
 * @throws SessionError `ERR_DATA_INVALID` (prototype keys), `ERR_SEAL_UNSEAL_FAILED` (not JSON)
 */
export function valuesOf(fields: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Every key an own data property, as JSON.parse makes them: __proto__ changes no prototype.
  for (const key of Object.keys(fields)) setDataKey(out, key, parseSafe(fields[key]!));
  return out;
}

/** A record read for a reference: the session, its flash values, and its snapshot. */
export interface OpenedRecord {
  readonly session: Session;
  readonly flash: Record<string, unknown> | undefined;
  readonly snapshot: RecordSnapshot;
}

/**
 * The session a record holds, checked against the config's lifetimes at `time` from the
 * record's own times (a backend's TTL can be late, or missing).
 *
 * @throws SessionError `ERR_SESSION_EXPIRED`; `ERR_DATA_INVALID` for a value that would
 *   pollute prototypes; `ERR_COOKIE_INVALID` for a record that is not JSON
 */
export function openRecord(
  config: ResolvedConfig,
  id: string,
  record: StoredRecord,
  time: number,
): OpenedRecord {
  if (config.maxAgeMs > 0 && time - record.createdAt > config.maxAgeMs) {
    throw new SessionError('ERR_SESSION_EXPIRED', 'The session has expired');
  }
  if (config.idleTimeoutMs > 0 && time - record.lastSeenAt > config.idleTimeoutMs) {
    throw new SessionError('ERR_SESSION_EXPIRED', 'The session was idle for too long');
  }
  let data: Record<string, unknown>;
  let flash: Record<string, unknown>;
  try {
    data = valuesOf(record.data);
    flash = valuesOf(record.flash);
  } catch (error) {
    if (error instanceof SessionError && error.code === 'ERR_DATA_INVALID') throw error;
    throw new SessionError('ERR_COOKIE_INVALID', 'The session record is not valid JSON');
  }
  const session: Session = { id, createdAt: record.createdAt, data };
  if (config.idleTimeoutMs > 0) session.lastSeenAt = record.lastSeenAt;
  return {
    session,
    flash: Object.keys(flash).length > 0 ? flash : undefined,
    snapshot: { id, lastSeenAt: record.lastSeenAt, data: record.data, flash: record.flash },
  };
}

/** Sets `set`'s keys in `texts` and deletes `unset`'s. */
export function applyKeys(
  texts: Record<string, string>,
  set: Readonly<Record<string, string>>,
  unset: readonly string[],
): void {
  for (const key of Object.keys(set)) setDataKey(texts, key, set[key]);
  for (const key of unset) Reflect.deleteProperty(texts, key);
}

/** JSON text of each own key of `values` whose value is not undefined. */
function textsOf(values: Record<string, unknown> | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  if (values === undefined) return out;
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (value !== undefined) out[key] = stringifyLossless(value);
  }
  return out;
}

/** The keys of `next` that differ from `base`, and the keys of `base` that `next` lacks. */
function diff(
  base: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
): { set: Record<string, string>; unset: string[] } {
  const set = Object.create(null) as Record<string, string>;
  const unset: string[] = [];
  for (const key of Object.keys(next)) if (base[key] !== next[key]) set[key] = next[key]!;
  for (const key of Object.keys(base)) if (next[key] === undefined) unset.push(key);
  return { set, unset };
}

/** A change to write, and the snapshot the record has once it is written. */
export interface PlannedChange {
  /** Undefined when nothing changed. */
  readonly change: StoreChange | undefined;
  readonly snapshot: RecordSnapshot;
}

/**
 * The change that makes `base` (the record as this request saw it, or none) hold `next`
 * and `flash`, or no change when they already hold it. The user tag is the one `next.id`
 * carries: the engine gives a session whose user changed a new id before it plans.
 *
 * @throws SessionError `ERR_DATA_INVALID` for data JSON would change
 */
export function planChange(
  base: RecordSnapshot | undefined,
  next: Session,
  flash: Record<string, unknown> | undefined,
  lastSeenAt: number,
  expiresAt: number,
): PlannedChange {
  const data = textsOf(next.data);
  const flashTexts = textsOf(flash);
  const dataDiff = diff(base?.data ?? NO_KEYS, data);
  const flashDiff = diff(base?.flash ?? NO_KEYS, flashTexts);
  const snapshot: RecordSnapshot = { id: next.id, lastSeenAt, data, flash: flashTexts };
  const changed =
    Object.keys(dataDiff.set).length > 0 ||
    dataDiff.unset.length > 0 ||
    Object.keys(flashDiff.set).length > 0 ||
    flashDiff.unset.length > 0;
  if (!changed) return { change: undefined, snapshot };
  return {
    change: {
      mode: base === undefined ? 'create' : 'update',
      createdAt: next.createdAt,
      lastSeenAt,
      expiresAt,
      userTag: userTagInId(next.id),
      set: dataDiff.set,
      unset: dataDiff.unset,
      flashSet: flashDiff.set,
      flashUnset: flashDiff.unset,
    },
    snapshot,
  };
}
