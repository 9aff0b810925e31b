// The vinxi app's one handler. /sealed/* uses sealed-session's calls without the event;
// /framework/* uses vinxi/http's own session functions, also without the event, as vinxi
// allows. Both sides share one configuration (same password, the default name), so the
// test can hand a cookie written by one to the other.
import {
  clearSession as vinxiClearSession,
  eventHandler,
  getQuery,
  getSession as vinxiGetSession,
  useSession as vinxiUseSession,
} from 'vinxi/http';
import {
  clearSession,
  getSession,
  sealSession,
  unsealSession,
  updateSession,
  useSession,
} from 'sealed-session';

// No Secure flag: the test speaks plain HTTP to 127.0.0.1.
const config = {
  password: 'vinxi_framework_test_password_0123456789abcdef',
  cookie: { secure: false },
};

/** The part of a session the test compares, the same shape from both libraries. */
function view(session) {
  return { id: session.id, data: session.data };
}

/** A turn of the event loop: the calls after it run in a later async continuation. */
function tick() {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

const routes = {
  '/sealed/write': async () => {
    const session = await useSession(config);
    await session.update({ value: getQuery().value, writtenBy: 'sealed-session' });
    return view(session);
  },
  '/sealed/update': async () =>
    view(await updateSession(config, (data) => ({ count: (data.count ?? 0) + 1 }))),
  '/sealed/read': async () => view(await getSession(config)),
  '/sealed/clear': async () => {
    await clearSession(config);
    return view(await getSession(config));
  },
  '/sealed/seal': async () => {
    const token = await sealSession(config);
    return { token, opened: await unsealSession(config, token) };
  },
  '/framework/write': async () => {
    const session = await vinxiUseSession(config);
    await session.update({ value: getQuery().value, writtenBy: 'framework' });
    return view(session);
  },
  '/framework/read': async () => view(await vinxiGetSession(config)),
  '/framework/clear': async () => {
    await vinxiClearSession(config);
    return { cleared: true };
  },
  // sealed-session writes, then vinxi reads, in the same request.
  '/framework/sealed-write-then-read': async () => {
    await updateSession(config, { value: getQuery().value, writtenBy: 'sealed-session' });
    return view(await vinxiGetSession(config));
  },
};

export default eventHandler(async (event) => {
  const route = routes[event.path.split('?')[0]];
  if (route === undefined) {
    event.node.res.statusCode = 404;
    return { error: 'no such route' };
  }
  try {
    await tick();
    return await route();
  } catch (error) {
    // A failing call shows its code and message in the test's assertion.
    event.node.res.statusCode = 500;
    return { error: { name: error?.name, code: error?.code, message: error?.message } };
  }
});
