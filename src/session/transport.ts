/**
 * The port the session engine sees a host through: read a request header, set a cookie,
 * know whether the response head went out. Implemented in src/host/transports.ts.
 */
import type { CookieIdentity } from '../cookie/set-cookie.js';

/**
 * All the session engine needs from a host. Each adapter maps its host (node:http, fetch,
 * h3, Express, Hono) onto this; nothing host-specific enters the engine.
 */
export interface SessionTransport {
  /** A request header by lower-case name, or undefined when absent. */
  getRequestHeader(name: string): string | undefined;
  /** Adds a Set-Cookie header, replacing an earlier one for the same name, domain and path. */
  setCookie(header: string, identity: CookieIdentity): void;
  /** True once the response headers are sent: a cookie can no longer be written. */
  headersSent(): boolean;
}
