// examples/worker.mjs
import { eventHandler, useSession } from 'sealed-session';
import { toWebHandler } from 'sealed-session/fetch';

export default {
  fetch(request, env) {
    // Workers hand secrets to each request through `env`.
    const sessionConfig = configFor(env.SESSION_PASSWORD);
    return toWebHandler(
      eventHandler(async (event) => {
        const session = await useSession(event, sessionConfig);
        await session.update((data) => ({ visits: (data.visits ?? 0) + 1 }));
        return { visits: session.data.visits };
      }),
    )(request);
  },
};

// One config object per password, so its validation runs once, not per request.
const configs = new Map();
function configFor(password) {
  if (!configs.has(password)) configs.set(password, { password });
  return configs.get(password);
}
