// examples/node.mjs
import { createServer } from 'node:http';
import { eventHandler, useSession } from 'sealed-session';
import { toNodeListener } from 'sealed-session/node';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');
const sessionConfig = { password, maxAge: 60 * 60 };

const app = eventHandler(async (event) => {
  const session = await useSession(event, sessionConfig);
  await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  return { id: session.id, visits: session.data.visits };
});

const server = createServer(toNodeListener(app)).listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`Listening on http://localhost:${port}`);
});
