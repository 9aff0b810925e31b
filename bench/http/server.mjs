/**
 * One benchmark server per process: `node server.mjs <name>`. Every server answers
 *   GET /login  → starts a session holding SESSION_DATA (sets the cookie)
 *   GET /read   → { data } from the session (no write)
 *   GET /write  → increments data.count, saves the session, returns { count }
 * and prints "ready <port>" once listening on 127.0.0.1.
 */
import http from 'node:http';
import { PASSWORD, SESSION_DATA } from './fixtures.mjs';

const name = process.argv[2];
const sessionData = () => structuredClone(SESSION_DATA);

function json(res, body) {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function notFound(res) {
  res.writeHead(404);
  res.end();
}

function listen(server) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`ready ${server.address().port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/**
 * The routes of the two servers with the h3 session API (sealed-session and h3 itself),
 * written once so they do exactly the same work; null for an unknown path.
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
        data.count++;
      });
      return { count: session.data.count };
    default:
      return null;
  }
}

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
    app.get('/login', (req, res) => {
      Object.assign(req.session, sessionData());
      res.json({ ok: true });
    });
    app.get('/read', (req, res) => {
      const { user, roles, count } = req.session;
      res.json({ data: { user, roles, count } });
    });
    app.get('/write', (req, res) => {
      req.session.count++;
      res.json({ count: req.session.count });
    });
    listen(http.createServer(app));
  },

  'iron-session': async () => {
    const { getIronSession } = await import('iron-session');
    const options = {
      password: PASSWORD,
      cookieName: 'iron',
      ttl: 3600,
      cookieOptions: { secure: true, httpOnly: true, sameSite: 'lax' },
    };
    listen(
      http.createServer(async (req, res) => {
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
    app.get('/login', async (request) => {
      request.session.set('data', sessionData());
      return { ok: true };
    });
    app.get('/read', async (request) => ({ data: request.session.get('data') }));
    app.get('/write', async (request) => {
      const data = request.session.get('data');
      data.count++;
      request.session.set('data', data);
      return { count: data.count };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.stdout.write(`ready ${app.server.address().port}\n`);
    process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  },
};

const start = servers[name];
if (!start) {
  console.error(`unknown server ${name}; one of ${Object.keys(servers).join(', ')}`);
  process.exit(2);
}
await start();
