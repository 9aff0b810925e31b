// examples/deno.mjs
import { eventHandler, useSession } from 'sealed-session';
import { toWebHandler } from 'sealed-session/fetch';

const password = Deno.env.get('SESSION_PASSWORD');
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');
const sessionConfig = { password };

const handler = toWebHandler(
  eventHandler(async (event) => {
    const session = await useSession(event, sessionConfig);
    await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
    return { visits: session.data.visits };
  }),
);

Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    onListen: ({ port }) => console.log(`Listening on http://localhost:${port}`),
  },
  handler,
);
