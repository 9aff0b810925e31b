/**
 * The demo web app: sealed-session on node:http (or node:https), through the package's own
 * public entry points (`sealed-session`, `sealed-session/node`), exactly as an application
 * imports them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Buffer } from 'node:buffer';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { URLSearchParams } from 'node:url';
import {
  DEFAULT_NAME,
  MIN_PASSWORD_LENGTH,
  clearSession,
  eventHandler,
  getSession,
  isSessionError,
  useSession,
} from 'sealed-session';
import { toNodeListener } from 'sealed-session/node';
import {
  cartBody,
  cookieBody,
  counterBody,
  homeBody,
  layout,
  messageBody,
  rejectionNotices,
  sessionBody,
} from './pages.mjs';
import { describeToken, parseCookieHeader } from './token-info.mjs';

/** Session lifetime in seconds, counted from createdAt (sign-in restarts it). */
export const MAX_AGE = 60 * 60;
/** Largest form body accepted, in bytes. */
const BODY_LIMIT = 4 * 1024;
const NAME_LIMIT = 40;
const QUANTITY_LIMIT = 99;

/**
 * The session cookie's name over HTTPS. `__Host-`: browsers keep such a cookie only when it
 * is Secure, has Path=/ and no Domain, so no other subdomain of the site can plant one in
 * its place (cookie tossing).
 */
export const HTTPS_COOKIE_NAME = `__Host-${DEFAULT_NAME}`;

/** The error code of a cookie sent more than once: a warning, the first one was used. */
const DUPLICATE = 'ERR_COOKIE_DUPLICATE';

export const CATALOG = Object.freeze([
  { id: 'apple', label: 'Apple' },
  { id: 'bread', label: 'Bread' },
  { id: 'coffee', label: 'Coffee' },
  { id: 'tea', label: 'Tea' },
]);

class HttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Per-request notes. `onInvalidToken` receives no event, but it runs inside the request's
 * async context, so AsyncLocalStorage ties each rejection to its request.
 *
 * @type {AsyncLocalStorage<{ rejections: Array<{ code: string, source: string }> }>}
 */
const requestStore = new AsyncLocalStorage();

/**
 * Whether this request arrived over HTTPS.
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {boolean} trustProxy
 */
