/**
 * The demo web app: sealed-session on node:http (or node:https), through the package's own
 * public entry points (`sealed-session`, `sealed-session/node`, and `sealed-session/redis`
 * with REDIS_URL), exactly as an application imports them. This module wires the parts
 * together and starts the server; the session configuration, the account area's store, the
 * routes, the pages and the HTTP helpers live in their own modules.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { MIN_PASSWORD_LENGTH, eventHandler, isSessionError, memoryStore } from 'sealed-session';
import { toNodeListener } from 'sealed-session/node';
import { HttpError, checkOrigin, setSecurityHeaders } from './http.mjs';
import { messageBody } from './pages.mjs';
import { noteRejection, withRequestNotes } from './request-notes.mjs';
import { createRoutes, renderPage } from './routes.mjs';
import { HTTPS_COOKIE_NAME, createSessionSettings } from './session-config.mjs';

export { CATALOG } from './routes.mjs';
export {
  AUTH_COOKIE_NAME,
  AUTH_IDLE_TIMEOUT,
  AUTH_MAX_AGE,
  HTTPS_AUTH_COOKIE_NAME,
  HTTPS_COOKIE_NAME,
  MAX_AGE,
} from './session-config.mjs';
export { createDemoStore } from './session-store.mjs';

/**
 * Creates the demo server and starts listening.
 *
 * @param {import('./app.d.mts').DemoServerOptions} options
 * @returns {Promise<import('./app.d.mts').DemoServer>}
 */
export async function createDemoServer(options) {
  const {
    password,
    port = 3000,
    host = '127.0.0.1',
    cookieSecure = 'auto',
    trustProxy = false,
    tls,
    httpsUrl,
    store = {
      store: memoryStore(),
      description: 'in memory (this server only; restarting the demo signs everyone out)',
    },
    log = () => {},
  } = options;
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`The session password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (tls !== undefined && cookieSecure === false) {
    throw new Error(`Over HTTPS the cookie is ${HTTPS_COOKIE_NAME}, which must be Secure.`);
  }

  const settings = createSessionSettings({
    password,
    tls: tls !== undefined,
    cookieSecure,
    trustProxy,
    store: store.store,
    onInvalidToken: (rejection) => {
      noteRejection({
        code: rejection.error.code,
        source: rejection.source,
        name: rejection.name,
      });
      log(`session ${rejection.name} ${rejection.source} rejected: ${rejection.error.code}`);
    },
  });
  const routes = createRoutes({ ...settings, httpsUrl, storeDescription: store.description });

  const handler = eventHandler(async (event) => {
    setSecurityHeaders(event);
    // The path alone is what routes need; the base only makes it a URL to parse.
    const url = new URL(event.path, 'http://demo.invalid');
    const method = event.method === 'HEAD' ? 'GET' : event.method;
    try {
      const route = routes[url.pathname];
      if (route === undefined) throw new HttpError(404, 'There is no page here.');
      const action = route[method];
      if (action === undefined) {
        event.setResponseHeader('allow', Object.keys(route).join(', '));
        throw new HttpError(405, 'This page does not accept that method.');
      }
      if (method === 'POST') checkOrigin(event, trustProxy);
      return await action(event, url);
    } catch (error) {
      if (error instanceof HttpError) {
        return renderPage(event, 'Sorry', messageBody({ message: error.message }), {
          status: error.status,
        });
      }
      // Bad cookies never get here (they give a fresh session); this is a real failure.
      log(`demo error: ${isSessionError(error) ? error.code : String(error)}`);
      if (isSessionError(error, 'ERR_STORE_UNAVAILABLE')) {
        // The store is down or slow: nothing was read or written, and the cookie is as it
        // was. The error's status says 503: a passing outage, not a server fault.
        event.setResponseHeader('retry-after', '5');
        return renderPage(
          event,
          'Service unavailable',
          messageBody({
            message:
              'The session store is not answering, so your session could not be read or saved (ERR_STORE_UNAVAILABLE). Nothing was changed; try again in a moment.',
          }),
          { status: error.status ?? 503 },
        );
      }
      return renderPage(
        event,
        'Something went wrong',
        messageBody({
          message: isSessionError(error)
            ? `The session could not be saved (${error.code}).`
            : 'An unexpected error occurred.',
        }),
        { status: 500 },
      );
    }
  });

  const listener = toNodeListener(handler, {
    onError: (error) => {
      log(`demo error: ${String(error)}`);
    },
  });
  /** @type {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} */
  const onRequest = (req, res) => {
    withRequestNotes(() => {
      listener(req, res);
    });
  };
  const server =
    tls === undefined ? createHttpServer(onRequest) : createHttpsServer(tls, onRequest);

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  // Port 0 asks the system for a free port: the address says which one it gave.
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  // On a loopback address, the URL names the host people type (and browsers special-case).
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const urlHost = loopback ? 'localhost' : host.includes(':') ? `[${host}]` : host;

  return {
    server,
    port: actualPort,
    url: `${tls === undefined ? 'http' : 'https'}://${urlHost}:${actualPort}`,
    cookieName: settings.cookieName,
    authCookieName: settings.authCookieName,
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        // close() waits for keep-alive connections, which browsers hold open for minutes.
        server.closeAllConnections();
      });
    },
  };
}
