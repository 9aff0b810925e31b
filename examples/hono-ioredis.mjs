// examples/hono-ioredis.mjs
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { sessionMiddleware } from 'sealed-session/hono';
import { redisStore } from 'sealed-session/redis';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');

// Commands fail at once while Redis is unreachable (ioredis would retry each for ~10 s),
// and a command cut off by a lost connection is not sent again after the reconnection.
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
});
client.on('error', (error) => console.error('redis:', error.message));
await new Promise((resolve) => client.once('ready', resolve));

/** @type {Hono<import('sealed-session/hono').SessionEnv>} */
const app = new Hono();
app.use(sessionMiddleware({ password, idleTimeout: 60 * 30, store: redisStore({ client }) }));

app.get('/', async (c) => {
  const session = c.get('session');
  await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  return c.json({ visits: session.data.visits });
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) => {
  console.log(`Listening on http://localhost:${port}`);
});
