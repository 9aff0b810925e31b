/**
 * The hosts of the session matrix. Each factory takes a session configuration and the
 * host-neutral route table of routes.ts, starts a real server on 127.0.0.1 (port 0) and
 * returns a small client. Every host maps its own request object onto a {@link SessionApi}:
 * "event" hosts (node, fetch, h3 1.x, h3 2.x) call the root functions of sealed-session with
 * the host's event; "manager" hosts (Express, Hono) use the manager their middleware puts on
 * the request.
 */
import { Buffer } from 'node:buffer';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express, { type NextFunction, type Request as ExpressRequest } from 'express';
import {
  createApp as createH3V1App,
  eventHandler as h3V1EventHandler,
  toNodeListener as h3V1ToNodeListener,
} from 'h3-v1';
import { H3 as H3V2 } from 'h3-v2';
import { Hono } from 'hono';
import { sessionMiddleware as expressSession, sessionOf } from '../../../src/adapters/express.js';
import { toWebHandler } from '../../../src/adapters/fetch.js';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../../src/adapters/hono.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import {
  clearSession,
  eventHandler,
  getSession,
  regenerateSession,
  sealSession,
  updateSession,
  useSession,
  type AnyHTTPEvent,
  type Session,
  type SessionConfig,
  type SessionManager,
  type SessionUpdate,
} from '../../../src/index.js';

/** Node's default (16 KiB) would answer 431 before the oversized-token case reaches us. */
const MAX_HEADER_SIZE = 64 * 1024;

export type HostName = 'node' | 'fetch' | 'h3-v1' | 'h3-v2' | 'express' | 'hono';

/** What a route may do with the request's session, whatever the host. */
export interface SessionApi {
  readonly host: HostName;
  readonly config: SessionConfig;
  readonly url: URL;
  /** A request header (lower-case name). */
  header(name: string): string | undefined;
  /** The host's event on event hosts; undefined on middleware hosts (they expose none). */
  readonly event: AnyHTTPEvent | undefined;
  /** useSession on event hosts; the middleware's manager on Express and Hono. */
  use(): Promise<SessionManager>;
  /** getSession alone: event hosts only (a middleware host always ran useSession). */
  get(): Promise<Session>;
  update(update: SessionUpdate): Promise<void>;
  clear(): Promise<void>;
  regenerate(): Promise<void>;
  /** sealSession: event hosts only (the middleware's manager has no seal). */
  seal(): Promise<string>;
  /**
   * Runs `task` once the response has been sent. Hosts that let a handler end the response
   * (node, h3 1.x, Express) end it now with `{"ended":true}` and run the task at once; the
   * others (fetch, h3 2.x, Hono) run it on a timer after the handler returned.
   */
  afterResponse(task: () => Promise<void>): Promise<void>;
}

/** A route: `run` gets the session API and returns the response value. */
export interface Route {
  /** 'event': the route calls functions a middleware host does not expose. */
  readonly needs?: 'event';
  run(api: SessionApi): Promise<unknown>;
}

export type Routes = Readonly<Record<string, Route>>;

export interface HostResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly setCookies: string[];
  readonly text: string;
  readonly bytes: Uint8Array;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: unknown;
}

export interface HostServer {
  request(path: string, init?: { headers?: Record<string, string> }): Promise<HostResponse>;
  /** Errors the host's error hook saw (the response was a 500). */
  readonly errors: unknown[];
  close(): Promise<void>;
}

export interface Host {
  readonly name: HostName;
  readonly kind: 'event' | 'manager';
  /** The adapter itself turns a handler's return value into the response (node, fetch). */
  readonly nativeReturn: boolean;
  start(config: SessionConfig, routes: Routes): Promise<HostServer>;
}

class UnsupportedOperation extends Error {
  override readonly name = 'UnsupportedOperation';
}

function eventApi(
  host: HostName,
  event: AnyHTTPEvent,
  config: SessionConfig,
  url: URL,
  header: (name: string) => string | undefined,
  afterResponse: (task: () => Promise<void>) => Promise<void>,
): SessionApi {
  return {
    host,
    config,
    url,
    header,
    event,
    use: () => useSession(event, config),
    get: () => getSession(event, config),
    update: async (update) => {
      await updateSession(event, config, update);
    },
    clear: () => clearSession(event, config),
    regenerate: async () => {
      await regenerateSession(event, config);
    },
    seal: () => sealSession(event, config),
    afterResponse,
  };
}

