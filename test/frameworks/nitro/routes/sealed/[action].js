// sealed-session's calls without the event, inside a Nitro route: they find the request
// through Nitro's async context. The event is used only to read the route and the query.
import { defineEventHandler, getQuery, getRouterParam } from 'h3';
import {
  clearSession,
  getSession,
  sealSession,
  unsealSession,
  updateSession,
  useSession,
} from 'sealed-session';
import { config, failure, view } from '../../session-config.js';

/** A turn of the event loop: the calls after it run in a later async continuation. */
function tick() {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

const actions = {
  write: async (query) => {
    const session = await useSession(config);
    await session.update({ value: query.value, writtenBy: 'sealed-session' });
    return view(session);
  },
  update: async () =>
    view(await updateSession(config, (data) => ({ count: (data.count ?? 0) + 1 }))),
  read: async () => view(await getSession(config)),
  clear: async () => {
    await clearSession(config);
    return view(await getSession(config));
  },
  seal: async () => {
    const token = await sealSession(config);
    return { token, opened: await unsealSession(config, token) };
  },
};

export default defineEventHandler(async (event) => {
  const action = actions[getRouterParam(event, 'action') ?? ''];
  const query = getQuery(event);
  if (action === undefined) {
    event.node.res.statusCode = 404;
    return { error: 'no such action' };
  }
  try {
    await tick();
    return await action(query);
  } catch (error) {
    return failure(event, error);
  }
});
