/** The types of demo/app.mjs, for the TypeScript tests that start the demo. */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { SessionStore } from 'sealed-session';

/** The account area's session store, as {@link createDemoStore} makes it. */
export interface DemoStore {
  /** The store to give the session config. */
  readonly store: SessionStore;
  /** Where the sessions live, for the log and the Devices page. */
  readonly description: string;
  /** Closes the Redis connection, if there is one. */
  close(): Promise<void>;
}

/** Options of {@link createDemoServer}. */
export interface DemoServerOptions {
  /** The session password, at least 32 characters. */
  readonly password: string;
  /** Port to listen on; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Whether the session cookie is Secure: 'auto' sets it exactly for HTTPS requests. With
   * `tls` it must not be false (the `__Host-` cookie must be Secure).
   * @default 'auto'
   */
  readonly cookieSecure?: 'auto' | boolean;
  /** Believe X-Forwarded-Proto (behind a TLS-terminating proxy). @default false */
  readonly trustProxy?: boolean;
  /**
   * Serve HTTPS with this key and certificate (PEM) instead of HTTP. The session cookie is
   * then {@link HTTPS_COOKIE_NAME} (`__Host-h3`) instead of `h3`.
   */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined;
  /** Where the same demo runs over HTTPS; the plain-HTTP pages link to it. */
  readonly httpsUrl?: string | undefined;
  /**
   * The account area's session store (the Devices page), which the HTTP and HTTPS servers
   * of one demo share. @default a `memoryStore()` of this server
   */
  readonly store?: Pick<DemoStore, 'store' | 'description'> | undefined;
  /** Log lines (rejected cookies, errors). @default no logging */
  readonly log?: (line: string) => void;
}

/** A running demo server. */
export interface DemoServer {
  /** A node:https server with `tls`, else a node:http one. */
  readonly server: HttpServer | HttpsServer;
  /** The port it listens on. */
  readonly port: number;
  /** Its base URL (http://localhost:<port>, or https:// with `tls`, on a loopback address). */
  readonly url: string;
  /** The session cookie's name: `h3`, or `__Host-h3` with `tls`. */
  readonly cookieName: string;
  /** The account area's cookie name: `demo-auth`, or `__Host-demo-auth` with `tls`. */
  readonly authCookieName: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Session lifetime of the demo, in seconds. */
export declare const MAX_AGE: number;

/** The session cookie's name over HTTPS: `__Host-h3`, which no sibling subdomain can plant. */
export declare const HTTPS_COOKIE_NAME: string;

/** The account area's cookie name over HTTP. */
export declare const AUTH_COOKIE_NAME: string;

/** The account area's cookie name over HTTPS: `__Host-demo-auth`. */
export declare const HTTPS_AUTH_COOKIE_NAME: string;

/** The account area's session lifetime in seconds, from sign-in. */
export declare const AUTH_MAX_AGE: number;

/** The account area's idle lifetime in seconds. */
export declare const AUTH_IDLE_TIMEOUT: number;

/** Products of the demo cart. */
export declare const CATALOG: ReadonlyArray<{ readonly id: string; readonly label: string }>;

/** Creates the demo server and starts listening. */
export declare function createDemoServer(options: DemoServerOptions): Promise<DemoServer>;

/**
 * The account area's store: Redis at `redisUrl` through a node-redis client (no offline
 * queue, a connect timeout, a capped reconnection backoff, errors logged), or a
 * `memoryStore()` when no URL is given. `sealed-session/redis` and `redis` are imported
 * only for a URL.
 */
export declare function createDemoStore(options?: {
  readonly redisUrl?: string | undefined;
  readonly log?: (line: string) => void;
}): Promise<DemoStore>;
