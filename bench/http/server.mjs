/**
 * One benchmark server per process: `node server.mjs <name>`. Every server answers
 *   GET /login  → starts a session holding SESSION_DATA (sets the cookie)
 *   GET /read   → { data } from the session (no write)
 *   GET /write  → increments data.count, saves the session, returns { count }
 * and prints "ready <port>" once listening on 127.0.0.1.
 */
import http from 'node:http';
import { PASSWORD, SESSION_DATA } from './fixtures.mjs';

/** @typedef {import('./fixtures.mjs').SessionData} SessionData */

const name = process.argv[2];
/** @returns {SessionData} a fresh copy each time: the servers change their own */
const sessionData = () => structuredClone(SESSION_DATA);

/**
 * @param {http.ServerResponse} res
 * @param {unknown} body
 */
function json(res, body) {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** @param {http.ServerResponse} res */
function notFound(res) {
  res.writeHead(404);
  res.end();
}

/** @param {http.Server} server */
function listen(server) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    // Listening on a TCP port: the address is an AddressInfo, not a pipe name or null.
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    process.stdout.write(`ready ${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/**
 * The routes of the two servers with the h3 session API (sealed-session and h3 itself),
 * written once so they do exactly the same work; null for an unknown path.
 *
 * @param {string} path
 * @param {{ readonly data: Record<string, unknown>, update(update: Record<string, unknown>
 *   | ((data: Record<string, unknown>) => undefined)): Promise<unknown> }} session - what the
 *   two libraries' sessions have in common
 */
async function h3SessionRoute(path, session) {
  switch (path) {
    case '/login':
      await session.update(sessionData());
      return { ok: true };
    case '/read':
      return { data: session.data };
    case '/write':
      await session.update((data) => {
        // Signed in through /login first, so the data is SESSION_DATA's shape.
        /** @type {SessionData} */ (data).count++;
      });
      return { count: session.data.count };
    default:
      return null;
  }
}

/** @type {Record<string, () => Promise<void>>} */
const servers = {
  // The baseline: the same response work and a cookie of the same size as a sealed one,
  // but no session. The ratio against it isolates what the session costs.
  'bare-node-http': async () => {
    // 475 characters: the length of sealed-session's token for SESSION_DATA.
    const cookie = `h3=${'x'.repeat(475)}`;
    listen(
      http.createServer((req, res) => {
        const url = req.url;
        if (url === '/login') {
          res.setHeader('set-cookie', `${cookie}; Path=/; HttpOnly; Secure; SameSite=Lax`);
          return json(res, { ok: true });
        }
        // Touch the cookie header as a session library would have to.
        if ((req.headers.cookie ?? '').length === 0) return notFound(res);
        if (url === '/read') return json(res, { data: sessionData() });
        if (url === '/write') {
          const data = sessionData();
          data.count++;
          return json(res, { count: data.count });
        }
        return notFound(res);
      }),
    );
  },

  'sealed-session': async () => {
    const { eventHandler, useSession } = await import('sealed-session');
    const { toNodeListener } = await import('sealed-session/node');
    const config = { password: PASSWORD, maxAge: 3600 };
    const handler = eventHandler(async (event) => {
      const answer = await h3SessionRoute(event.path, await useSession(event, config));
      if (answer === null) event.status = 404;
      return answer;
    });
    listen(http.createServer(toNodeListener(handler)));
  },

  'h3-v1': async () => {
    const { createApp, eventHandler, toNodeListener, useSession } = await import('h3-v1');
    const config = { password: PASSWORD, maxAge: 3600 };
    const app = createApp();
    app.use(
      eventHandler(async (event) => h3SessionRoute(event.path, await useSession(event, config))),
    );
    listen(http.createServer(toNodeListener(app)));
  },

  'express-session': async () => {
    const { default: express } = await import('express');
    // @ts-expect-error -- express-session ships no types (the benchmark only runs it)
    const { default: session } = await import('express-session');
    const app = express();
    app.set('etag', false);
    app.use(
      session({
        secret: PASSWORD,
        resave: false,
        saveUninitialized: false,
        store: new session.MemoryStore(),
        cookie: { maxAge: 3600_000, httpOnly: true, sameSite: 'lax' },
      }),
    );
    // What express-session adds to each request, which its missing types would declare.
    /** @typedef {import('express').Request & { session: SessionData }} SessionRequest */
    app.get('/login', (req, res) => {
      Object.assign(/** @type {SessionRequest} */ (req).session, sessionData());
      res.json({ ok: true });
    });
    app.get('/read', (req, res) => {
      const { user, roles, count } = /** @type {SessionRequest} */ (req).session;
      res.json({ data: { user, roles, count } });
    });
    app.get('/write', (req, res) => {
      /** @type {SessionRequest} */ (req).session.count++;
      res.json({ count: /** @type {SessionRequest} */ (req).session.count });
    });
    listen(http.createServer(app));
  },

  'iron-session': async () => {
    const { getIronSession } = await import('iron-session');
    /** @type {import('iron-session').SessionOptions} */
    const options = {
      password: PASSWORD,
      cookieName: 'iron',
      ttl: 3600,
      cookieOptions: { secure: true, httpOnly: true, sameSite: 'lax' },
    };
    listen(
      http.createServer(async (req, res) => {
        /** @type {import('iron-session').IronSession<SessionData>} */
        const session = await getIronSession(req, res, options);
        if (req.url === '/login') {
          Object.assign(session, sessionData());
          await session.save();
          return json(res, { ok: true });
        }
        if (req.url === '/read') {
          const { user, roles, count } = session;
          return json(res, { data: { user, roles, count } });
        }
        if (req.url === '/write') {
          session.count++;
          await session.save();
          return json(res, { count: session.count });
        }
        return notFound(res);
      }),
    );
  },

  'fastify-secure-session': async () => {
    const { default: fastify } = await import('fastify');
    const { default: secureSession } = await import('@fastify/secure-session');
    const app = fastify({ logger: false });
    await app.register(secureSession, {
      key: Buffer.alloc(32, 7),
      cookieName: 'fss',
      cookie: { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 3600 },
    });
    // The plugin types a session's keys by augmenting its module, which JavaScript cannot:
    // this names the one key the routes keep.
    /** @typedef {import('@fastify/secure-session').Session<{ data: SessionData }>} FssSession */
    app.get('/login', async (request) => {
      /** @type {FssSession} */ (request.session).set('data', sessionData());
      return { ok: true };
    });
    app.get('/read', async (request) => ({
      data: /** @type {FssSession} */ (request.session).get('data'),
    }));
    app.get('/write', async (request) => {
      // Signed in through /login first, so the data is there.
      const data = /** @type {SessionData} */ (
        /** @type {FssSession} */ (request.session).get('data')
      );
      data.count++;
      /** @type {FssSession} */ (request.session).set('data', data);
      return { count: data.count };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    // Listening on a TCP port: the address is an AddressInfo, not a pipe name or null.
    const { port } = /** @type {import('node:net').AddressInfo} */ (app.server.address());
    process.stdout.write(`ready ${port}\n`);
    process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  },
};

// Without an argument, `name` is undefined and so is the server: the message below.
const start = servers[/** @type {string} */ (name)];
if (!start) {
  console.error(`unknown server ${name}; one of ${Object.keys(servers).join(', ')}`);
  process.exit(2);
}
await start();
