/**
 * The session layer's public types, under h3's names where h3 has them (`Session`,
 * `SessionConfig`, `SessionData`, `SessionUpdate`, `SessionManager`), so h3 users migrate by
 * changing an import.
 */
import type { SessionError } from '../errors.js';
import type { SealOptionsInput } from '../iron/options.js';
import type { PasswordInput } from '../iron/password.js';
import type { CookieOptions } from '../cookie/cookie-options.js';
import type { SessionStore } from '../store/store.js';

export type { CookieOptions } from '../cookie/cookie-options.js';

/**
 * Session data: any JSON object. `any` (not `unknown`) on purpose, as in h3: code written
 * against h3's untyped sessions (`session.data.count + 1`) must keep compiling after the
 * import changes. Pass a type argument to get checked data.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- h3 compatibility, see above
export type SessionDataT = Record<string, any>;

/** The data of a session, as h3 names it. */
export type SessionData<T extends SessionDataT = SessionDataT> = T;

/** A session: exactly what is sealed into the cookie, so h3 and sealed-session read each other's. */
export interface Session<T extends SessionDataT = SessionDataT> {
  /** Random id, stable for the life of the session. */
  id: string;
  /** Creation time, milliseconds since the epoch; `maxAge` counts from here. */
  createdAt: number;
  /**
   * When the session was last sealed, milliseconds since the epoch: stamped only with
   * `idleTimeout`, which counts from here (as in h3 2.x).
   */
  lastSeenAt?: number;
  data: SessionData<T>;
}

/**
 * An update: an object shallow-merged into the data, or a function that receives the data,
 * may mutate it, and may return an object to merge.
 */
export type SessionUpdate<T extends SessionDataT = SessionDataT> =
  Partial<SessionData<T>> | ((oldData: SessionData<T>) => Partial<SessionData<T>> | undefined);

/** Why a request's session token was not used. */
export interface SessionRejection {
  /** The error, with a stable `code` (`ERR_SEAL_UNSEAL_FAILED`, `ERR_SESSION_EXPIRED`, ...). */
  readonly error: SessionError;
  /** Where the token came from. */
  readonly source: 'header' | 'cookie';
  /** The session name. */
  readonly name: string;
}

/** Session configuration; the fields and defaults of h3's `SessionConfig`, plus a few. */
export interface SessionConfig {
  /**
   * The secret: a string of at least 32 characters, bytes, `{ id, secret }`, or for
   * rotation a map of them by id (`{ '2': newPassword, '1': oldPassword }`: the highest
   * numeric id seals, every id still in the map unseals).
   */
  password: PasswordInput;
  /** Session lifetime in seconds, counted from `createdAt`. @default undefined (no limit) */
  maxAge?: number | undefined;
  /**
   * Sliding lifetime in seconds, counted from the last time the session was sealed
   * (`lastSeenAt`), as h3 2.x: an active user stays signed in, an idle one is signed out.
   * A cookie session is resealed once more than half of the window has passed (a session
   * from the session header cannot slide). Works together with `maxAge`, which stays an
   * absolute cap. @default undefined (no idle limit)
   */
  idleTimeout?: number | undefined;
  /**
   * With iron iterations other than 1 (h3 2.x seals with 8192), a token that fails to
   * verify is tried once more at 1 iteration, the default of h3 1.x and vinxi, and resealed
   * at its first read: users keep their sessions across the switch. `false` refuses such
   * tokens. @default true
   */
  legacySealFallback?: boolean | undefined;
  /** Cookie name, and the session's name within a request. @default 'h3' */
  name?: string | undefined;
  /** Cookie attributes, spread over the defaults; `false` never writes a cookie. */
  cookie?: false | CookieOptions | undefined;
  /** Request header read before the cookie; `false` disables. @default `x-<name>-session` */
  sessionHeader?: false | string | undefined;
  /** iron options, merged over the defaults (`ttl` follows `maxAge`). */
  seal?: SealOptionsInput | undefined;
  /**
   * A Crypto whose `randomUUID` makes session ids (h3's option).
   * @default none: random UUID v4s drawn from the crypto backend's pool
   */
  crypto?: { randomUUID(): string } | undefined;
  /** Makes a new session id. @default crypto.randomUUID() */
  generateId?: (() => string) | undefined;
  /**
   * Called when a request carried a session token that was not usable (malformed,
   * tampered, expired, unknown password id, too large): the request goes on with a fresh
   * session, and this is where the reason stays observable (log it, count it).
   */
  onInvalidToken?: ((rejection: SessionRejection) => void) | undefined;
  /**
   * What this session's tokens are for, sealed into each of them: a token sealed for
   * another purpose is refused (`ERR_PURPOSE_MISMATCH`), so two sessions sharing a
   * password (a `pre` sign-in step and `auth`, say) never accept each other's tokens.
   * @default the session name
   */
  purpose?: string | undefined;
  /**
   * Accept tokens that carry no purpose: those sealed by h3, vinxi or an older version of
   * this package, so a migration keeps its users signed in. They are resealed with the
   * purpose at their next write. Set `false` once they are gone, to refuse them
   * (`ERR_PURPOSE_MISSING`).
   * @default true
   */
  acceptUnboundTokens?: boolean | undefined;
  /**
   * Called when a session write that nobody awaited failed (an un-awaited
   * `session.update()` whose response already went out, say). The failure never becomes
   * an unhandled rejection; this is where it stays visible.
   * @default logs it with console.error
   */
  onUnawaitedError?: ((error: unknown) => void) | undefined;
  /**
   * Keep sessions on the server: the cookie then holds only a sealed reference (the id,
   * the creation time, and whether a record was written), and the data lives in the
   * store, where it can be revoked (`revokeSession`, `revokeUserSessions`). `maxAge` and
   * `idleTimeout` are checked on every read from the record's own times; the store's TTL
   * only collects what ended. Needs `maxAge` or `idleTimeout`.
   * @default undefined (the session is sealed whole into the cookie)
   */
  store?: SessionStore | undefined;
  /**
   * The user a session belongs to, from its data (`(data) => data.userId`): sessions are
   * indexed under it, for `listSessions` and `revokeUserSessions`. A string or a number is
   * a user; anything else (undefined) is none. When it changes (a sign-in or a sign-out),
   * the session gets a new id, as OWASP advises at every change of privilege, and its old
   * record is deleted. Needs `store`.
   * @default undefined (no user index)
   */
  userKey?: ((data: SessionDataT) => unknown) | undefined;
}

