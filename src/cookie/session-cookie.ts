import { parseCookie, stringifySetCookie, type SerializeOptions } from 'cookie';
import type { CookieOptions } from '../session/types.js';

/**
 * Largest Set-Cookie header written, attributes included. RFC 6265 §6.1 only promises 4096
 * bytes per cookie; browsers drop larger ones silently, so we refuse to write them instead.
 */
export const MAX_SET_COOKIE_BYTES = 4096;

/** The value of cookie `name` in a Cookie request header (first occurrence), if any. */
export function readCookie(cookieHeader: string, name: string): string | undefined {
  // Cheap rejection before parsing: most requests of other apps carry no such cookie.
  if (!cookieHeader.includes(name)) return undefined;
  return parseCookie(cookieHeader)[name];
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

/** A Set-Cookie header that deletes cookie `name` (empty, Max-Age=0, expired). */
export function serializeDeletion(name: string, options: CookieOptions): string {
  return stringifySetCookie(name, '', {
    ...asSerializeOptions(options),
    maxAge: 0,
    expires: new Date(0),
  });
}
