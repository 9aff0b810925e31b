// examples/h3.mjs
import { createServer } from 'node:http';
import { createApp, eventHandler, toNodeListener } from 'h3';
import { useSession } from 'sealed-session'; // was: from 'h3' (or 'vinxi/http')

const password = process.env.SESSION_PASSWORD;
if (password === undefined) throw new Error('Set SESSION_PASSWORD (32 or more characters)');
const sessionConfig = { password, name: 'h3' };

const app = createApp();
app.use(
  eventHandler(async (event) => {
    const session = await useSession(event, sessionConfig);
    await session.update({ lastSeen: Date.now() });
    return { id: session.id, data: session.data };
  }),
);

const server = createServer(toNodeListener(app)).listen(Number(process.env.PORT ?? 3000), () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`Listening on http://localhost:${port}`);
});
