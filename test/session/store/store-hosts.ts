/**
 * The hosts of the store-mode suites: the six hosts of the session matrix
 * (test/session/matrix/hosts.ts), imported as they are, except Express. The matrix's
 * Express host ends every error with its own handler, which answers 500 whatever the
 * error; an application that wants the status an error carries leaves errors to Express,
 * whose final handler answers `err.status`. This Express host does that (it only records
 * the error on the way), so that a store outage shows as the 503 sealed-session's
 * `ERR_STORE_UNAVAILABLE` carries. Everything else (the middleware, the manager as the
 * session API, the server on 127.0.0.1) is what the matrix's Express host does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sessionMiddleware, sessionOf } from '../../../src/adapters/express.js';
import type { SessionConfig, SessionManager } from '../../../src/index.js';
import {
  hosts as matrixHosts,
  type Host,
  type HostResponse,
  type HostServer,
  type Routes,
  type SessionApi,
} from '../matrix/hosts.js';

/** Starts `server` on 127.0.0.1 and gives the matrix's client for it. */
export async function listenOn(server: Server, errors: unknown[]): Promise<HostServer> {
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
    async request(path, init = {}): Promise<HostResponse> {
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

function managerApi(
  manager: SessionManager,
  config: SessionConfig,
  url: URL,
  req: IncomingMessage,
): SessionApi {
  const unsupported = (what: string): Promise<never> =>
    Promise.reject(new Error(`express exposes no ${what}`));
  return {
    host: 'express',
    config,
    url,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    event: undefined,
    use: () => Promise.resolve(manager),
    get: () => unsupported('getSession'),
    update: async (update) => {
      await manager.update(update);
    },
    clear: async () => {
      await manager.clear();
    },
    regenerate: async () => {
      await manager.regenerate();
    },
    seal: () => unsupported('sealSession'),
    afterResponse: () => unsupported('afterResponse'),
  };
}

/** Express with its own final error handler: the response status is the error's `status`. */
export const expressHost: Host = {
  name: 'express',
  kind: 'manager',
  nativeReturn: false,
  start(config: SessionConfig, routes: Routes) {
    const errors: unknown[] = [];
    const app = express();
    app.use(sessionMiddleware(config));
    app.use((req, res, next) => {
      const url = new URL(req.originalUrl, 'http://127.0.0.1');
      const route = routes[url.pathname];
      if (route === undefined) {
        res.status(404).json({ error: 'no such route' });
        return;
      }
      route.run(managerApi(sessionOf(req), config, url, req)).then((value) => {
        if (res.headersSent) return;
        if (value === undefined) res.status(204).end();
        else res.json(value);
      }, next);
    });
    // Records the error and leaves the response to Express's final handler.
    app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
      errors.push(error);
      next(error);
    });
    return listenOn(createServer(app), errors);
  },
};

/** node, fetch, h3 1.x, h3 2.x and Hono from the matrix; Express as above. */
export const storeHosts: readonly Host[] = matrixHosts.map((host) =>
  host.name === 'express' ? expressHost : host,
);
