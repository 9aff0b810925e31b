// examples/hono.mjs
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { sessionMiddleware } from 'sealed-session/hono';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');

/** @type {Hono<import('sealed-session/hono').SessionEnv>} */
const app = new Hono();
app.use(sessionMiddleware({ password }));

app.get('/', async (c) => {
  const session = c.get('session');
  await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  return c.json({ visits: session.data.visits });
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) => {
  console.log(`Listening on http://localhost:${port}`);
});
