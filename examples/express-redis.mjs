// examples/express-redis.mjs
import express from 'express';
import { createClient } from 'redis';
import { listSessions, revokeUserSessions } from 'sealed-session';
import { sessionMiddleware } from 'sealed-session/express';
import { redisStore } from 'sealed-session/redis';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');

// Commands fail at once while Redis is unreachable, instead of queueing without limit.
const client = createClient({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000),
  },
});
client.on('error', (error) => console.error('redis:', error.message));
await client.connect();

/** @type {import('sealed-session').SessionConfig} */
const config = {
  password,
  maxAge: 60 * 60 * 24 * 7,
  store: redisStore({ client }),
  userKey: (data) => data.userId,
};

const app = express();
app.use(sessionMiddleware(config));

app.get('/', async (req, res) => {
  await req.session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  res.json({ visits: req.session.data.visits });
});

app.post('/login', async (req, res) => {
  // A real sign-in checks a password first. A new user moves the session to a new id.
  await req.session.update({ userId: String(req.query.user) });
  res.json({ id: req.session.id });
});

app.get('/devices', async (req, res) => {
  const userId = req.session.data.userId;
  if (userId === undefined) return void res.status(401).json({ error: 'not signed in' });
  res.json({ current: req.session.id, sessions: await listSessions(config, userId) });
});

app.post('/logout-everywhere', async (req, res) => {
  const userId = req.session.data.userId;
  const revoked = userId === undefined ? 0 : await revokeUserSessions(config, userId);
  res.json({ revoked });
});

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`Listening on http://localhost:${port}`);
});