function managerApi(
  host: HostName,
  manager: SessionManager,
  config: SessionConfig,
  url: URL,
  header: (name: string) => string | undefined,
  afterResponse: (task: () => Promise<void>) => Promise<void>,
): SessionApi {
  return {
    host,
    config,
    url,
    header,
    event: undefined,
    use: () => Promise.resolve(manager),
    get: () => Promise.reject(new UnsupportedOperation(`${host} exposes no getSession`)),
    update: async (update) => {
      await manager.update(update);
    },
    clear: async () => {
      await manager.clear();
    },
    regenerate: async () => {
      await manager.regenerate();
    },
    seal: () => Promise.reject(new UnsupportedOperation(`${host} exposes no sealSession`)),
    afterResponse,
  };
}

/** For hosts whose handler cannot end the response itself: run the task after it went out. */
function deferred(task: () => Promise<void>): Promise<void> {
  setTimeout(() => void task(), 20);
  return Promise.resolve();
}

/** Ends a Node response now, then runs the task. */
function endNow(res: ServerResponse): (task: () => Promise<void>) => Promise<void> {
  return async (task) => {
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json');
    res.end('{"ended":true}');
    await task();
  };
}

function nodeHeader(req: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

function urlOf(path: string): URL {
  return new URL(path, 'http://127.0.0.1');
}

const NOT_FOUND = { error: 'no such route' } as const;

async function listen(server: Server, errors: unknown[]): Promise<HostServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    errors,
    async request(path, init = {}) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: init.headers ?? {},
        redirect: 'manual',
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      const text = new TextDecoder().decode(bytes);
      const type = response.headers.get('content-type') ?? '';
      return {
        status: response.status,
        headers: response.headers,
        setCookies: response.headers.getSetCookie(),
        text,
        bytes,
        json: type.includes('json') && text !== '' ? (JSON.parse(text) as unknown) : undefined,
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
      });
    },
  };
}

/**
 * A minimal fetch-to-node:http bridge (the fetch and h3 2.x hosts): the request with Node's
 * joined headers (a repeated Cookie header is joined by "; "), the response with every
 * Set-Cookie kept apart.
 */
export function fetchBridge(
  fetchHandler: (request: Request) => Response | Promise<Response>,
): RequestListener {
  return (req, res) => {
    const run = async (): Promise<void> => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
      }
      const method = req.method ?? 'GET';
      let body: Uint8Array<ArrayBuffer> | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        body = new Uint8Array(Buffer.concat(chunks));
      }
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const response = await fetchHandler(request);
      res.statusCode = response.status;
      for (const [name, value] of response.headers) {
        if (name !== 'set-cookie') res.setHeader(name, value);
      }
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) res.setHeader('set-cookie', cookies);
      res.end(Buffer.from(await response.arrayBuffer()));
    };
    run().catch((error: unknown) => {
      console.error('fetch bridge failed', error);
      if (!res.headersSent) res.statusCode = 502;
      res.end();
    });
  };
}

const nodeHost: Host = {
  name: 'node',
  kind: 'event',
  nativeReturn: true,
  start(config, routes) {
    const errors: unknown[] = [];
    const handler = eventHandler(async (event) => {
      const url = urlOf(event.path);
      const route = routes[url.pathname];
      if (route === undefined) {
        event.status = 404;
        return NOT_FOUND;
      }
      // The event types Node's objects structurally; the server's own are kept by request.
      const { req, res } = exchanges.get(event.node!.req)!;
      return route.run(eventApi('node', event, config, url, nodeHeader(req), endNow(res)));
    });
    const exchanges = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>();
    const listener = toNodeListener(handler, { onError: (error) => errors.push(error) });
    const server = createServer({ maxHeaderSize: MAX_HEADER_SIZE }, (req, res) => {
      exchanges.set(req, { req, res });
      listener(req, res);
    });
    return listen(server, errors);
  },
};

