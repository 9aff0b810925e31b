/**
 * sealed-session: the `vinxi/http` (h3) session API over sealed iron Fe26.2 cookies.
 *
 * Every function takes an event from sealed-session's adapters, an h3 1.x event (vinxi,
 * Nitro, Nuxt) or an h3 2.x event, and a {@link SessionConfig}; inside a request run by
 * this package's adapters or middleware, or by Nitro or vinxi with async context on, the
 * event may be left out, as vinxi allows.
 */
import type { AnyHTTPEvent } from './host/event.js';
import { currentRequestContext, requestContextOf } from './host/resolve.js';
import type { RequestContext } from './session/request-state.js';
import { sessionEngine as engine } from './session/session-engine.js';
import type {
  FlashDataT,
  RevokeSessionOptions,
  RevokeUserSessionsOptions,
  Session,
  SessionConfig,
  SessionDataT,
  SessionInfo,
  SessionManager,
  SessionUpdate,
  UserKey,
} from './session/types.js';

/** A session configuration, told apart from an event: only a configuration has `password`. */
function isConfig(value: unknown): value is SessionConfig {
  return typeof value === 'object' && value !== null && 'password' in value;
}

/**
 * Runs `operation` on the request of a call's arguments: `(event, config, ...rest)` or,
 * without the event, `(config, ...rest)` on the request in scope. An unsupported event or
 * a call outside any request rejects, never throws.
 */
function onRequest<T>(
  args: readonly unknown[],
  operation: (
    request: RequestContext,
    config: SessionConfig,
    rest: readonly unknown[],
  ) => Promise<T>,
): Promise<T> {
  try {
    if (isConfig(args[0])) return operation(currentRequestContext(), args[0], args.slice(1));
    return operation(
      requestContextOf(args[0] as AnyHTTPEvent),
      args[1] as SessionConfig,
      args.slice(2),
    );
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The request's session with live accessors and `update`, `clear`, `regenerate`, `flash`,
 * `takeFlash`. A new session gets its cookie now, so its id holds from the next request
 * on; an unchanged existing session writes nothing, unless the write policy renews it (a
 * rotated-out password id, a legacy 1-iteration seal, an idle window half gone).
 *
 * The event may be left out inside a request run by this package's adapters or
 * middleware, or by Nitro or vinxi with async context on: `useSession(config)`.
 *
 * @param event - the request's event
 * @param config - the session configuration (define it once and reuse it)
 * @throws SessionError `ERR_PASSWORD_INVALID`, `ERR_CONFIG_INVALID` for a bad config;
 *   `ERR_HEADERS_SENT` when a new session cannot be written any more; `ERR_EVENT_MISSING`
 *   without an event outside a request. A bad token never throws: it gives a fresh
 *   session and calls `config.onInvalidToken`.
 */
export function useSession<
  T extends SessionDataT = SessionDataT,
  F extends FlashDataT = FlashDataT,
>(config: SessionConfig): Promise<SessionManager<T, F>>;
export function useSession<
  T extends SessionDataT = SessionDataT,
  F extends FlashDataT = FlashDataT,
>(event: AnyHTTPEvent, config: SessionConfig): Promise<SessionManager<T, F>>;
export function useSession<T extends SessionDataT, F extends FlashDataT>(
  ...args: unknown[]
): Promise<SessionManager<T, F>> {
  return onRequest(
    args,
    (request, config) => engine.useSession<T>(request, config) as Promise<SessionManager<T, F>>,
  );
}

/**
 * The request's session, read from the session header or the cookie (once per request,
 * however many callers). A missing or unusable token gives a new session, which this
 * function does not write (use `useSession` or `updateSession` for that); an existing one
 * is renewed when the write policy says so. The event may be left out as for `useSession`.
 *
 * @throws SessionError `ERR_PASSWORD_INVALID`, `ERR_CONFIG_INVALID`, `ERR_EVENT_MISSING`
 */
export function getSession<T extends SessionDataT = SessionDataT>(
  config: SessionConfig,
): Promise<Session<T>>;
export function getSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
): Promise<Session<T>>;
export function getSession<T extends SessionDataT>(...args: unknown[]): Promise<Session<T>> {
  return onRequest(args, (request, config) => engine.getSession<T>(request, config));
}

/**
 * Merges `update` into the session data and writes the cookie; the data changes only once
 * the write succeeded. The event may be left out as for `useSession`.
 *
 * @param update - an object to shallow-merge, or a function that gets a copy of the data,
 *   may change it and may return an object to merge
 * @throws SessionError `ERR_DATA_INVALID` (data JSON cannot hold), `ERR_COOKIE_TOO_LARGE`
 *   (more than 100 cookies of 4096 bytes), `ERR_HEADERS_SENT`, config errors
 */
export function updateSession<T extends SessionDataT = SessionDataT>(
  config: SessionConfig,
  update?: SessionUpdate<T>,
): Promise<Session<T>>;
export function updateSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
  update?: SessionUpdate<T>,
): Promise<Session<T>>;
export function updateSession<T extends SessionDataT>(...args: unknown[]): Promise<Session<T>> {
  return onRequest(args, (request, config, [update]) =>
    engine.updateSession<T>(request, config, update as SessionUpdate<T> | undefined),
  );
}

