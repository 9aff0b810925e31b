/**
 * The session tokens refused during the current request, so its page can say why the
 * visitor got a fresh session. The library's `onInvalidToken` hook receives no event, but
 * it runs inside the request's async context, so AsyncLocalStorage ties each rejection to
 * its request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** @typedef {{ code: string, source: string, name: string }} Rejection - `name`: the session's */

/** The error code of a cookie sent more than once: a warning, the first one was used. */
const DUPLICATE = 'ERR_COOKIE_DUPLICATE';

/** @type {AsyncLocalStorage<{ rejections: Rejection[] }>} */
const requestStore = new AsyncLocalStorage();

/**
 * Runs `callback` (one request) with an empty list of rejections of its own.
 *
 * @param {() => void} callback
 */
export function withRequestNotes(callback) {
  requestStore.run({ rejections: [] }, callback);
}

/**
 * Notes a rejection for the current request; outside one (no request), it is dropped.
 *
 * @param {Rejection} rejection
 */
export function noteRejection(rejection) {
  requestStore.getStore()?.rejections.push(rejection);
}

/** @returns {Rejection[]} every rejection of the current request, duplicates included */
export function rejections() {
  return requestStore.getStore()?.rejections ?? [];
}

/**
 * The rejections that cost the request its token (a duplicate still used the first), of
 * every session or only of the session named `name`.
 *
 * @param {string} [name]
 * @returns {Rejection[]}
 */
export function refusals(name) {
  return rejections().filter(
    (entry) => entry.code !== DUPLICATE && (name === undefined || entry.name === name),
  );
}
