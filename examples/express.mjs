// examples/express.mjs
import express from 'express';
import { sessionMiddleware } from 'sealed-session/express';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');

const app = express();
app.use(sessionMiddleware({ password, maxAge: 60 * 60 }));

app.get('/', async (req, res) => {
  await req.session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  res.json({ visits: req.session.data.visits });
});

app.post('/logout', async (req, res) => {
  await req.session.clear();
  res.json({ ok: true });
});

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`Listening on http://localhost:${port}`);
});
