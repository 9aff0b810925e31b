/**
 * The demo's session configuration: the cookie's name (`__Host-h3` over TLS, `h3`
 * otherwise), its lifetime, and whether it is Secure, decided per request.
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

/**
 * @typedef {object} SessionSettings
 * @property {string} cookieName - the session cookie's name on this server
 * @property {(event: HTTPEvent) => boolean} secureFor - whether the cookie is Secure for
 *   this request
 * @property {(event: HTTPEvent) => import('sealed-session').SessionConfig} configFor - the
 *   configuration to pass the session functions for this request
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
 * @param {{ password: string, tls: boolean, cookieSecure: 'auto' | boolean,
 *   trustProxy: boolean,
 *   onInvalidToken: (rejection: import('sealed-session').SessionRejection) => void }} options
 *   `tls`: this server listens with TLS itself
 * @returns {SessionSettings}
 */
export function createSessionSettings({ password, tls, cookieSecure, trustProxy, onInvalidToken }) {
  const cookieName = tls ? HTTPS_COOKIE_NAME : DEFAULT_NAME;
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

  /** @param {HTTPEvent} event */
  const secureFor = (event) =>
    cookieSecure === 'auto' ? isHttps(nodeRequestOf(event), trustProxy) : cookieSecure;

  return {
    cookieName,
    secureFor,
    configFor: (event) => (secureFor(event) ? secureConfig : plainConfig),
  };
}