/** A user, as `userKey` gives it: a non-empty string or a number. */
export type UserKey = string | number;

/** A live session of a user, as `listSessions` gives it. */
export interface SessionInfo {
  /** The session id (`session.id` in the session's own requests). */
  readonly id: string;
  /** Creation time, milliseconds since the epoch. */
  readonly createdAt: number;
  /** Last time the session was written or touched, milliseconds since the epoch. */
  readonly lastSeenAt: number;
}

/** Options of `revokeSession`. */
export interface RevokeSessionOptions {
  /**
   * Revoke the session only if it belongs to this user: for an id that comes from a
   * request ("sign out that device"), so that nobody signs out another user's session.
   */
  readonly userKey?: UserKey | undefined;
}

/** Options of `revokeUserSessions`. */
export interface RevokeUserSessionsOptions {
  /** Session ids to keep: "sign out everywhere else" passes the current session's id. */
  readonly except?: string | readonly string[] | undefined;
}

/** Flash messages: values kept for the next request that reads them, by key. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as SessionDataT: untyped by default
export type FlashDataT = Record<string, any>;

/**
 * What `useSession` returns: live accessors and the write operations. `id`, `createdAt` and
 * `data` are own enumerable properties, as on h3's manager, so spreading or serializing the
 * manager shows them.
 */
export interface SessionManager<
  T extends SessionDataT = SessionDataT,
  F extends FlashDataT = FlashDataT,
> {
  /** The session id; undefined after `clear()` until the session is used again. */
  readonly id: string | undefined;
  /** Creation time in milliseconds; undefined after `clear()`. */
  readonly createdAt: number | undefined;
  /** The data (an empty object after `clear()`). */
  readonly data: SessionData<T>;
  /** Merges `update` into the data and writes the cookie. */
  update(update?: SessionUpdate<T>): Promise<SessionManager<T, F>>;
  /** Ends the session: deletes the cookie; later reads in this request get a new session. */
  clear(): Promise<SessionManager<T, F>>;
  /** Keeps the data under a new id and creation time (call it after sign-in). */
  regenerate(): Promise<SessionManager<T, F>>;
  /**
   * Keeps `value` under `key` for the next request that reads it with `takeFlash` (a
   * message after a redirect, say), and writes the cookie.
   */
  flash<K extends keyof F & string>(key: K, value: F[K]): Promise<SessionManager<T, F>>;
  /**
   * The flash value under `key`, removed as it is read (the cookie is written without it);
   * undefined when there is none. Requests that carry the same cookie at the same time each
   * see it: "once" is once per cookie, which a stateless cookie cannot tighten.
   */
  takeFlash<K extends keyof F & string>(key: K): Promise<F[K] | undefined>;
}

/** Options of the Express and Hono middleware. */
export interface SessionMiddlewareOptions {
  /**
   * Write a new session's cookie on every request that lacks one, as `useSession` does,
   * so its id holds from the next request on. `false` writes it only once the session
   * changes (`update`, `regenerate`): routes that never touch the session stay free of
   * Set-Cookie (and cacheable), and a visitor's id is new on each request until then.
   * @default true
   */
  readonly saveUninitialized?: boolean | undefined;
  /**
   * Run each handler in an AsyncLocalStorage scope of its request, so the session functions
   * also work without the event (`useSession(config)`, as vinxi allows). Off by default, as
   * in vinxi and Nitro: on Node 20 and 22 an active AsyncLocalStorage slows every promise of
   * the process (see README, "Calls without the event").
   * @default false
   */
  readonly asyncContext?: boolean | undefined;
}
