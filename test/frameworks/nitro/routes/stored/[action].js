// Store mode inside Nitro: sessions kept in Nitro's own storage (`useStorage()`, here its
// default in-memory driver) through sealed-session/unstorage, with the calls without the
// event, a user index, and sign-out everywhere.
import { defineEventHandler, getQuery, getRouterParam } from 'h3';
import { useStorage } from 'nitropack/runtime';
import { listSessions, revokeUserSessions, updateSession, useSession } from 'sealed-session';
import { unstorageStore } from 'sealed-session/unstorage';
import { config, failure, view } from '../../session-config.js';

/** @type {import('sealed-session').SessionConfig | undefined} */
let storedConfig;

/**
 * The store-mode config, made at the first request (Nitro's storage is ready by then) and
 * kept: a config is read once and cached by identity.
 */
function stored() {
  storedConfig ??= {
    password: config.password,
    cookie: config.cookie,
    name: 'stored',
    maxAge: 3600,
    store: unstorageStore(useStorage('sessions')),
    userKey: (data) => data.user,
  };
  return storedConfig;
}

const actions = {
  login: async (query) => view(await updateSession(stored(), { user: String(query.user) })),
  read: async () => view(await useSession(stored())),
  devices: async (query) => ({ sessions: await listSessions(stored(), String(query.user)) }),
  'sign-out-everywhere': async (query) => ({
    revoked: await revokeUserSessions(stored(), String(query.user)),
  }),
};

export default defineEventHandler(async (event) => {
  const action = actions[getRouterParam(event, 'action') ?? ''];
  if (action === undefined) {
    event.node.res.statusCode = 404;
    return { error: 'no such action' };
  }
  try {
    return await action(getQuery(event));
  } catch (error) {
    return failure(event, error);
  }
});
