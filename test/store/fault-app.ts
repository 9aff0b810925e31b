/**
 * The rig of the store fault tests (faults.test.ts): one `redis-server` of the test's own
 * (test/store/redis-servers.ts), one Redis client built with the settings README
 * recommends for a session store, and one HTTP app on 127.0.0.1 in store mode (node:http
 * through `toNodeListener`, Express or Hono through their `sessionMiddleware`), with the
 * same four routes on each host:
 *
 * - `GET /me`: reads the session (`{ user }`); without a cookie it needs no store.
 * - `POST /login?user=<name>`: signs in (`update({ user })`, which moves the session to a
 *   new id in the user's index).
 * - `POST /note?text=<text>`: changes the data of the session.
 * - `POST /logout`: signs out (`clearSession`, which deletes the record before the cookie).
 *
 * On node:http, `?gate=1` on `/login` or `/logout` holds the request at the rig's
 * {@link Gate} after its session was read and before it writes, so that a test can make
 * Redis fail in between (`/logout` then reads first and signs out with `session.clear()`).
 *
 * Why these client settings (the ones README states), for both clients:
 *
 * - **No offline queue** (node-redis `disableOfflineQueue`, ioredis `enableOfflineQueue:
 *   false`): a command sent while the connection is down fails at once instead of waiting
 *   for a reconnect that may come minutes later, long after the engine answered 503, and
 *   then writing (a sign-in) or deleting (a sign-out) behind the user's back.
 * - **No replay of in-flight commands** (node-redis fails them when the connection drops
 *   once the offline queue is off; ioredis needs `maxRetriesPerRequest: 0`): with 1, or
 *   ioredis's default of 20, a command that was in flight when the connection dropped is
 *   sent again after the reconnect, to a server that may have restarted empty, long after
 *   the request was answered 503 (faults.test.ts shows both settings matter: with either
 *   one changed, a refused sign-in's session turns up in the restarted server).
 * - **A reconnect strategy that never gives up, with a capped backoff**: a strategy that
 *   returns `false` or an Error (node-redis's default does on a socket timeout), or an
 *   ioredis `retryStrategy` that returns a non-number, closes the client for good, and the
 *   service would need a restart; uncapped, a long outage would leave minutes between
 *   attempts after Redis is back. The jitter keeps many app instances from reconnecting
 *   in step.
 * - **A connect timeout** of 2 s: a connection attempt to an address that swallows
 *   packets is given up and retried sooner than the defaults (node-redis 5 s, ioredis 10 s).
 * - **An 'error' listener**: node-redis emits 'error' on every failed connection attempt,
 *   and an EventEmitter without a listener throws it, which crashes the process.
 *
 * The store's own deadline (`timeout`, 500 ms here to keep the tests fast) bounds every
 * request; the settings above only decide how fast a dead connection fails and that the
 * client comes back by itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { sessionMiddleware as expressSession } from '../../src/adapters/express.js';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../src/adapters/hono.js';
import { toNodeListener } from '../../src/adapters/node.js';
import {
  clearSession,
  eventHandler,
  useSession,
  type SessionConfig,
  type SessionManager,
} from '../../src/index.js';
import { redisStore } from '../../src/store/redis.js';
import type { SessionStore } from '../../src/store/store.js';
import { startRedis, type RedisServer } from './redis-servers.js';

/** The store's deadline in these tests: README's default is 1500 ms. */
export const STORE_TIMEOUT_MS = 500;
/** The session cookie's name (the default). */
export const COOKIE_NAME = 'h3';
/** No single HTTP request of these tests may take longer than this, whatever goes wrong. */
const REQUEST_ABORT_MS = 10_000;
const HOST = '127.0.0.1';
const password = 'store-fault-tests-password-0123456789-abcdef';

/** The two Redis clients the store supports. */
export type ClientKind = 'node-redis' | 'ioredis';
/** The three hosts: node:http (`toNodeListener`), Express and Hono middleware. */
export type HostKind = 'node' | 'express' | 'hono';

/** A capped exponential backoff with jitter; never gives up. */
function backoff(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 2_000) + Math.floor(Math.random() * 100);
}

/**
 * A node-redis v5 client with the settings README recommends for a session store,
 * connected. The store never connects or closes it.
 */
export async function recommendedNodeRedis(
  url: string,
  onError: (error: unknown) => void,
): Promise<ReturnType<typeof createClient>> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => backoff(retries),
    },
  });
  client.on('error', onError);
  // With a strategy that never gives up, connect() waits as long as Redis is down: bounded
  // here, so a test that cannot connect fails instead of hanging.
  await withinMs(client.connect(), 5_000, `node-redis not connected to ${url}`, () => {
    client.destroy();
  });
  return client;
}

/**
 * An ioredis client with the settings README recommends for a session store, ready: with
 * the offline queue off, a command sent before 'ready' fails, so an app waits for it.
 */
