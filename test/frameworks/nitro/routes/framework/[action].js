// The framework's own session functions: h3's, as a Nitro app uses them (with the event),
// on the same cookie as the sealed-session routes.
import {
  clearSession,
  defineEventHandler,
  getQuery,
  getRouterParam,
  getSession,
  useSession,
} from 'h3';
import { updateSession as sealedUpdateSession } from 'sealed-session';
import { config, failure, view } from '../../session-config.js';

const actions = {
  write: async (event) => {
    const session = await useSession(event, config);
    await session.update({ value: getQuery(event).value, writtenBy: 'framework' });
    return view(session);
  },
  read: async (event) => view(await getSession(event, config)),
  clear: async (event) => {
    await clearSession(event, config);
    return { cleared: true };
  },
  // sealed-session writes (without the event), then h3 reads in the same request.
  'sealed-write-then-read': async (event) => {
    const { value } = getQuery(event);
    await sealedUpdateSession(config, { value, writtenBy: 'sealed-session' });
    return view(await getSession(event, config));
  },
};

export default defineEventHandler(async (event) => {
  const action = actions[getRouterParam(event, 'action') ?? ''];
  if (action === undefined) {
    event.node.res.statusCode = 404;
    return { error: 'no such action' };
  }
  try {
    return await action(event);
  } catch (error) {
    return failure(event, error);
  }
});
