/**
 * What the /cookie page shows about the session cookie the browser sent: its value, read
 * with the `cookie` package's parser as the library reads it, and what anyone holding the
 * token can read without the password, from the package's own `inspectToken`.
 */
import { parseCookie } from 'cookie';
import { inspectToken, isSessionError } from 'sealed-session/iron';

/**
 * The value of cookie `name` in a `Cookie` request header, as the server reads it: the
 * first one sent (browsers send the one of the longest path first), percent-decoded when
 * it can be. Undefined when the header does not carry it.
 *
 * @param {string | undefined} header
 * @param {string} name
 * @returns {string | undefined}
 */
export function readCookie(header, name) {
  return header === undefined ? undefined : parseCookie(header)[name];
}

/**
 * How many times cookie `name` came in a `Cookie` request header. The cookie package
 * keeps only the first of each name, as every server does, so the copies are counted by
 * parsing each `;`-separated pair with it on its own: the pairs are the header's grammar,
 * the parser still decides what a name is.
 *
 * @param {string | undefined} header
 * @param {string} name
 */
export function countCookie(header, name) {
  if (header === undefined) return 0;
  return header.split(';').filter((pair) => parseCookie(pair)[name] !== undefined).length;
}

/**
 * The public fields of a session token, or undefined when it is not an Fe26.2 token.
 * Nothing in them is verified: only unsealing with the password tells a token authentic.
 *
 * @param {string} token - a cookie value, already percent-decoded
 * @param {string} cookieName - the cookie it came in, for the size check
 * @returns {import('sealed-session/iron').TokenInspection | undefined}
 */
export function describeToken(token, cookieName) {
  try {
    return inspectToken(token, { cookieName });
  } catch (error) {
    // The page says the cookie is not shaped like a token; any other error is a bug.
    if (isSessionError(error) && error.code === 'ERR_SEAL_INVALID') return undefined;
    throw error;
  }
}
