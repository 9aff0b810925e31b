/**
 * sealed-session: the `vinxi/http` (h3) session API over sealed iron Fe26.2 cookies.
 *
 * Every function takes an event from sealed-session's adapters, an h3 1.x event (vinxi,
 * Nitro, Nuxt) or an h3 2.x event, and a {@link SessionConfig}.
 */
import type { AnyHTTPEvent } from './http/event.js';
import { requestContextOf } from './http/resolve.js';
import type { RequestContext } from './session/request-state.js';
import { sessionEngine as engine } from './session/session-engine.js';
import type {
  Session,
  SessionConfig,
  SessionDataT,
  SessionManager,
  SessionUpdate,
} from './session/types.js';

/** Runs `operation` on the request of `event`; an unsupported event rejects, never throws. */
function onRequest<T>(
  event: AnyHTTPEvent,
  operation: (request: RequestContext) => Promise<T>,
): Promise<T> {
  try {
    return operation(requestContextOf(event));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The request's session with live accessors and `update`, `clear`, `regenerate`. A new
 * session gets its cookie now, so its id holds from the next request on; an unchanged
 * existing session writes nothing (unless sealed under a rotated-out password id: then
 * it is resealed with the current one).
 *
 * @param event - the request's event
 * @param config - the session configuration (define it once and reuse it)
 * @throws SessionError `ERR_PASSWORD_INVALID`, `ERR_CONFIG_INVALID` for a bad config;
 *   `ERR_HEADERS_SENT` when a new session cannot be written any more. A bad token never
 *   throws: it gives a fresh session and calls `config.onInvalidToken`.
 */
export function useSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
): Promise<SessionManager<T>> {
  return onRequest(event, (request) => engine.useSession<T>(request, config));
}

/**
 * The request's session, read from the session header or the cookie (once per request,
 * however many callers). A missing or unusable token gives a new session, which this
 * function does not write (use `useSession` or `updateSession` for that).
 *
 * @throws SessionError `ERR_PASSWORD_INVALID`, `ERR_CONFIG_INVALID`
 */
export function getSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
): Promise<Session<T>> {
  return onRequest(event, (request) => engine.getSession<T>(request, config));
}

/**
 * Merges `update` into the session data and writes the cookie.
 *
 * @param update - an object to shallow-merge, or a function that gets the data, may mutate
 *   it and may return an object to merge
 * @throws SessionError `ERR_DATA_INVALID` (data JSON cannot hold), `ERR_COOKIE_TOO_LARGE`
 *   (the cookie would pass 4096 bytes), `ERR_HEADERS_SENT`, config errors
 */
export function updateSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
  update?: SessionUpdate<T>,
): Promise<Session<T>> {
  return onRequest(event, (request) => engine.updateSession<T>(request, config, update));
}

/**
 * Ends the session: the cookie is deleted (`Max-Age=0`) and later reads in this request
 * start a new session instead of reviving the old one from the request's cookie.
 *
 * @throws SessionError `ERR_HEADERS_SENT`, config errors
 */
export function clearSession(event: AnyHTTPEvent, config: SessionConfig): Promise<void> {
  return onRequest(event, (request) => engine.clearSession(request, config));
}

/**
 * Keeps the session data under a new id and creation time, and writes the cookie. Call it
 * when privileges change (sign-in) so a planted session id is worthless.
 */
export function regenerateSession<T extends SessionDataT = SessionDataT>(
  event: AnyHTTPEvent,
  config: SessionConfig,
): Promise<Session<T>> {
  return onRequest(event, (request) => engine.regenerateSession<T>(request, config));
}

/**
 * Seals the request's session into a token (to hand to a client that sends it back in
 * the session header, say).
 */
export function sealSession(event: AnyHTTPEvent, config: SessionConfig): Promise<string> {
  return onRequest(event, (request) => engine.sealSession(request, config));
}

/**
 * Opens a session token with this configuration.
 *
 * @param _event - unused; kept for h3's signature
 * @throws SessionError `ERR_SEAL_INVALID`, `ERR_SEAL_UNSEAL_FAILED`, `ERR_SEAL_EXPIRED`,
 *   `ERR_PASSWORD_NOT_FOUND`, `ERR_SESSION_EXPIRED`, `ERR_COOKIE_INVALID`,
 *   `ERR_COOKIE_TOO_LARGE`, `ERR_DATA_INVALID`
 */
export function unsealSession(
  _event: AnyHTTPEvent | undefined,
  config: SessionConfig,
  sealed: string,
): Promise<Session> {
  return engine.unsealSession(config, sealed);
}

export { eventHandler, defineEventHandler, type EventHandler } from './http/handler.js';
export type { HTTPEvent, AnyHTTPEvent, H3EventLike, H3V2EventLike } from './http/event.js';
export type {
  CookieOptions,
  Session,
  SessionConfig,
  SessionData,
  SessionDataT,
  SessionManager,
  SessionMiddlewareOptions,
  SessionRejection,
  SessionUpdate,
} from './session/types.js';
export { DEFAULT_COOKIE, DEFAULT_NAME, MIN_PASSWORD_LENGTH } from './session/config.js';
export { SessionError, isSessionError, type SessionErrorCode } from './errors.js';