function isHttps(req, trustProxy) {
  if (/** @type {{ encrypted?: boolean }} */ (req.socket).encrypted === true) return true;
  if (!trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim();
  return first === 'https';
}

/**
 * Reads an application/x-www-form-urlencoded body of at most BODY_LIMIT bytes.
 *
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
function readForm(req) {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return Promise.reject(
      new HttpError(415, 'Forms must be sent as application/x-www-form-urlencoded.'),
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT) {
    req.resume();
    return Promise.reject(new HttpError(413, 'The form is too large.'));
  }
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let done = false;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > BODY_LIMIT) {
        done = true;
        req.resume(); // discard the rest
        reject(new HttpError(413, 'The form is too large.'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
  });
}

/** @param {string} location */
function redirect(location) {
  return new Response(null, { status: 303, headers: { location } });
}

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
    log = () => {},
  } = options;
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`The session password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (tls !== undefined && cookieSecure === false) {
    throw new Error(`Over HTTPS the cookie is ${HTTPS_COOKIE_NAME}, which must be Secure.`);
  }

  /** @param {import('sealed-session').SessionRejection} rejection */
  const onInvalidToken = (rejection) => {
    requestStore.getStore()?.rejections.push({
      code: rejection.error.code,
      source: rejection.source,
    });
    log(`session ${rejection.source} rejected: ${rejection.error.code}`);
  };

  // Secure cookies and plain http://localhost: Chromium and Firefox treat http://localhost
  // as a secure context and keep Secure cookies set over it; Safari does not, and drops
  // them, so a demo that always sets Secure loses its session on every request in Safari.
  // On any other plain-HTTP host every browser drops Secure cookies. So by default
  // ('auto') the cookie is Secure exactly when the request came over HTTPS (a TLS socket,
  // or X-Forwarded-Proto: https behind a trusted proxy): that works in every browser and
  // never sends the session in clear text once the site is served over HTTPS.
  // COOKIE_SECURE=true / false forces it. The two configurations are built once: the
  // library caches its validation per config object.
  //
  // The name: over HTTPS (a TLS socket here) the cookie is `__Host-h3`, which a sibling
  // subdomain cannot plant. Plain HTTP keeps `h3`: browsers accept `__Host-` only on a
  // Secure cookie, and the point above is that plain HTTP cannot rely on Secure. Behind a
  // TLS proxy (trustProxy) it stays `h3` as well: that listener may also be reached over
  // plain HTTP, and a name that changed with the scheme would drop the session.
  const cookieName = tls === undefined ? DEFAULT_NAME : HTTPS_COOKIE_NAME;
  /** @type {(secure: boolean) => import('sealed-session').SessionConfig} */
  const makeConfig = (secure) =>
    Object.freeze({
      password,
      name: cookieName,
      maxAge: MAX_AGE,
      cookie: { secure, httpOnly: true, sameSite: /** @type {const} */ ('lax'), path: '/' },
      onInvalidToken,
    });
  const secureConfig = makeConfig(true);
  // Over TLS every request is secure; a `__Host-` config without Secure would be invalid.
  const plainConfig = tls === undefined ? makeConfig(false) : secureConfig;

  /** @param {import('sealed-session/node').HTTPEvent} event */
  const requestOf = (event) =>
    /** @type {import('node:http').IncomingMessage} */ (/** @type {unknown} */ (event.node?.req));

  /** @param {import('sealed-session/node').HTTPEvent} event */
  const secureFor = (event) =>
    cookieSecure === 'auto' ? isHttps(requestOf(event), trustProxy) : cookieSecure;

  /** @param {import('sealed-session/node').HTTPEvent} event */
  const configFor = (event) => (secureFor(event) ? secureConfig : plainConfig);

  const rejections = () => requestStore.getStore()?.rejections ?? [];
  /** The rejections that cost the request its token (a duplicate still used the first). */
  const refusals = () => rejections().filter((entry) => entry.code !== DUPLICATE);

  /**
   * @param {import('sealed-session/node').HTTPEvent} event
   * @param {string} title
   * @param {unknown} body
   * @param {{ name?: string | undefined, notices?: import('./pages.mjs').Notice[], status?: number }} [extra]
   */
  const page = (event, title, body, extra = {}) => {
    if (extra.status !== undefined) event.status = extra.status;
    return layout({
      title,
      name: extra.name,
      notices: [...rejectionNotices(rejections()), ...(extra.notices ?? [])],
      body,
    }).value;
  };

  /**
   * Same-origin check for POSTs. SameSite=Lax already keeps the cookie off cross-site
   * POSTs; this also refuses them outright.
   *
   * @param {import('sealed-session/node').HTTPEvent} event
   */
  const checkOrigin = (event) => {
    const origin = event.getRequestHeader('origin');
    if (origin === undefined || origin === 'null') return;
    const scheme = isHttps(requestOf(event), trustProxy) ? 'https' : 'http';
    if (origin !== `${scheme}://${event.getRequestHeader('host') ?? ''}`) {
      throw new HttpError(403, 'Cross-origin form posts are refused.');
    }
  };

  /** @type {Record<string, Record<string, (event: import('sealed-session/node').HTTPEvent, url: URL) => Promise<string | Response>>>} */
  const routes = {
    '/': {
      async GET(event, url) {
        const config = configFor(event);
        // Read only: a visitor who never signs in gets no cookie from this page.
        const session = await getSession(event, config);
        // A refused cookie would be refused again on every page: delete it.
        if (refusals().length > 0) await clearSession(event, config);
        /** @type {import('./pages.mjs').Notice[]} */
        const notices = [];
        if (url.searchParams.has('signed-out')) {
          notices.push({
            kind: 'info',
            text: 'You are signed out: the session cookie was deleted from this browser.',
          });
        }
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return page(event, 'Home', homeBody({ name }), { name, notices });
      },
    },
    '/signin': {
      async POST(event) {
        const form = await readForm(requestOf(event));
        const name = (form.get('name') ?? '').trim();
        if (name === '' || name.length > NAME_LIMIT) {
          return page(
            event,
            'Home',
            homeBody({
              name: undefined,
              value: name.slice(0, NAME_LIMIT),
              error: `Enter a name of 1 to ${NAME_LIMIT} characters.`,
            }),
            { status: 400 },
          );
        }
        const session = await useSession(event, configFor(event));
        const previousId = session.id ?? '';
        // New id on sign-in (session fixation); the data (counter, cart) is kept.
        await session.regenerate();
        await session.update({ name, signedInAt: Date.now() });
        return redirect(`/session?regenerated-from=${encodeURIComponent(previousId)}`);
      },
    },
    '/signout': {
      async POST(event) {
        // Deletes the cookie (Max-Age=0); nothing later in this request revives the session.
        await clearSession(event, configFor(event));
        return redirect('/?signed-out');
      },
    },
    '/session': {
      async GET(event, url) {
        const session = await useSession(event, configFor(event));
        const id = session.id ?? '';
        const createdAt = session.createdAt ?? Date.now();
        const data = session.data;
        /** @type {import('./pages.mjs').Notice[]} */
        const notices = [];
        const previous = url.searchParams.get('regenerated-from');
        // Only an id-shaped value: the query string must not put arbitrary text on the page.
        if (previous !== null && /^[\w-]{0,64}$/.test(previous)) {
          notices.push({
            kind: 'info',
            text: `Signed in. The session id changed from ${previous === '' ? '(none)' : previous} to ${id}, so an id known before sign-in is worthless.`,
          });
        }
        const name = typeof data.name === 'string' ? data.name : undefined;
        return page(
          event,
          'Your session',
          sessionBody({
            session: { id, createdAt, data },
            expiresAt: createdAt + MAX_AGE * 1000,
            secure: secureFor(event),
            cookieName,
            httpsUrl,
          }),
          { name, notices },
        );
      },
    },
    '/counter': {
      async GET(event) {
        const session = await useSession(event, configFor(event));
        const count = Number.isSafeInteger(session.data.count) ? Number(session.data.count) : 0;
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return page(event, 'Counter', counterBody({ count }), { name });
      },
      async POST(event) {
        const form = await readForm(requestOf(event));
        const session = await useSession(event, configFor(event));
        if (form.get('action') === 'reset') {
          await session.update({ count: 0 });
        } else {
          await session.update((data) => ({
            count: Number.isSafeInteger(data.count) ? Number(data.count) + 1 : 1,
          }));
        }
        return redirect('/counter');
      },
    },
    '/cart': {
      async GET(event) {
        const session = await useSession(event, configFor(event));
        const cart = cartOf(session.data);
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return page(event, 'Cart', cartBody({ cart, catalog: CATALOG }), { name });
      },
      async POST(event) {
        const form = await readForm(requestOf(event));
        const item = form.get('item') ?? '';
        const action = form.get('action');
        if (
          !CATALOG.some((product) => product.id === item) ||
          (action !== 'add' && action !== 'remove')
        ) {
          throw new HttpError(400, 'Unknown product or action.');
        }
        const session = await useSession(event, configFor(event));
        const cart = cartOf(session.data);
        const quantity = cart[item] ?? 0;
        if (action === 'add') cart[item] = Math.min(QUANTITY_LIMIT, quantity + 1);
        else if (quantity > 1) cart[item] = quantity - 1;
        else delete cart[item];
        await session.update({ cart });
        return redirect('/cart');
      },
    },
    '/cookie': {
      async GET(event) {
        const config = configFor(event);
        const header = event.getRequestHeader('cookie');
        // The first cookie of the name is the one the library reads.
        const values = parseCookieHeader(header).filter(([cookie]) => cookie === cookieName);
        const value = values[0]?.[1];
        const session = await getSession(event, config);
        const rejection = refusals().find((entry) => entry.source === 'cookie');
        const sent = value !== undefined && value !== '';
        const name = typeof session.data.name === 'string' ? session.data.name : undefined;
        return page(
          event,
          'Your cookie',
          cookieBody({
            header,
            cookieName,
            token: sent ? describeToken(value) : undefined,
            sent,
            accepted: sent && rejection === undefined,
            rejectionCode: rejection?.code,
            count: values.length,
            httpsUrl,
          }),
          { name },
        );
      },
    },
  };

  const handler = eventHandler(async (event) => {
    event.setResponseHeader('cache-control', 'no-store');
    event.setResponseHeader('x-content-type-options', 'nosniff');
    event.setResponseHeader('referrer-policy', 'no-referrer');
    event.setResponseHeader(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
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
      if (method === 'POST') checkOrigin(event);
      return await action(event, url);
    } catch (error) {
      if (error instanceof HttpError) {
        return page(event, 'Sorry', messageBody({ message: error.message }), {
          status: error.status,
        });
      }
      // Bad cookies never get here (they give a fresh session); this is a real failure.
      log(`demo error: ${isSessionError(error) ? error.code : String(error)}`);
      return page(
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
    requestStore.run({ rejections: [] }, () => {
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
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const urlHost = loopback ? 'localhost' : host.includes(':') ? `[${host}]` : host;

  return {
    server,
    port: actualPort,
    url: `${tls === undefined ? 'http' : 'https'}://${urlHost}:${actualPort}`,
    cookieName,
    close() {
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The cart from session data, keeping only known products and sane quantities.
 *
 * @param {Record<string, unknown>} data
 * @returns {Record<string, number>}
 */
function cartOf(data) {
  /** @type {Record<string, number>} */
  const cart = {};
  const stored = data.cart;
  if (typeof stored !== 'object' || stored === null) return cart;
  for (const product of CATALOG) {
    const quantity = /** @type {Record<string, unknown>} */ (stored)[product.id];
    if (Number.isSafeInteger(quantity) && Number(quantity) > 0) {
      cart[product.id] = Math.min(QUANTITY_LIMIT, Number(quantity));
    }
  }
  return cart;
}