/**
 * Ends the session: the cookie (and every chunk of it) is deleted (`Max-Age=0`), later
 * reads in this request start a new session instead of reviving the old one from the
 * request's cookie, and a write called before it never lands after it. The event may be
 * left out as for `useSession`.
 *
 * @throws SessionError `ERR_HEADERS_SENT`, config errors
 */
export function clearSession(config: SessionConfig): Promise<void>;
export function clearSession(event: AnyHTTPEvent, config: SessionConfig): Promise<void>;
export function clearSession(...args: unknown[]): Promise<void> {
  return onRequest(args, (request, config) => engine.clearSession(request, config));
}

/**
 * Keeps the session data under a new id and creation time, and writes the cookie. Call it
 * when privileges change (sign-in) so a planted session id is worthless.
 */
export function regenerateSession<T extends SessionDataT = SessionDataT>(
  config: SessionConfig,
): Promise<Session<T>>;
export function regenerateSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
): Promise<Session<T>>;
export function regenerateSession<T extends SessionDataT>(...args: unknown[]): Promise<Session<T>> {
  return onRequest(args, (request, config) => engine.regenerateSession<T>(request, config));
}

/**
 * Seals the request's session into a token (to hand to a client that sends it back in
 * the session header, say), after the writes already called in the request.
 */
export function sealSession(config: SessionConfig): Promise<string>;
export function sealSession(event: AnyHTTPEvent, config: SessionConfig): Promise<string>;
export function sealSession(...args: unknown[]): Promise<string> {
  return onRequest(args, (request, config) => engine.sealSession(request, config));
}

/**
 * Opens a session token with this configuration. The event is not needed (h3's signature
 * takes one; both forms work).
 *
 * @throws SessionError `ERR_SEAL_INVALID`, `ERR_SEAL_UNSEAL_FAILED`, `ERR_SEAL_EXPIRED`,
 *   `ERR_PASSWORD_NOT_FOUND`, `ERR_PURPOSE_MISMATCH`, `ERR_PURPOSE_MISSING`,
 *   `ERR_SESSION_EXPIRED`, `ERR_DERIVATION_LIMIT`, `ERR_COOKIE_INVALID`,
 *   `ERR_COOKIE_TOO_LARGE`, `ERR_DATA_INVALID`
 */
export function unsealSession(config: SessionConfig, sealed: string): Promise<Session>;
export function unsealSession(
  event: AnyHTTPEvent | undefined,
  config: SessionConfig,
  sealed: string,
): Promise<Session>;
export function unsealSession(...args: unknown[]): Promise<Session> {
  return isConfig(args[0])
    ? engine.unsealSession(args[0], args[1] as string)
    : engine.unsealSession(args[1] as SessionConfig, args[2] as string);
}

/**
 * Keeps `value` under flash key `key` for the next request that reads it with
 * `takeFlash` (a message after a redirect, say), and writes the session.
 */
