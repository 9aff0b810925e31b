/**
 * The session's cookie and header I/O over a request's {@link SessionTransport}: which
 * token a request carries (the session header first, then the cookie), and writing or
 * deleting the session cookie. The token codec knows nothing of this; a store replaces
 * the codec without touching this file.
 *
 * A session larger than one cookie is split into chunks in h3 2.x's format, so the two
 * read each other's: `name=__chunked__N` and `name.1` ... `name.N`, all with the same
 * attributes, at most 100. A rewrite deletes chunks the browser still holds beyond the
 * new count; a deletion deletes them all.
 */
import { SessionError } from '../errors.js';
import {
  MAX_SET_COOKIE_BYTES,
  readCookieMap,
  readCookieValues,
  serializeDeletion,
  serializeToken,
  type CookieTemplate,
} from '../cookie/session-cookie.js';
import type { ResolvedConfig } from './config.js';
import type { SessionState } from './request-state.js';
import type { SessionTransport } from './transport.js';

/** The value of the main cookie of a chunked session: this prefix, then the count. */
const CHUNKED_PREFIX = '__chunked__';
/** Most chunks a session cookie may have (h3 2.x's bound). */
export const MAX_CHUNKS = 100;

/** The name of chunk `index` (from 1) of cookie `name`. */
const chunkName = (name: string, index: number): string => `${name}.${index}`;

/**
 * The chunk count of a chunked cookie's main value (`__chunked__N`): h3 2.x's rule, a
 * decimal integer from 1 to 100; undefined when the value is not one.
 */
function chunkCount(value: string): number | undefined {
  if (!value.startsWith(CHUNKED_PREFIX)) return undefined;
  const text = value.slice(CHUNKED_PREFIX.length);
  const count = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  return count >= 1 && count <= MAX_CHUNKS ? count : undefined;
}

/** What the request's session cookie holds. */
export interface RequestCookie {
  /** The token (chunks joined), or undefined when there is none. */
  readonly token: string | undefined;
  /** The session cookie came more than once. */
  readonly duplicated: boolean;
  /** Why a chunked cookie could not be put together, if it could not. */
  readonly invalid: SessionError | undefined;
}

const NO_COOKIE: RequestCookie = { token: undefined, duplicated: false, invalid: undefined };

/**
 * Reads the session cookie, putting chunks together; records in `state` how many chunks
 * the browser holds, so a later write or deletion can remove those it no longer needs.
 */
export function readSessionCookie(
  transport: SessionTransport,
  config: ResolvedConfig,
  state: SessionState,
): RequestCookie {
  const header = transport.getRequestHeader('cookie');
  if (header === undefined) return NO_COOKIE;
  const values = readCookieValues(header, config.name);
  const first = values[0];
  // Counted before anything else: an empty first cookie must not hide a planted second.
  const duplicated = values.length > 1;
  if (first === undefined || first === '')
    return { token: undefined, duplicated, invalid: undefined };
  if (!first.startsWith(CHUNKED_PREFIX)) return { token: first, duplicated, invalid: undefined };

  const count = chunkCount(first);
  if (count === undefined) {
    return { token: undefined, duplicated, invalid: chunkError('malformed') };
  }
  state.requestChunks = count;
  const cookies = readCookieMap(header);
  let token = '';
  for (let index = 1; index <= count; index++) {
    const chunk = cookies.get(chunkName(config.name, index));
    if (chunk === undefined || chunk === '') {
      return { token: undefined, duplicated, invalid: chunkError('missing') };
    }
    token += chunk;
  }
  return { token, duplicated, invalid: undefined };
}

function chunkError(kind: 'malformed' | 'missing'): SessionError {
  return new SessionError(
    'ERR_COOKIE_INVALID',
    kind === 'missing'
      ? 'A chunk of the chunked session cookie is missing'
      : 'The chunked session cookie has a malformed chunk count',
  );
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

function tooLarge(): SessionError {
  return new SessionError(
    'ERR_COOKIE_TOO_LARGE',
    `The session would need more than ${MAX_CHUNKS} cookies of ${MAX_SET_COOKIE_BYTES} bytes`,
  );
}

/**
 * Splits `value` into pieces whose encoded form is at most `size` characters. With the
 * default (no encoding) each piece is exactly `size` long but the last.
 */
function splitValue(value: string, size: number, encode: (piece: string) => string): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < value.length) {
    let end = Math.min(value.length, start + size);
    while (end > start + 1 && encode(value.slice(start, end)).length > size) {
      end = start + Math.max(1, Math.floor(((end - start) * 7) / 8));
    }
    pieces.push(encode(value.slice(start, end)));
    if (pieces.length > MAX_CHUNKS) throw tooLarge();
    start = end;
  }
  return pieces;
}

