// examples/bun.mjs
import { eventHandler, useSession } from 'sealed-session';
import { toWebHandler } from 'sealed-session/fetch';

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');
const sessionConfig = { password };

const fetch = toWebHandler(
  eventHandler(async (event) => {
    const session = await useSession(event, sessionConfig);
    await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
    return { visits: session.data.visits };
  }),
);

const server = Bun.serve({ port: Number(process.env.PORT ?? 3000), fetch });
console.log(`Listening on http://localhost:${server.port}`);