const fetchHost: Host = {
  name: 'fetch',
  kind: 'event',
  nativeReturn: true,
  start(config, routes) {
    const errors: unknown[] = [];
    const handler = eventHandler(async (event) => {
      const url = urlOf(event.path);
      const route = routes[url.pathname];
      if (route === undefined) {
        event.status = 404;
        return NOT_FOUND;
      }
      const header = (name: string): string | undefined => event.getRequestHeader(name);
      return route.run(eventApi('fetch', event, config, url, header, deferred));
    });
    const webHandler = toWebHandler(handler, { onError: (error) => errors.push(error) });
    return listen(
      createServer({ maxHeaderSize: MAX_HEADER_SIZE }, fetchBridge(webHandler)),
      errors,
    );
  },
};

const h3V1Host: Host = {
  name: 'h3-v1',
  kind: 'event',
  nativeReturn: false,
  start(config, routes) {
    const errors: unknown[] = [];
    const app = createH3V1App({
      onError: (error) => {
        errors.push(error);
      },
    });
    app.use(
      h3V1EventHandler(async (event) => {
        const url = urlOf(event.path);
        const route = routes[url.pathname];
        if (route === undefined) {
          event.node.res.statusCode = 404;
          return NOT_FOUND;
        }
        const api = eventApi(
          'h3-v1',
          event,
          config,
          url,
          nodeHeader(event.node.req),
          endNow(event.node.res),
        );
        return route.run(api);
      }),
    );
    return listen(
      createServer({ maxHeaderSize: MAX_HEADER_SIZE }, h3V1ToNodeListener(app)),
      errors,
    );
  },
};

const h3V2Host: Host = {
  name: 'h3-v2',
  kind: 'event',
  nativeReturn: false,
  start(config, routes) {
    const errors: unknown[] = [];
    const app = new H3V2({
      silent: true,
      onError: (error) => {
        errors.push(error);
      },
    });
    app.all('/**', async (event) => {
      const url = urlOf(event.url.pathname + event.url.search);
      const route = routes[url.pathname];
      if (route === undefined) {
        event.res.status = 404;
        return NOT_FOUND;
      }
      const header = (name: string): string | undefined => event.req.headers.get(name) ?? undefined;
      return route.run(eventApi('h3-v2', event, config, url, header, deferred));
    });
    return listen(
      createServer(
        { maxHeaderSize: MAX_HEADER_SIZE },
        fetchBridge((request) => app.fetch(request)),
      ),
      errors,
    );
  },
};

const expressHost: Host = {
  name: 'express',
  kind: 'manager',
  nativeReturn: false,
  start(config, routes) {
    const errors: unknown[] = [];
    const app = express();
    app.use(expressSession(config));
    app.use((req, res, next) => {
      const url = urlOf(req.originalUrl);
      const route = routes[url.pathname];
      if (route === undefined) {
        res.status(404).json(NOT_FOUND);
        return;
      }
      const api = managerApi('express', sessionOf(req), config, url, nodeHeader(req), endNow(res));
      route.run(api).then((value) => {
        if (res.headersSent) return;
        if (value === undefined) res.status(204).end();
        else res.json(value);
      }, next);
    });
    app.use((error: unknown, _req: ExpressRequest, res: express.Response, next: NextFunction) => {
      errors.push(error);
      if (res.headersSent) {
        next(error);
        return;
      }
      res.status(500).type('text/plain').send('Internal Server Error');
    });
    return listen(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app), errors);
  },
};

const honoHost: Host = {
  name: 'hono',
  kind: 'manager',
  nativeReturn: false,
  start(config, routes) {
    const errors: unknown[] = [];
    const app = new Hono<SessionEnv>();
    app.onError((error, c) => {
      errors.push(error);
      return c.text('Internal Server Error', 500);
    });
    app.use(honoSession(config));
    app.all('*', async (c) => {
      const url = urlOf(new URL(c.req.url).pathname + new URL(c.req.url).search);
      const route = routes[url.pathname];
      if (route === undefined) return c.json(NOT_FOUND, 404);
      const header = (name: string): string | undefined => c.req.header(name);
      const value = await route.run(
        managerApi('hono', c.get('session'), config, url, header, deferred),
      );
      return value === undefined ? c.body(null, 204) : c.json(value);
    });
    const server = createAdaptorServer({
      fetch: app.fetch,
      overrideGlobalObjects: false,
      serverOptions: { maxHeaderSize: MAX_HEADER_SIZE },
    }) as Server;
    return listen(server, errors);
  },
};

export const hosts: readonly Host[] = [
  nodeHost,
  fetchHost,
  h3V1Host,
  h3V2Host,
  expressHost,
  honoHost,
];
