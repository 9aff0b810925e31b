/**
 * The demo's session configurations, decided per request: the cookie session of the main
 * pages (`__Host-h3` over TLS, `h3` otherwise), and the account area's session kept in a
 * server-side store (`__Host-demo-auth` over TLS, `demo-auth` otherwise), each with its
 * lifetime and whether its cookie is Secure.
 */
import { DEFAULT_NAME } from 'sealed-session';
import { isHttps, nodeRequestOf } from './http.mjs';

/** @typedef {import('sealed-session/node').HTTPEvent} HTTPEvent */

/** Session lifetime in seconds, counted from createdAt (sign-in restarts it). */
export const MAX_AGE = 60 * 60;

/**
 * The session cookie's name over HTTPS. `__Host-`: browsers keep such a cookie only when it
 * is Secure, has Path=/ and no Domain, so no other subdomain of the site can plant one in
 * its place (cookie tossing).
 */
export const HTTPS_COOKIE_NAME = `__Host-${DEFAULT_NAME}`;

/** The account area's session name over plain HTTP (and behind a TLS proxy). */
export const AUTH_COOKIE_NAME = 'demo-auth';

/** The account area's session name over HTTPS: `__Host-`, as {@link HTTPS_COOKIE_NAME}. */
export const HTTPS_AUTH_COOKIE_NAME = `__Host-${AUTH_COOKIE_NAME}`;

/** The account area's absolute lifetime in seconds, counted from sign-in. */
export const AUTH_MAX_AGE = 8 * 60 * 60;

/**
 * The account area's idle lifetime in seconds: a device unused for this long is signed
 * out. It also makes "last seen" on the Devices page mean something: a session's record
 * is touched once more than half of the window has passed since its last write or touch.
 */
export const AUTH_IDLE_TIMEOUT = 30 * 60;

/**
 * @typedef {object} SessionSettings
 * @property {string} cookieName - the session cookie's name on this server
 * @property {(event: HTTPEvent) => boolean} secureFor - whether the cookie is Secure for
 *   this request
 * @property {(event: HTTPEvent) => import('sealed-session').SessionConfig} configFor - the
 *   configuration to pass the session functions for this request
 * @property {string} authCookieName - the account area's cookie name on this server
 * @property {(event: HTTPEvent) => import('sealed-session').SessionConfig} authConfigFor -
 *   the account area's configuration for this request: store mode, with a user index
 */

/**
 * Secure cookies and plain http://localhost: Chromium and Firefox treat http://localhost
 * as a secure context and keep Secure cookies set over it; Safari does not, and drops
 * them, so a demo that always sets Secure loses its session on every request in Safari.
 * On any other plain-HTTP host every browser drops Secure cookies. So by default ('auto')
 * the cookie is Secure exactly when the request came over HTTPS (a TLS socket, or
 * X-Forwarded-Proto: https behind a trusted proxy): that works in every browser and never
 * sends the session in clear text once the site is served over HTTPS. COOKIE_SECURE=true
 * / false forces it. The two configurations are built once: the library caches its
 * validation per config object.
 *
 * The name: over HTTPS (a TLS socket here) the cookie is `__Host-h3`, which a sibling
 * subdomain cannot plant. Plain HTTP keeps `h3`: browsers accept `__Host-` only on a
 * Secure cookie, and the point above is that plain HTTP cannot rely on Secure. Behind a
 * TLS proxy (trustProxy) it stays `h3` as well: that listener may also be reached over
 * plain HTTP, and a name that changed with the scheme would drop the session.
 *
 * The account area (the Devices page) is a second session, with its own cookie and name,
 * kept in `store`: the cookie holds only a sealed reference to the session's record, and
 * `userKey` indexes the records by user, so a user's sessions can be listed and revoked.
 * Its name is its purpose too (the default), so neither session accepts the other's
 * tokens although they share the password. Its cookie is SameSite=Lax and its forms are
 * checked for their Origin (app.mjs), the demo's defence against cross-site form posts.
 *
 * @param {{ password: string, tls: boolean, cookieSecure: 'auto' | boolean,
 *   trustProxy: boolean, store: import('sealed-session').SessionStore,
 *   onInvalidToken: (rejection: import('sealed-session').SessionRejection) => void }} options
 *   `tls`: this server listens with TLS itself; `store`: the account area's session store
 * @returns {SessionSettings}
 */
export function createSessionSettings({
  password,
  tls,
  cookieSecure,
  trustProxy,
  store,
  onInvalidToken,
}) {
  const cookieName = tls ? HTTPS_COOKIE_NAME : DEFAULT_NAME;
  const authCookieName = tls ? HTTPS_AUTH_COOKIE_NAME : AUTH_COOKIE_NAME;
  /** @type {(secure: boolean) => import('sealed-session').SessionConfig} */
  const makeConfig = (secure) =>
    Object.freeze({
      password,
      name: cookieName,
      maxAge: MAX_AGE,
      cookie: { secure, httpOnly: true, sameSite: /** @type {const} */ ('lax'), path: '/' },
      onInvalidToken,
    });
  const secureConfig = makeConfig(true);
  // Over TLS every request is secure; a `__Host-` config without Secure would be invalid.
  const plainConfig = tls ? secureConfig : makeConfig(false);
  /** @type {(secure: boolean) => import('sealed-session').SessionConfig} */
  const makeAuthConfig = (secure) =>
    Object.freeze({
      password,
      name: authCookieName,
      maxAge: AUTH_MAX_AGE,
      idleTimeout: AUTH_IDLE_TIMEOUT,
      cookie: { secure, httpOnly: true, sameSite: /** @type {const} */ ('lax'), path: '/' },
      store,
      // A new id at every change of user (sign-in, sign-out), and the index of the
      // Devices page.
      userKey: (/** @type {import('sealed-session').SessionDataT} */ data) => data.user,
      onInvalidToken,
    });
  const secureAuthConfig = makeAuthConfig(true);
  const plainAuthConfig = tls ? secureAuthConfig : makeAuthConfig(false);

  /** @param {HTTPEvent} event */
  const secureFor = (event) =>
    cookieSecure === 'auto' ? isHttps(nodeRequestOf(event), trustProxy) : cookieSecure;

  return {
    cookieName,
    secureFor,
    configFor: (event) => (secureFor(event) ? secureConfig : plainConfig),
    authCookieName,
    authConfigFor: (event) => (secureFor(event) ? secureAuthConfig : plainAuthConfig),
  };
}
