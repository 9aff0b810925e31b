/**
 * One store-mode benchmark server per process: `node bench/store/server.mjs <name>` (names
 * in fixtures.mjs), with STORE_BENCH_PREFIX (the run's Redis key prefix) and
 * STORE_BENCH_REDIS_URL in the environment (and STORE_BENCH_NO_USER_KEY=1 to run the
 * sealed-session store servers without `userKey`, for what the user index costs). Every
 * server answers
 *   GET /login  → signs in: a session holding SESSION_DATA (sets the cookie)
 *   GET /read   → { data } from the session (nothing changes)
 *   GET /write  → increments data.count, saves the session, returns { count }
 * and prints "ready <port>" once listening on 127.0.0.1. The Redis servers share one
 * client library (node-redis v5, `redis`, which connect-redis v9 is written for), one
 * connected client per process.
 */
import http from 'node:http';
import { PASSWORD, SESSION_DATA } from '../http/fixtures.mjs';

/** @typedef {import('../http/fixtures.mjs').SessionData} SessionData */
/** @typedef {import('./fixtures.mjs').StoreServerName} StoreServerName */

const name = process.argv[2];
const PREFIX = process.env.STORE_BENCH_PREFIX ?? 'sealed-session-bench:manual:';
const REDIS_URL = process.env.STORE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Session lifetime, seconds: the same for every server. */
const MAX_AGE = 3600;

/** @returns {SessionData} a fresh copy each time: the servers change their own */
const sessionData = () => structuredClone(SESSION_DATA);

/** A connected node-redis client, for the life of the process. */
async function redisClient() {
  const { createClient } = await import('redis');
  const client = createClient({ url: REDIS_URL });
  client.on('error', (/** @type {unknown} */ error) => console.error('redis:', error));
  await client.connect();
  return client;
}

/** @param {http.Server} server */
function listen(server) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    // Listening on a TCP port: the address is an AddressInfo, not a pipe name or null.
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    process.stdout.write(`ready ${port}\n`);
  });
  // At once: requests still in flight when the client stops would otherwise meet a closed
  // Redis client and log its errors. The Redis connection ends with the process.
  process.on('SIGTERM', () => process.exit(0));
}

/**
 * The sealed-session config of a server: store mode over Redis with the user index, or
 * cookie mode.
 *
 * @param {import('sealed-session').SessionStore | undefined} store
 * @returns {import('sealed-session').SessionConfig}
 */
function sealedConfig(store) {
  if (store === undefined) return { password: PASSWORD, maxAge: MAX_AGE };
  // For what the user index costs: STORE_BENCH_NO_USER_KEY=1 keeps no index.
  if (process.env.STORE_BENCH_NO_USER_KEY === '1') {
    return { password: PASSWORD, maxAge: MAX_AGE, store };
  }
  return {
    password: PASSWORD,
    maxAge: MAX_AGE,
    store,
    userKey: (data) => /** @type {Partial<SessionData>} */ (data).user?.id,
  };
}

/**
 * The routes of the sealed-session servers, on the session manager both adapters give.
 *
 * @param {string} path
 * @param {import('sealed-session').SessionManager} session
 * @returns {Promise<object | null>} the JSON answer, or null for an unknown path
 */
async function sealedRoute(path, session) {
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

/**
 * express-session + connect-redis on Express.
 *
 * @param {boolean} disableTouch - connect-redis's option: reads do not reset the TTL
 */
async function expressSession(disableTouch) {
  const { default: express } = await import('express');
  // @ts-expect-error -- express-session ships no types (the benchmark only runs it)
  const { default: session } = await import('express-session');
  const { RedisStore } = await import('connect-redis');
  const client = await redisClient();
  const app = express();
  app.set('etag', false);
  app.use(
    session({
      secret: PASSWORD,
      // As express-session's docs recommend: no write of an unchanged session, no store
      // entry (nor cookie) for a session that was never changed.
      resave: false,
      saveUninitialized: false,
      store: new RedisStore({ client, prefix: `${PREFIX}${name}:`, disableTouch }),
      cookie: { maxAge: MAX_AGE * 1000, httpOnly: true, sameSite: 'lax' },
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
}

/** @type {Record<StoreServerName, () => Promise<void>>} */
const servers = {
  // The floor of the Express rows: the same routes and answers on Express 5, no session.
  'express-bare': async () => {
    const { default: express } = await import('express');
    const app = express();
    app.set('etag', false);
    app.get('/login', (_req, res) => {
      res.setHeader('set-cookie', 'bare=1; Path=/; HttpOnly; SameSite=Lax');
      res.json({ ok: true });
    });
    app.get('/read', (req, res) => {
      // Touch the cookie header as a session library would have to.
      if ((req.headers.cookie ?? '').length === 0) return void res.status(404).end();
      res.json({ data: sessionData() });
    });
    let count = SESSION_DATA.count;
    app.get('/write', (_req, res) => {
      res.json({ count: ++count });
    });
    listen(http.createServer(app));
  },
  'express-session': () => expressSession(false),
  'express-session-notouch': () => expressSession(true),

  'sealed-express-redis': async () => {
    const { default: express } = await import('express');
    const { sessionMiddleware } = await import('sealed-session/express');
    const { redisStore } = await import('sealed-session/redis');
    const client = await redisClient();
    const config = sealedConfig(redisStore({ client, prefix: `${PREFIX}${name}:` }));
    const app = express();
    app.set('etag', false);
    // As express-session above: no cookie for a session that never changed.
    app.use(sessionMiddleware(config, { saveUninitialized: false }));
    for (const path of ['/login', '/read', '/write']) {
      app.get(path, (req, res, next) => {
        sealedRoute(path, req.session).then((answer) => res.json(answer), next);
      });
    }
    listen(http.createServer(app));
  },

  'sealed-node-redis': async () => {
    const { eventHandler, useSession } = await import('sealed-session');
    const { toNodeListener } = await import('sealed-session/node');
    const { redisStore } = await import('sealed-session/redis');
    const client = await redisClient();
    const config = sealedConfig(redisStore({ client, prefix: `${PREFIX}${name}:` }));
    const handler = eventHandler(async (event) => {
      const answer = await sealedRoute(event.path, await useSession(event, config));
      if (answer === null) event.status = 404;
      return answer;
    });
    listen(http.createServer(toNodeListener(handler)));
  },

  'sealed-node-cookie': async () => {
    const { eventHandler, useSession } = await import('sealed-session');
    const { toNodeListener } = await import('sealed-session/node');
    const config = sealedConfig(undefined);
    const handler = eventHandler(async (event) => {
      const answer = await sealedRoute(event.path, await useSession(event, config));
      if (answer === null) event.status = 404;
      return answer;
    });
    listen(http.createServer(toNodeListener(handler)));
  },
};

// An unknown name (or none) finds no server: the message below.
const start = servers[/** @type {StoreServerName} */ (name)];
if (!start) {
  console.error(`unknown server ${name}; one of ${Object.keys(servers).join(', ')}`);
  process.exit(2);
}
await start();
