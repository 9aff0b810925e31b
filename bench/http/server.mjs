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
    // 497 characters: the length of sealed-session's token for SESSION_DATA (checked in
    // test/bench/http-fixtures.test.ts).
    const cookie = `h3=${'x'.repeat(497)}`;
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

  // About the least an Fe26.2 cookie session can spend on node:http: bare-node-http's work,
  // plus only what a sealed cookie needs, on sealed-session's own node:crypto primitives
  // with both keys kept. Its token holds what sealed-session's holds (an id, the creation
  // time, the data, its purpose), so both are as long; the sessions it sealed are kept by
  // MAC, already parsed, and a write seals a shallow copy. No session layer, no checks: it
  // opens no token it did not seal, and never expires one. What sealed-session spends
  // above it is its session layer; a target below it is out of reach.
  'fe26-floor': async () => {
    const { pbkdf2Sync, randomBytes, randomUUID } = await import('node:crypto');
    const { nodeBackend } = await import('../../dist/iron/backend/node.js');
    const salt = () => randomBytes(32).toString('hex');
    const [encryptionSalt, integritySalt] = [salt(), salt()];
    /** @param {string} keySalt */
    const derive = (keySalt) => pbkdf2Sync(PASSWORD, keySalt, 1, 32, 'sha1');
    const encryptionKey = nodeBackend.importKey(derive(encryptionSalt), 'aes-256-cbc');
    const integrityKey = nodeBackend.importKey(derive(integritySalt), 'sha256');
    /**
     * @typedef {{ id: string, createdAt: number, data: SessionData, purpose: string }}
     *   FloorSession - what sealed-session's token holds, its default purpose included
     */
    // Each session sealed, by its token's MAC, the most recent 1,024, in use order.
    /** @type {Map<string, FloorSession>} */
    const sealed = new Map();
    /** @param {FloorSession} session */
    const seal = (session) => {
      const plaintext = JSON.stringify(session);
      const iv = nodeBackend.randomBytes(16);
      const ciphertext = nodeBackend.encrypt('aes-256-cbc', encryptionKey, iv, plaintext);
      const expiration = session.createdAt + 3_600_000;
      const base = `Fe26.2**${encryptionSalt}*${Buffer.from(iv).toString('base64url')}*${ciphertext}*${expiration}`;
      // Both synchronous on the node backend.
      const mac = /** @type {string} */ (nodeBackend.mac(integrityKey, base));
      if (sealed.size === 1024) sealed.delete(/** @type {string} */ (sealed.keys().next().value));
      sealed.set(mac, session);
      const maxAge = Math.round((expiration - Date.now()) / 1000);
      const expires = new Date(expiration).toUTCString();
      return `h3=${base}*${integritySalt}*${mac}; Max-Age=${maxAge}; Expires=${expires}; Path=/; HttpOnly; Secure; SameSite=Lax`;
    };
    /**
     * The session of the request's cookie, when it is a token sealed here.
     *
     * @param {http.IncomingMessage} req
     * @returns {FloorSession | undefined}
     */
    const open = (req) => {
      const header = req.headers.cookie ?? '';
      const at = header.indexOf('h3=');
      if (at < 0) return undefined;
      const end = header.indexOf(';', at);
      const token = header.slice(at + 3, end < 0 ? undefined : end);
      const mac = token.slice(-43);
      const session = sealed.get(mac);
      if (session === undefined) return undefined;
      sealed.delete(mac);
      sealed.set(mac, session);
      return session;
    };
    listen(
      http.createServer((req, res) => {
        const url = req.url;
        if (url === '/login') {
          const session = {
            id: randomUUID(),
            createdAt: Date.now(),
            data: sessionData(),
            purpose: 'h3',
          };
          res.setHeader('set-cookie', seal(session));
          return json(res, { ok: true });
        }
        const session = open(req);
        if (url === '/read') return json(res, { data: session?.data ?? {} });
        if (url === '/write' && session !== undefined) {
          const data = { ...session.data, count: session.data.count + 1 };
          res.setHeader('set-cookie', seal({ ...session, data }));
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
