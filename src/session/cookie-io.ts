/**
 * The session's cookie and header I/O over a request's {@link SessionTransport}: which
 * token a request carries (the session header first, then the cookie), and writing or
 * deleting the session cookie. The token codec knows nothing of this; a store or cookie
 * chunking replaces one side without touching the other.
 */
import { SessionError } from '../errors.js';
import {
  MAX_SET_COOKIE_BYTES,
  readCookieValues,
  serializeDeletion,
  serializeToken,
} from '../cookie/session-cookie.js';
import type { ResolvedConfig } from './config.js';
import type { SessionTransport } from './transport.js';

/** The session cookie's values in the request, in the order sent (usually none or one). */
export function requestCookieTokens(transport: SessionTransport, config: ResolvedConfig): string[] {
  const header = transport.getRequestHeader('cookie');
  return header === undefined ? [] : readCookieValues(header, config.name);
}

/** The session header's token, or undefined when the header is disabled, absent or empty. */
export function requestHeaderToken(
  transport: SessionTransport,
  config: ResolvedConfig,
): string | undefined {
  if (config.sessionHeader === false) return undefined;
  const token = transport.getRequestHeader(config.sessionHeader);
  return token === '' ? undefined : token;
}

/** @throws SessionError `ERR_HEADERS_SENT` once the response head has gone out */
export function assertWritable(transport: SessionTransport): void {
  if (transport.headersSent()) {
    throw new SessionError(
      'ERR_HEADERS_SENT',
      'The response headers were already sent; the session cannot be written',
    );
  }
}

/**
 * Sets the session cookie to `token`.
 *
 * @param expiresAt - when the session ends (ms since the epoch), or undefined
 * @throws SessionError `ERR_HEADERS_SENT`; `ERR_COOKIE_TOO_LARGE` when the header would pass
 *   4096 bytes (browsers drop such cookies silently)
 */
export function writeTokenCookie(
  transport: SessionTransport,
  config: ResolvedConfig,
  token: string,
  expiresAt: number | undefined,
  now: number,
): void {
  const { cookie, cookieTemplate } = config;
  if (cookie === false || cookieTemplate === undefined) return;
  assertWritable(transport);
  const header = serializeToken(cookieTemplate, token, expiresAt, now);
  if (header.length > MAX_SET_COOKIE_BYTES) {
    throw new SessionError(
      'ERR_COOKIE_TOO_LARGE',
      `The session cookie would exceed ${MAX_SET_COOKIE_BYTES} bytes; browsers would drop it`,
    );
  }
  transport.setCookie(header, { name: config.name, domain: cookie.domain, path: cookie.path });
}

/** Deletes the session cookie (empty, `Max-Age=0`). @throws SessionError `ERR_HEADERS_SENT` */
export function deleteTokenCookie(transport: SessionTransport, config: ResolvedConfig): void {
  const { cookie } = config;
  if (cookie === false) return;
  assertWritable(transport);
  transport.setCookie(serializeDeletion(config.name, cookie), {
    name: config.name,
    domain: cookie.domain,
    path: cookie.path,
  });
}
