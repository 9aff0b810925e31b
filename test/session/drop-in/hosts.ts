/**
 * The six real HTTP hosts of the drop-in suites: sealed-session's node and fetch adapters,
 * h3 1.x, h3 2.x, Express and Hono (the last two with sealed-session's middleware). Each
 * starts on 127.0.0.1 (port 0) with a session configuration and a table of routes written
 * once against {@link Exchange}; a route may answer a JSON value, a 303 redirect, or throw
 * the host's own HTTP error, and each host turns those into its native response, so the
 * suites see what an application on that host would send.
 *
 * Unlike the matrix hosts, a route here reaches what the drop-in features need: the host's
 * event and its `context` (where h3 keeps sessions), the middleware's manager, the host's
 * error type and a redirect.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import express, { type NextFunction, type Request as ExpressRequest } from 'express';
import {
  createApp as createH3V1App,
  createError as h3V1CreateError,
  eventHandler as h3V1EventHandler,
  sendRedirect as h3V1SendRedirect,
  toNodeListener as h3V1ToNodeListener,
} from 'h3-v1';
import { H3 as H3V2, HTTPError, redirect as h3V2Redirect } from 'h3-v2';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { sessionMiddleware as expressSession, sessionOf } from '../../../src/adapters/express.js';
import { toWebHandler } from '../../../src/adapters/fetch.js';
import { sessionMiddleware as honoSession, type SessionEnv } from '../../../src/adapters/hono.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import {
  eventHandler,
  type AnyHTTPEvent,
  type SessionConfig,
  type SessionManager,
} from '../../../src/index.js';
import { fetchBridge } from '../matrix/hosts.js';

/** Node's default (16 KiB) is enough for these suites, but a 9 KB session leaves little room. */
const MAX_HEADER_SIZE = 64 * 1024;

export type HostName = 'node' | 'fetch' | 'h3-v1' | 'h3-v2' | 'express' | 'hono';

/** What a route sees of its request, whatever the host. */
export interface Exchange {
  readonly host: HostName;
  readonly url: URL;
  /** The host's event (node, fetch, h3 1.x, h3 2.x); undefined under Express and Hono. */
  readonly event: AnyHTTPEvent | undefined;
  /** The event's `context` object, where h3 keeps `sessions`; undefined without an event. */
  readonly eventContext: Record<string, unknown> | undefined;
  /** The manager sealed-session's middleware made (Express, Hono); undefined elsewhere. */
  readonly manager: SessionManager | undefined;
  /** The request body as text ('' for none). */
  readonly body: string;
  /**
   * Streams the response by hand: `head()` sends the status and headers at once, `end()`
   * the body. Only where a handler writes a Node response itself (node, h3 1.x); the
   * route then answers undefined.
   */
  readonly stream: NodeStream | undefined;
  /**
   * The host's own HTTP error: h3 2.x's HTTPError, h3 1.x's createError, Hono's
   * HTTPException, an Error with `status` for Express, a plain Error on our adapters
   * (which answer every thrown error with a 500).
   */
  error(status: ContentfulStatusCode, message: string): Error;
}

export interface NodeStream {
  head(): void;
  end(body: string): void;
}

function nodeStream(res: ServerResponse): NodeStream {
  return {
    head: () => {
      res.writeHead(200, { 'content-type': 'application/json' });
    },
    end: (body) => {
      res.end(body);
    },
  };
}

const kRedirect = Symbol('drop-in redirect');

/** A route's answer asking for a 303 redirect to `location`. */
export interface Redirect {
  readonly [kRedirect]: true;
  readonly location: string;
}

export function redirect(location: string): Redirect {
  return { [kRedirect]: true, location };
}

function isRedirect(value: unknown): value is Redirect {
  return typeof value === 'object' && value !== null && kRedirect in value;
}

export type Route = (exchange: Exchange) => Promise<unknown>;
export type Routes = Readonly<Record<string, Route>>;

export interface DropInResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Every Set-Cookie header, raw and in order. */
  readonly setCookies: string[];
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: unknown;
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly body?: string;
}

export interface DropInServer {
  readonly origin: string;
  request(path: string, options?: RequestOptions): Promise<DropInResponse>;
  /** Errors the host's error hook saw. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** How a host is started. */
export interface HostOptions {
  /**
   * Our adapters' and middleware's `asyncContext` option: run each route in the request's
   * scope, so session calls without an event find it. The drop-in suites turn it on, as a
   * vinxi or Nitro app with async context does; `false` is the library's default.
   * @default true
   */
  readonly asyncContext?: boolean;
}

export interface Host {
  readonly name: HostName;
  /** 'event': routes get the host's event; 'middleware': the middleware's manager. */
  readonly kind: 'event' | 'middleware';
  /**
   * sealed-session runs the route in its request scope (our adapters and middleware, with
   * `asyncContext`), so session calls without an event find the request; h3 1.x and 2.x
   * alone never do.
   */
  readonly scoped: boolean;
  start(config: SessionConfig, routes: Routes, options?: HostOptions): Promise<DropInServer>;
}

const NOT_FOUND = { error: 'no such route' } as const;

function urlOf(path: string): URL {
  return new URL(path, 'http://127.0.0.1');
}

/** A Node `status` error, as http-errors makes for Express. */
function statusError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

function statusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : 500;
}