export async function recommendedIoredis(
  port: number,
  onError: (error: unknown) => void,
): Promise<Redis> {
  const client = new Redis({
    host: HOST,
    port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (times) => backoff(times),
  });
  client.on('error', onError);
  const ready = new Promise<void>((resolve) => {
    client.once('ready', () => {
      resolve();
    });
  });
  await withinMs(ready, 5_000, `ioredis not ready on ${HOST}:${port}`, () => {
    client.disconnect();
  });
  return client;
}

/** `promise`, or a rejection after `ms` (calling `onTimeout` first). */
async function withinMs(
  promise: Promise<unknown>,
  ms: number,
  message: string,
  onTimeout: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${message} after ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One HTTP answer, with what the fault tests check. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  /** Wall time from sending the request to the end of the body. */
  readonly ms: number;
  /** `performance.now()` at the end of the body. */
  readonly endedAt: number;
  /** The Set-Cookie headers for the session cookie (or a chunk of it). */
  readonly sessionSetCookies: readonly string[];
  /** `h3=<value>` of the last session Set-Cookie, for the next request's Cookie header. */
  readonly cookie: string | undefined;
  /** The body as JSON (only for 200s of the routes, which answer `{ user }`). */
  json(): { user: string | null; note?: string | null };
}

/** Where node:http requests with `?gate=1` wait, between their read and their write. */
export class Gate {
  readonly #held: (() => void)[] = [];