export function setFlash(config: SessionConfig, key: string, value: unknown): Promise<void>;
export function setFlash(
  event: AnyHTTPEvent,
  config: SessionConfig,
  key: string,
  value: unknown,
): Promise<void>;
export function setFlash(...args: unknown[]): Promise<void> {
  return onRequest(args, (request, config, [key, value]) =>
    engine.setFlash(request, config, key as string, value),
  );
}

/**
 * The flash value under `key`, removed as it is read (the session is written without
 * it); undefined when there is none. Parallel requests carrying the same cookie each see
 * it: "once" is once per cookie.
 */
export function takeFlash<V = unknown>(config: SessionConfig, key: string): Promise<V | undefined>;
export function takeFlash<V = unknown>(
  event: AnyHTTPEvent,
  config: SessionConfig,
  key: string,
): Promise<V | undefined>;
export function takeFlash<V>(...args: unknown[]): Promise<V | undefined> {
  return onRequest(
    args,
    (request, config, [key]) =>
      engine.takeFlash(request, config, key as string) as Promise<V | undefined>,
  );
}

/**
 * The live sessions of a user in the config's store (needs `store` and `userKey`): each
 * one's id, creation time and last activity, oldest first. For a "your devices" page.
 *
 * @param config - the session config, with a store
 * @param userKey - the user, as the config's `userKey` gives it from session data
 * @throws SessionError `ERR_CONFIG_INVALID` (no store, not a user key), `ERR_STORE_UNAVAILABLE`
 */
export function listSessions(config: SessionConfig, userKey: UserKey): Promise<SessionInfo[]> {
  return engine.listSessions(config, userKey);
}

/**
 * Revokes one session: deletes its record, so its next request, on any process, gets a
 * fresh session ("sign out this device"). Nothing happens for a session that is gone.
 *
 * @param config - the session config, with a store
 * @param sessionId - an id from `listSessions` or `session.id`
 * @param options - `userKey`: revoke only a session of this user (pass the signed-in
 *   user when the id comes from a request)
 * @returns whether a live session was revoked
 * @throws SessionError `ERR_CONFIG_INVALID`, `ERR_STORE_UNAVAILABLE`
 */
export function revokeSession(
  config: SessionConfig,
  sessionId: string,
  options?: RevokeSessionOptions,
): Promise<boolean> {
  return engine.revokeSession(config, sessionId, options);
}

/**
 * Revokes every session of a user ("sign out everywhere"), in one atomic step on Redis,
 * except the ids in `options.except` ("everywhere else": pass the current `session.id`).
 *
 * @param config - the session config, with a store and `userKey`
 * @param userKey - the user
 * @param options - `except`: session ids to keep
 * @returns how many sessions were revoked
 * @throws SessionError `ERR_CONFIG_INVALID`, `ERR_STORE_UNAVAILABLE`
 */
export function revokeUserSessions(
  config: SessionConfig,
  userKey: UserKey,
  options?: RevokeUserSessionsOptions,
): Promise<number> {
  return engine.revokeUserSessions(config, userKey, options);
}

export { memoryStore, type MemoryStoreOptions } from './store/memory.js';
export type { SessionStore, StoreChange, StoredRecord, StoredSessionInfo } from './store/store.js';
export { eventHandler, defineEventHandler, type EventHandler } from './handler/handler.js';
export type { HTTPEvent, AnyHTTPEvent, H3EventLike, H3V2EventLike } from './host/event.js';
export type {
  CookieOptions,
  FlashDataT,
  Session,
  SessionConfig,
  SessionData,
  SessionDataT,
  SessionManager,
  SessionMiddlewareOptions,
  SessionRejection,
  SessionUpdate,
  SessionInfo,
  UserKey,
  RevokeSessionOptions,
  RevokeUserSessionsOptions,
} from './session/types.js';
export { DEFAULT_COOKIE, DEFAULT_NAME, MIN_PASSWORD_LENGTH } from './session/config.js';
export { SessionError, isSessionError, type SessionErrorCode } from './errors.js';
