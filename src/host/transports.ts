/**
 * The host port's transports: how the session engine reads a request header and sets a
 * cookie on each kind of host. Node's req/res (node:http, Express, h3 1.x), fetch Headers
 * (the fetch adapter, h3 2.x), and a collecting one for hosts that build the response after
 * the handler (Hono).
 */
import { replaceSetCookie, type CookieIdentity } from '../cookie/set-cookie.js';
import type { SessionTransport } from '../session/transport.js';
import type {
  MutableHeadersLike,
  HeadersLike,
  NodeRequestLike,
  NodeResponseLike,
} from './host-types.js';

/** Transport over Node's req/res (node:http, Express, h3 1.x): cookies go straight into `res`. */
export function nodeTransport(req: NodeRequestLike, res: NodeResponseLike): SessionTransport {
  return {
    getRequestHeader(name) {
      const value = req.headers[name];
      // Node joins repeated headers except a few; a repeated Cookie header is joined by "; ".
      return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
    },
    setCookie(header: string, identity: CookieIdentity) {
      res.setHeader('set-cookie', replaceSetCookie(setCookiesOf(res), header, identity));
    },
    headersSent() {
      return res.headersSent;
    },
  };
}

/**
 * Transport over fetch Headers: request headers to read, response headers to write (and
 * the headers of an error response, when the host keeps them apart, as h3 2.x does).
 */
export function headersTransport(
  request: HeadersLike,
  response: MutableHeadersLike,
  headersSent: () => boolean = () => false,
  errorResponse?: MutableHeadersLike,
): SessionTransport {
  return {
    getRequestHeader(name) {
      return request.get(name) ?? undefined;
    },
    setCookie(header, identity) {
      writeSetCookie(response, header, identity);
      if (errorResponse !== undefined) writeSetCookie(errorResponse, header, identity);
    },
    headersSent,
  };
}

/** A transport whose cookies are collected, and what it collected. */
export interface CollectingTransport {
  readonly transport: SessionTransport;
  /** The Set-Cookie headers collected, one per cookie; later writes fail (headers sent). */
  take(): string[];
}

/**
 * Transport for hosts that build the response after the handler (Hono): cookies are
 * collected during the request and applied once, by the adapter, when the handler is done.
 */
export function collectingTransport(
  getRequestHeader: (name: string) => string | undefined,
): CollectingTransport {
  let cookies: string[] = [];
  let taken = false;
  return {
    transport: {
      getRequestHeader,
      setCookie(header, identity) {
        cookies = replaceSetCookie(cookies, header, identity);
      },
      headersSent: () => taken,
    },
    take() {
      taken = true;
      return cookies;
    },
  };
}

/** The Set-Cookie headers a Node response holds so far, as a list. */
export function setCookiesOf(res: NodeResponseLike): string[] {
  const value = res.getHeader('set-cookie');
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

/** Makes `cookies` the Set-Cookie headers of `headers`, keeping every other header. */
export function putSetCookies(headers: MutableHeadersLike, cookies: readonly string[]): void {
  headers.delete('set-cookie');
  for (const value of cookies) headers.append('set-cookie', value);
}

/** Replaces the Set-Cookie for `identity` in `headers`, keeping every other header. */
export function writeSetCookie(
  headers: MutableHeadersLike,
  header: string,
  identity: CookieIdentity,
): void {
  putSetCookies(headers, replaceSetCookie(headers.getSetCookie(), header, identity));
}