async function listen(server: Server, errors: unknown[]): Promise<DropInServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    errors,
    async request(path, options = {}) {
      const response = await fetch(`${origin}${path}`, {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        redirect: 'manual',
        ...(options.body === undefined ? {} : { body: options.body }),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      return {
        status: response.status,
        headers: response.headers,
        setCookies: response.headers.getSetCookie(),
        text,
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

/** Reads a Node request's body as text (our node adapter leaves the stream to the route). */
async function readNodeBody(stream: AsyncIterable<unknown>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) text += decoder.decode(chunk as Uint8Array, { stream: true });
  return text + decoder.decode();
}

const nodeHost: Host = {
  name: 'node',
  kind: 'event',
  scoped: true,
  start(_config, routes, options = {}) {
    const errors: unknown[] = [];
    const handler = eventHandler(async (event) => {
      const url = urlOf(event.path);
      const route = routes[url.pathname];
      if (route === undefined) {
        event.status = 404;
        return NOT_FOUND;
      }
      // The event types Node's objects structurally; on this adapter they are node:http's.
      const req = event.node?.req as IncomingMessage | undefined;
      const res = event.node?.res as ServerResponse | undefined;
      const body = req === undefined ? '' : await readNodeBody(req);
      const value = await route({
        host: 'node',
        url,
        event,
        eventContext: event.context,
        manager: undefined,
        body,
        stream: res === undefined ? undefined : nodeStream(res),
        error: (_status, message) => new Error(message),
      });
      if (isRedirect(value)) {
        return new Response(null, { status: 303, headers: { location: value.location } });
      }
      return value;
    });
    const listener = toNodeListener(handler, {
      onError: (error) => errors.push(error),
      asyncContext: options.asyncContext ?? true,
    });
    return listen(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, listener), errors);
  },
};

const fetchHost: Host = {
  name: 'fetch',
  kind: 'event',
  scoped: true,
  start(_config, routes, options = {}) {
    const errors: unknown[] = [];
    const handler = eventHandler(async (event) => {
      const url = urlOf(event.path);
      const route = routes[url.pathname];
      if (route === undefined) {
        event.status = 404;
        return NOT_FOUND;
      }
      const body = event.request === undefined ? '' : await event.request.text();
      const value = await route({
        host: 'fetch',
        url,
        event,
        eventContext: event.context,
        manager: undefined,
        body,
        stream: undefined,
        error: (_status, message) => new Error(message),
      });
      if (isRedirect(value)) {
        return new Response(null, { status: 303, headers: { location: value.location } });
      }
      return value;
    });
    const webHandler = toWebHandler(handler, {
      onError: (error) => errors.push(error),
      asyncContext: options.asyncContext ?? true,
    });
    return listen(
      createServer({ maxHeaderSize: MAX_HEADER_SIZE }, fetchBridge(webHandler)),
      errors,
    );
  },
};

const h3V1Host: Host = {
  name: 'h3-v1',
  kind: 'event',
  scoped: false,
  start(_config, routes) {
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
        const value = await route({
          host: 'h3-v1',
          url,
          event,
          eventContext: event.context,
          manager: undefined,
          body: await readNodeBody(event.node.req),
          stream: nodeStream(event.node.res),
          error: (status, message) =>
            h3V1CreateError({ statusCode: status, statusMessage: message }),
        });
        if (isRedirect(value)) return h3V1SendRedirect(event, value.location, 303);
        return value;
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
  scoped: false,
  start(_config, routes) {
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
      const value = await route({
        host: 'h3-v2',
        url,
        event,
        eventContext: event.context,
        manager: undefined,
        body: await event.req.text(),
        stream: undefined,
        error: (status, message) => new HTTPError({ status, message }),
      });
      if (isRedirect(value)) return h3V2Redirect(value.location, 303);
      return value;
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
  kind: 'middleware',
  scoped: true,
  start(config, routes, options = {}) {
    const errors: unknown[] = [];
    const app = express();
    app.use(expressSession(config, { asyncContext: options.asyncContext ?? true }));
    // A body parser after the session middleware, as applications place it: its callbacks
    // come from the request stream, and event-less session calls must still find the request.
    app.use(express.text({ type: '*/*' }));
    app.use((req, res, next) => {
      const url = urlOf(req.originalUrl);
      const route = routes[url.pathname];
      if (route === undefined) {
        res.status(404).json(NOT_FOUND);
        return;
      }
      const body: unknown = req.body;
      route({
        host: 'express',
        url,
        event: undefined,
        eventContext: undefined,
        manager: sessionOf(req),
        body: typeof body === 'string' ? body : '',
        stream: undefined,
        error: statusError,
      }).then((value) => {
        if (res.headersSent) return;
        if (isRedirect(value)) res.redirect(303, value.location);
        else if (value === undefined) res.status(204).end();
        else res.json(value);
      }, next);
    });
    app.use((error: unknown, _req: ExpressRequest, res: express.Response, next: NextFunction) => {
      errors.push(error);
      if (res.headersSent) {
        next(error);
        return;
      }
      res.status(statusOf(error)).type('text/plain').send('request failed');
    });
    return listen(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app), errors);
  },
};

const honoHost: Host = {
  name: 'hono',
  kind: 'middleware',
  scoped: true,
  start(config, routes, options = {}) {
    const errors: unknown[] = [];
    const app = new Hono<SessionEnv>();
    app.onError((error, c) => {
      errors.push(error);
      return error instanceof HTTPException ? error.getResponse() : c.text('request failed', 500);
    });
    app.use(honoSession(config, { asyncContext: options.asyncContext ?? true }));
    app.all('*', async (c) => {
      const url = urlOf(new URL(c.req.url).pathname + new URL(c.req.url).search);
      const route = routes[url.pathname];
      if (route === undefined) return c.json(NOT_FOUND, 404);
      const value = await route({
        host: 'hono',
        url,
        event: undefined,
        eventContext: undefined,
        manager: c.get('session'),
        body: await c.req.text(),
        stream: undefined,
        error: (status, message) => new HTTPException(status, { message }),
      });
      if (isRedirect(value)) return c.redirect(value.location, 303);
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
