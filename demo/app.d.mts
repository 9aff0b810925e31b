/** The types of demo/app.mjs, for the TypeScript tests that start the demo. */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

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
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Session lifetime of the demo, in seconds. */
export declare const MAX_AGE: number;

/** The session cookie's name over HTTPS: `__Host-h3`, which no sibling subdomain can plant. */
export declare const HTTPS_COOKIE_NAME: string;

/** Products of the demo cart. */
export declare const CATALOG: ReadonlyArray<{ readonly id: string; readonly label: string }>;

/** Creates the demo server and starts listening. */
export declare function createDemoServer(options: DemoServerOptions): Promise<DemoServer>;