/**
 * Sets the session cookie to `token`: one cookie when it fits in `chunkMaxLength` and
 * 4096 bytes with its attributes, else chunks. Deletes chunks the browser holds (or that
 * this response set) beyond those written now.
 *
 * @param expiresAt - when the session ends (ms since the epoch), or undefined
 * @throws SessionError `ERR_HEADERS_SENT`; `ERR_COOKIE_TOO_LARGE` past 100 chunks
 */
export function writeSessionCookie(
  transport: SessionTransport,
  config: ResolvedConfig,
  state: SessionState,
  token: string,
  expiresAt: number | undefined,
  now: number,
): void {
  const { cookie, cookieTemplate } = config;
  if (cookie === false || cookieTemplate === undefined) return;
  assertWritable(transport);
  const encode = config.encodeValue ?? ((value: string) => value);
  const value = encode(token);
  const single = serializeToken(cookieTemplate, value, expiresAt, now);
  const headers: [name: string, header: string][] = [];
  if (value.length <= config.chunkMaxLength && single.length <= MAX_SET_COOKIE_BYTES) {
    headers.push([config.name, single]);
  } else {
    // Every chunk's Set-Cookie, attributes included, must stay within 4096 bytes: size the
    // chunks by the longest chunk name's header with an empty value.
    const longest: CookieTemplate = { ...cookieTemplate, name: chunkName(config.name, MAX_CHUNKS) };
    const room = MAX_SET_COOKIE_BYTES - serializeToken(longest, '', expiresAt, now).length;
    if (room < 1) throw tooLarge();
    const pieces = splitValue(token, Math.min(config.chunkMaxLength, room), encode);
    headers.push([
      config.name,
      serializeToken(cookieTemplate, `${CHUNKED_PREFIX}${pieces.length}`, expiresAt, now),
    ]);
    pieces.forEach((piece, at) => {
      const name = chunkName(config.name, at + 1);
      headers.push([name, serializeToken({ ...cookieTemplate, name }, piece, expiresAt, now)]);
    });
  }
  const identity = { domain: cookie.domain, path: cookie.path };
  for (const [name, header] of headers) transport.setCookie(header, { name, ...identity });
  const written = headers.length === 1 ? 0 : headers.length - 1;
  deleteChunks(transport, config, state, written + 1);
  state.writtenChunks = written;
}

/** Deletes chunks from `from` up to the most the browser holds or this response set. */
function deleteChunks(
  transport: SessionTransport,
  config: ResolvedConfig,
  state: SessionState,
  from: number,
): void {
  const { cookie } = config;
  if (cookie === false) return;
  const upTo = Math.max(state.requestChunks, state.writtenChunks);
  for (let index = from; index <= upTo; index++) {
    const name = chunkName(config.name, index);
    transport.setCookie(serializeDeletion(name, cookie), {
      name,
      domain: cookie.domain,
      path: cookie.path,
    });
  }
}

/**
 * Deletes the session cookie (empty, `Max-Age=0`) and every chunk of it.
 *
 * @throws SessionError `ERR_HEADERS_SENT`
 */
export function deleteSessionCookie(
  transport: SessionTransport,
  config: ResolvedConfig,
  state: SessionState,
): void {
  const { cookie } = config;
  if (cookie === false) return;
  assertWritable(transport);
  // A clear need not have read the session: count the chunks the request carries, so
  // none of them outlives the session in the browser.
  state.requestChunks = Math.max(state.requestChunks, requestChunkCount(transport, config));
  transport.setCookie(serializeDeletion(config.name, cookie), {
    name: config.name,
    domain: cookie.domain,
    path: cookie.path,
  });
  deleteChunks(transport, config, state, 1);
  state.writtenChunks = 0;
}

/**
 * How many chunks of the session cookie the request carries: the main cookie's count
 * when it is a valid one, and past it every consecutive chunk cookie present.
 */
function requestChunkCount(transport: SessionTransport, config: ResolvedConfig): number {
  const header = transport.getRequestHeader('cookie');
  if (header === undefined) return 0;
  const cookies = readCookieMap(header);
  let count = chunkCount(cookies.get(config.name) ?? '') ?? 0;
  while (count < MAX_CHUNKS && cookies.has(chunkName(config.name, count + 1))) count++;
  return count;
}
