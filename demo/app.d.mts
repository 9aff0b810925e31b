import type { Server } from 'node:http';

/** Options of {@link createDemoServer}. */
export interface DemoServerOptions {
  /** The session password, at least 32 characters. */
  readonly password: string;
  /** Port to listen on; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Whether the session cookie is Secure: 'auto' sets it exactly for HTTPS requests.
   * @default 'auto'
   */
  readonly cookieSecure?: 'auto' | boolean;
  /** Believe X-Forwarded-Proto (behind a TLS-terminating proxy). @default false */
  readonly trustProxy?: boolean;
  /** Log lines (rejected cookies, errors). @default no logging */
  readonly log?: (line: string) => void;
}

/** A running demo server. */
export interface DemoServer {
  readonly server: Server;
  /** The port it listens on. */
  readonly port: number;
  /** Its base URL (http://localhost:<port> on a loopback address). */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Session lifetime of the demo, in seconds. */
export declare const MAX_AGE: number;

/** Products of the demo cart. */
export declare const CATALOG: ReadonlyArray<{ readonly id: string; readonly label: string }>;

/** Creates the demo server and starts listening. */
export declare function createDemoServer(options: DemoServerOptions): Promise<DemoServer>;
