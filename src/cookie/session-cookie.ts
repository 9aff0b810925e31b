/**
 * The session cookie on the wire: reading its values from a Cookie header, and writing
 * its Set-Cookie header (prepared once per configuration, then only the token and expiry
 * per write) or its deletion.
 */
import { stringifySetCookie, type SerializeOptions } from 'cookie';
import type { CookieOptions } from './cookie-options.js';

/**
 * Largest Set-Cookie header written, attributes included. RFC 6265 §6.1 only promises 4096
 * bytes per cookie; browsers drop larger ones silently, so we refuse to write them instead.
 */
export const MAX_SET_COOKIE_BYTES = 4096;

/**
 * Every value of cookie `name` in a Cookie request header, in the order sent. Browsers send
 * a cookie once per (domain, path) it was set for, so more than one value means another
 * site of the same parent domain, or another path, set one too (cookie tossing).
 */
export function readCookieValues(cookieHeader: string, name: string): string[] {
  // Cheap rejection before splitting: most requests of other apps carry no such cookie.
  if (!cookieHeader.includes(name)) return [];
  const values: string[] = [];
  // RFC 6265 §4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair ), and
  // cookie-pair = cookie-name "=" cookie-value; whitespace around the parts is tolerated
  // as every server parser does. The pairs are walked in place rather than split: the
  // split's array and a string per pair were a visible share of reading a session (the
  // same pairs as `split(';')`, in one linear pass).
  const length = cookieHeader.length;
  let equals = -1;
  for (let start = 0; start < length;) {
    let end = cookieHeader.indexOf(';', start);
    if (end < 0) end = length;
    // The next "=" at or after `start`, searched again only once passed: linear in all.
    if (equals < start && equals !== -2) {
      equals = cookieHeader.indexOf('=', start);
      if (equals < 0) equals = -2;
    }
    if (equals >= 0 && equals < end && cookieHeader.slice(start, equals).trim() === name) {
      values.push(decodeValue(cookieHeader.slice(equals + 1, end).trim()));
    }
    start = end + 1;
  }
  return values;
}

/**
 * The first value of each cookie in a Cookie request header, by name: for reading the
 * chunks of a chunked cookie with one pass over the header.
 */
export function readCookieMap(cookieHeader: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of cookieHeader.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    const name = pair.slice(0, equals).trim();
    if (!cookies.has(name)) cookies.set(name, decodeValue(pair.slice(equals + 1).trim()));
  }
  return cookies;
}

/** A cookie value as the cookie package reads it: percent-decoded when it can be. */
function decodeValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// Resolved options never hold undefined values (the config drops them), which is what the
// cookie package's exact optional types ask for.
const asSerializeOptions = (options: CookieOptions): SerializeOptions =>
  options as SerializeOptions;

// Fe26.2 tokens are base64url, digits, "." and "*": all cookie-octets (RFC 6265 §4.1.1),
// so they are written as they are (percent-encoding would only cost time and match h3's
// output anyway, since encodeURIComponent leaves these characters alone).
const asIs = (value: string): string => value;

/** A Set-Cookie header for `name=value` with `options`. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return stringifySetCookie(name, value, { ...asSerializeOptions(options), encode: asIs });
}

/**
 * A session cookie's Set-Cookie header, prepared once per configuration: the cookie
 * package serializes (and so validates) the fixed attributes when the config is resolved,
 * and each write only adds the token and its expiry. Serializing every attribute on every
 * write was a tenth of a session write's cost.
 */
export interface CookieTemplate {
  readonly name: string;
  /** The fixed attributes, each with its leading "; ". */
  readonly attributes: string;
  /** The configuration sets Expires or Max-Age itself: no per-write expiry. */
  readonly fixedExpiry: boolean;
}

/**
 * Prepares the Set-Cookie header of cookie `name` with `options`.
 *
 * @throws TypeError from the cookie package when an attribute breaks RFC 6265
 */
export function compileCookie(name: string, options: CookieOptions): CookieTemplate {
  const header = serializeCookie(name, '', options);
  return {
    name,
    attributes: header.slice(name.length + 1),
    fixedExpiry: options.expires !== undefined || options.maxAge !== undefined,
  };
}

/**
 * The Set-Cookie header for a token. `token` must be cookie-octets (an Fe26.2 token is:
 * base64url, digits, "." and "*"), which is why it is not checked again here.
 *
 * @param expiresAt - when the session ends (ms since the epoch), or undefined for a
 *   browser-session cookie
 * @param now - the current time, from which Max-Age counts
 */
export function serializeToken(
  template: CookieTemplate,
  token: string,
  expiresAt: number | undefined,
  now: number = Date.now(),
): string {
  if (expiresAt === undefined || template.fixedExpiry) {
    return `${template.name}=${token}${template.attributes}`;
  }
  const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
  return `${template.name}=${token}; Max-Age=${maxAge}; Expires=${httpDate(expiresAt)}${template.attributes}`;
}

// The last Expires date written, by its second: a session's end stays the same from write
// to write (createdAt + maxAge), and formatting a Date was over a microsecond of each
// write, about as much as the rest of the header.
let lastSecond = NaN;
let lastDate = '';

/** `new Date(time).toUTCString()`, the date of the second `time` falls in. */
function httpDate(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== lastSecond) {
    lastDate = new Date(time).toUTCString();
    lastSecond = second;
  }
  return lastDate;
}

/** A Set-Cookie header that deletes cookie `name` (empty, Max-Age=0, expired). */
export function serializeDeletion(name: string, options: CookieOptions): string {
  return stringifySetCookie(name, '', {
    ...asSerializeOptions(options),
    maxAge: 0,
    expires: new Date(0),
  });
}
