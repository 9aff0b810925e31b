// examples/worker.mjs
import { eventHandler, useSession } from 'sealed-session';
import { toWebHandler } from 'sealed-session/fetch';

export default {
  /**
   * @param {Request} request
   * @param {{ SESSION_PASSWORD: string }} env
   */
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
/** @type {Map<string, import('sealed-session').SessionConfig>} */
const configs = new Map();
/** @param {string} password */
function configFor(password) {
  let config = configs.get(password);
  if (config === undefined) {
    config = { password };
    configs.set(password, config);
  }
  return config;
}