  /** Called by a route: resolves when the test opens the gate. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#held.push(resolve);
    });
  }

  /**
   * Resolves once `count` requests wait at the gate.
   *
   * @throws Error when they do not within `timeoutMs`
   */
  async reached(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#held.length < count) {
      if (performance.now() > deadline) {
        throw new Error(
          `${this.#held.length} of ${count} requests at the gate after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Lets every waiting request go on. */
  open(): void {
    for (const release of this.#held.splice(0)) release();
  }
}

/** A Redis server, a client and an app on it, torn down by {@link FaultRig.close}. */
export interface FaultRig {
  readonly redis: RedisServer;
  readonly client: ClientKind;
  readonly host: HostKind;
  /** What the client's 'error' listener received (expected during an outage). */
  readonly clientErrors: unknown[];
  /** Errors that ended a request, as the host reported them. */
  readonly requestErrors: unknown[];
  /** Codes `onInvalidToken` reported (`ERR_SESSION_REVOKED`, ...). */
  readonly refusedTokens: string[];
  /** Where `?gate=1` requests wait (node:http only). */
  readonly gate: Gate;
  get(path: string, cookie?: string): Promise<Reply>;
  post(path: string, cookie?: string): Promise<Reply>;
  /** Stops the app, the client and the server; never throws, safe to call twice. */
  close(): Promise<void>;
}

/** The pair `name=value` of a Set-Cookie header. */
function pairOf(setCookie: string): string {
  const end = setCookie.indexOf(';');
  return end < 0 ? setCookie : setCookie.slice(0, end);
}

function isSessionSetCookie(setCookie: string): boolean {
  const name = pairOf(setCookie).split('=', 1)[0]!.trim();
  return name === COOKIE_NAME || name.startsWith(`${COOKIE_NAME}.`);
}

async function send(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  cookie: string | undefined,
): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(base + path, {
    method,
    headers: cookie === undefined ? {} : { cookie },
    signal: AbortSignal.timeout(REQUEST_ABORT_MS),
  });
  const body = await response.text();
  const endedAt = performance.now();
  const ms = endedAt - started;
  const sessionSetCookies = response.headers.getSetCookie().filter(isSessionSetCookie);
  const last = sessionSetCookies.at(-1);
  return {
    status: response.status,
    body,
    ms,
    endedAt,
    sessionSetCookies,
    cookie: last === undefined ? undefined : pairOf(last),
    json: () => JSON.parse(body) as { user: string | null; note?: string | null },
  };
}

/** The routes of the node:http host: `eventHandler` + `useSession` + `toNodeListener`. */
function nodeApp(config: SessionConfig, requestErrors: unknown[], gate: Gate): Server {
  const handler = eventHandler(async (event) => {
    const url = new URL(event.path, 'http://localhost');
    const route = `${event.method} ${url.pathname}`;
    const gated = url.searchParams.get('gate') === '1';
    if (route === 'POST /logout' && !gated) {
      // Before any read: the store's delete is the one call this sign-out needs.
      await clearSession(event, config);
      return { user: null };
    }
    const session = await useSession(event, config);
    if (gated) await gate.wait();
    if (route === 'POST /logout') {
      await session.clear();
      return { user: null };
    } else if (route === 'POST /login') {
      await session.update({ user: url.searchParams.get('user') ?? 'alice' });
    } else if (route === 'POST /note') {
      await session.update({ note: url.searchParams.get('text') ?? 'note' });
    } else if (route !== 'GET /me') {
      event.status = 404;
    }
    return userOf(session);
  });
  return createServer(
    toNodeListener(handler, {
      onError: (error) => {
        requestErrors.push(error);
      },
    }),
  );
}

function userOf(session: SessionManager): { user: string | null; note: string | null } {
  const data = session.data as { user?: string; note?: string };
  return { user: data.user ?? null, note: data.note ?? null };
}

function queryOf(req: Request, name: string, fallback: string): string {
  const value: unknown = req.query[name];
  return typeof value === 'string' ? value : fallback;
}

/**
 * The routes on Express: `sessionMiddleware`, and no error handler of the app's own but
 * one that records and passes the error on, so Express's default handler answers with the
 * error's `status` (503 for `ERR_STORE_UNAVAILABLE`).
 */
function expressApp(config: SessionConfig, requestErrors: unknown[]): Server {
  const app = express();
  app.use(expressSession(config));
  app.get('/me', (req, res) => {
    res.json(userOf(req.session));
  });
  app.post('/login', async (req, res) => {
    await req.session.update({ user: queryOf(req, 'user', 'alice') });
    res.json(userOf(req.session));
  });
  app.post('/note', async (req, res) => {
    await req.session.update({ note: queryOf(req, 'text', 'note') });
    res.json(userOf(req.session));
  });
  app.post('/logout', async (req, res) => {
    await req.session.clear();
    res.json({ user: null });
  });
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    requestErrors.push(error);
    next(error);
  });
  return createServer(app);
}

/**
 * The routes on Hono, served by `@hono/node-server`. The app's `onError` answers 500, as
 * Hono's default does: the middleware must turn a store outage into a 503 itself.
 */
function honoApp(config: SessionConfig, requestErrors: unknown[]): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  app.use(honoSession(config));
  app.get('/me', (c) => c.json(userOf(c.get('session'))));
  app.post('/login', async (c) => {
    await c.get('session').update({ user: c.req.query('user') ?? 'alice' });
    return c.json(userOf(c.get('session')));
  });
  app.post('/note', async (c) => {
    await c.get('session').update({ note: c.req.query('text') ?? 'note' });
    return c.json(userOf(c.get('session')));
  });
  app.post('/logout', async (c) => {
    await c.get('session').clear();
    return c.json({ user: null });
  });
  app.onError((error, c) => {
    requestErrors.push(error);
    return c.text('Internal Server Error', 500);
  });
  return app;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** Runs every step, even after one fails; never throws. */
async function everyStep(steps: readonly (() => unknown)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // Teardown goes on: the next step may be the one that matters (the server).
    }
  }
}

/** Options of {@link startRig}. */
export interface RigOptions {
  readonly client: ClientKind;
  readonly host: HostKind;
  /** More `redis-server` arguments (`--maxmemory 2mb ...`). */
  readonly redisArgs?: readonly string[];
}

/**
 * Starts a server, a client with the recommended settings and an app; on a failure part
 * way, stops what started before rethrowing.
 */
export async function startRig(options: RigOptions): Promise<FaultRig> {
  const clientErrors: unknown[] = [];
  const requestErrors: unknown[] = [];
  const refusedTokens: string[] = [];
  const gate = new Gate();
  const teardown: (() => unknown)[] = [];
  const close = async (): Promise<void> => {
    // Requests held at the gate go on first, so that nothing waits on a closed app.
    gate.open();
    const steps = teardown.splice(0).reverse();
    await everyStep(steps);
  };
  try {
    const redis = await startRedis({ args: options.redisArgs ?? [] });
    teardown.push(() => redis.stop());
    const onClientError = (error: unknown): void => {
      clientErrors.push(error);
    };
    let store: SessionStore;
    if (options.client === 'node-redis') {
      const client = await recommendedNodeRedis(redis.url, onClientError);
      teardown.push(() => {
        if (client.isOpen) client.destroy();
      });
      store = redisStore({ client, timeout: STORE_TIMEOUT_MS });
    } else {
      const client = await recommendedIoredis(redis.port, onClientError);
      teardown.push(() => {
        client.disconnect();
      });
      store = redisStore({ client, timeout: STORE_TIMEOUT_MS });
    }
    const config: SessionConfig = {
      password,
      name: COOKIE_NAME,
      maxAge: 3600,
      store,
      userKey: (data) => data.user as unknown,
      cookie: { secure: false },
      onInvalidToken: (rejection) => {
        refusedTokens.push(rejection.error.code);
      },
    };
    let port: number;
    if (options.host === 'hono') {
      const app = honoApp(config, requestErrors);
      const listening = new Promise<number>((resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: HOST }, (info) => {
          resolve(info.port);
        }) as Server;
        teardown.push(() => closeServer(server));
      });
      port = await listening;
    } else {
      const server =
        options.host === 'node'
          ? nodeApp(config, requestErrors, gate)
          : expressApp(config, requestErrors);
      teardown.push(() => closeServer(server));
      port = await listen(server);
    }
    const base = `http://${HOST}:${port}`;
    return {
      redis,
      client: options.client,
      host: options.host,
      clientErrors,
      requestErrors,
      refusedTokens,
      gate,
      get: (path, cookie) => send(base, 'GET', path, cookie),
      post: (path, cookie) => send(base, 'POST', path, cookie),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
