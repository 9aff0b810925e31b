// examples/node.mjs
import { createServer } from 'node:http';
import { eventHandler, useSession } from 'sealed-session';
import { toNodeListener } from 'sealed-session/node';

const sessionConfig = { password: process.env.SESSION_PASSWORD, maxAge: 60 * 60 };

const app = eventHandler(async (event) => {
  const session = await useSession(event, sessionConfig);
  await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
  return { id: session.id, visits: session.data.visits };
});

const server = createServer(toNodeListener(app)).listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`Listening on http://localhost:${server.address().port}`);
});
