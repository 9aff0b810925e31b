// Runtime conformance of the session calls without the event (`useSession(config)`, as
// vinxi allows) inside the Fetch adapter's handlers, whose request scope is opt-in
// (`toWebHandler(handler, { asyncContext: true })`): plain ESM importing only ./checks.js,
// so Bun, Deno, workerd and Node run the very same file against the package as each
// resolves it.
//
// run(modules, input) takes { 'sealed-session': namespace, 'sealed-session/fetch': namespace,
// 'sealed-session/iron': namespace } and
//   input.expect = 'scope'    the runtime offers AsyncLocalStorage: event-less calls work
//                 'missing'  it offers none: event-less calls reject with ERR_EVENT_MISSING
//   input.globalAsyncLocalStorage = true
//                            first put node:async_hooks' AsyncLocalStorage on globalThis,
//                            as an app does where the runtime has the module but neither
//                            the global nor process.getBuiltinModule (workerd, nodejs_als)
// It never throws for a failed check; it returns
//   { passed, failed, failures: [names], skipped: [names], details, runtime, backend,
//     runtimeToken, storage }
// where storage says how AsyncLocalStorage is reachable here (for the log), and
// runtimeToken is a session sealed here by an event-less call ('' when none could be).

import { TOKEN_SHAPE, assert, assertDeepEqual, createReport, describeError } from './checks.js';

const PASSWORD = 'eventless_conformance_password_of_32_chars_or_more';
const ORIGIN = 'http://localhost';
const config = { password: PASSWORD };

/** How this runtime offers AsyncLocalStorage without an import, as the package looks it up. */
function storageAvailability() {
  const g = globalThis;
  if (typeof g.AsyncLocalStorage === 'function') return 'globalThis.AsyncLocalStorage';
  try {
    if (
      typeof g.process?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage === 'function'
    ) {
      return "process.getBuiltinModule('node:async_hooks')";
    }
  } catch {
    // A runtime whose getBuiltinModule throws offers none either.
  }
  return 'none';
}

/** A turn of the event loop: the calls after it run in a later async continuation. */
function tick(ms = 1) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A browser-like cookie jar for one origin, enough for one session cookie. */
class Jar {
  constructor() {
    this.cookies = new Map();
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /;\s*max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/**
 * @param {Record<string, Record<string, any>>} modules namespaces by package specifier
 * @param {{ expect?: 'scope' | 'missing', globalAsyncLocalStorage?: boolean }} [input]
 */
export async function run(modules, input = {}) {
  const root = modules['sealed-session'];
  const web = modules['sealed-session/fetch'];
  const { check, result } = createReport();
  const expectScope = (input.expect ?? 'scope') === 'scope';
  const errors = [];
  let runtimeToken = '';

  if (input.globalAsyncLocalStorage === true) {
    // A variable specifier: bundlers leave the import to the runtime (workerd resolves
    // node:async_hooks under nodejs_als), as an app's own code would import it.
    const specifier = 'node:async_hooks';
    const hooks = await import(specifier);
    globalThis.AsyncLocalStorage = hooks.AsyncLocalStorage;
  }
  const storage = storageAvailability();

  /** Runs `operation` and reports how it ended: { value } or { code, name, sync }. */
  async function outcome(operation) {
    let promise;
    try {
      promise = operation();
    } catch (error) {
      return { sync: true, code: error?.code, branded: root.isSessionError(error) };
    }
    try {
      return { value: await promise };
    } catch (error) {
      return { code: error?.code, branded: root.isSessionError(error) };
    }
  }

  // Event-less calls only: the event is read for the path alone.
  const eventless = {
    '/write': async (url) => {
      await tick();
      const session = await root.useSession(config);
      await session.update({ value: url.searchParams.get('value') });
      return { id: session.id, data: session.data };
    },
    '/update': async () => {
      await tick();
      const session = await root.updateSession(config, (data) => ({
        count: (data.count ?? 0) + 1,
      }));
      return { id: session.id, data: session.data };
    },
    '/read': async (url) => {
      // Concurrent requests wait different times, so their continuations interleave.
      await tick(Number(url.searchParams.get('wait') ?? '1'));
      const session = await root.getSession(config);
      return { id: session.id, data: session.data };
    },
    '/clear': async () => {
      await root.clearSession(config);
      await tick();
      const session = await root.getSession(config);
      return { id: session.id, data: session.data };
    },
    '/seal': async () => {
      const token = await root.sealSession(config);
      await tick();
      return { token, opened: await root.unsealSession(config, token) };
    },
    // Every event-less call, each reported as it ended (for runtimes without a scope).
    '/probe': async () => ({
      useSession: await outcome(() => root.useSession(config)),
      getSession: await outcome(() => root.getSession(config)),
      updateSession: await outcome(() => root.updateSession(config, { x: 1 })),
      clearSession: await outcome(() => root.clearSession(config)),
      sealSession: await outcome(() => root.sealSession(config)),
    }),
  };

  // The same session work with the event, which must work everywhere.
  const withEvent = {
    '/event/inc': async (_url, event) => {
      const session = await root.updateSession(event, config, (data) => ({
        count: (data.count ?? 0) + 1,
      }));
      return { id: session.id, data: session.data };
    },
    '/event/read': async (_url, event) => {
      const session = await root.getSession(event, config);
      return { id: session.id, data: session.data };
    },
  };

  let handler;
  let plainHandler;
  await check('exports: toWebHandler, eventHandler and the session functions', () => {
    assert(typeof web.toWebHandler === 'function', 'toWebHandler is missing');
    assert(typeof web.eventHandler === 'function', 'eventHandler is missing');
    for (const name of [
      'useSession',
      'getSession',
      'updateSession',
      'clearSession',
      'sealSession',
      'unsealSession',
      'isSessionError',
    ]) {
      assert(typeof root[name] === 'function', `sealed-session ${name} is ${typeof root[name]}`);
    }
    const routes = web.eventHandler(async (event) => {
      const url = new URL(event.path, ORIGIN);
      const route = withEvent[url.pathname] ?? eventless[url.pathname];
      if (route === undefined) return new Response('no such route', { status: 404 });
      try {
        return await route(url, event);
      } catch (error) {
        return Response.json(
          { error: { code: error?.code, message: describeError(error) } },
          { status: 500 },
        );
      }
    });
    const onError = (error) => errors.push(describeError(error));
    handler = web.toWebHandler(routes, { onError, asyncContext: true });
    // The scope is opt-in: by default the handler runs outside it.
    plainHandler = web.toWebHandler(routes, { onError });
  });

  async function call(path, jar, through = handler) {
    const headers = {};
    if (jar !== undefined && jar.header() !== '') headers.cookie = jar.header();
    const response = await through(new Request(`${ORIGIN}${path}`, { headers }));
    jar?.store(response);
    const text = await response.text();
    assert(response.status === 200, `${path}: status ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  await check(
    'outside any request, an event-less call rejects with ERR_EVENT_MISSING',
    async () => {
      for (const [name, operation] of [
        ['useSession', () => root.useSession(config)],
        ['getSession', () => root.getSession(config)],
        ['sealSession', () => root.sealSession(config)],
      ]) {
        const ended = await outcome(operation);
        assert(ended.sync !== true, `${name} threw instead of rejecting`);
        assert(ended.code === 'ERR_EVENT_MISSING', `${name}: ${JSON.stringify(ended)}`);
        assert(ended.branded, `${name}: not a SessionError`);
      }
    },
  );

  await check(
    'unsealSession(config, token) needs no request: it opens a token anywhere',
    async () => {
      const session = { id: 'sealed-by-iron', createdAt: Date.now(), data: { n: 1 } };
      const token = await modules['sealed-session/iron'].seal(session, PASSWORD);
      assertDeepEqual(await root.unsealSession(config, token), session, 'unsealed');
    },
  );

  await check(
    'without asyncContext, event-less calls in a handler reject with ERR_EVENT_MISSING',
    async () => {
      const jar = new Jar();
      const probe = await call('/probe', jar, plainHandler);
      for (const [name, ended] of Object.entries(probe)) {
        assert(ended.sync !== true, `${name} threw instead of rejecting`);
        assert(ended.code === 'ERR_EVENT_MISSING', `${name}: ${JSON.stringify(ended)}`);
      }
      const first = await call('/event/inc', jar, plainHandler);
      assertDeepEqual(first.data, { count: 1 }, 'the event form, without asyncContext');
    },
  );

  await check('with the event, a session is written and read back', async () => {
    const jar = new Jar();
    const first = await call('/event/inc', jar);
    const second = await call('/event/inc', jar);
    assert(second.id === first.id, 'the id changed');
    assertDeepEqual(second.data, { count: 2 }, 'data');
    assertDeepEqual(await call('/event/read', jar), second, 'read back');
  });

  if (expectScope) {
    await check('event-less calls write, update, read back and seal a session', async () => {
      const jar = new Jar();
      const written = await call('/write?value=here', jar);
      assertDeepEqual(written.data, { value: 'here' }, 'written');
      assert(TOKEN_SHAPE.test(jar.cookies.get('h3') ?? ''), 'no sealed cookie');
      const updated = await call('/update', jar);
      assertDeepEqual(updated, { id: written.id, data: { value: 'here', count: 1 } }, 'updated');
      assertDeepEqual(await call('/read', jar), updated, 'read back');
      // The event form reads what the event-less calls wrote, and the other way round.
      assertDeepEqual(await call('/event/read', jar), updated, 'read with the event');
      await call('/event/inc', jar);
      const read = await call('/read', jar);
      assert(read.data.count === 2, `count ${String(read.data.count)} after /event/inc`);
      const sealed = await call('/seal', jar);
      assert(TOKEN_SHAPE.test(sealed.token), 'sealSession gave no token');
      assertDeepEqual(sealed.opened.data, read.data, 'unsealSession');
      runtimeToken = sealed.token;
    });

    await check(
      'an event-less clear ends the session; the next request starts afresh',
      async () => {
        const jar = new Jar();
        const written = await call('/write?value=gone', jar);
        const cleared = await call('/clear', jar);
        assert(cleared.id !== written.id, 'getSession after clear revived the old id');
        assertDeepEqual(cleared.data, {}, 'data after clear');
        assert(!jar.cookies.has('h3'), 'the cookie was not deleted');
        const next = await call('/read', jar);
        assert(next.id !== written.id, 'the next request got the old session');
        assertDeepEqual(next.data, {}, 'the next request: data');
      },
    );

    await check('concurrent requests each see their own session', async () => {
      const jars = Array.from({ length: 12 }, () => new Jar());
      const written = await Promise.all(jars.map((jar, i) => call(`/write?value=v${i}`, jar)));
      // Reverse waits: the first request started resumes last.
      const read = await Promise.all(
        jars.map((jar, i) => call(`/read?wait=${(jars.length - i) * 2}`, jar)),
      );
      for (let i = 0; i < jars.length; i++) {
        assertDeepEqual(read[i], written[i], `request ${i}`);
        assert(read[i].data.value === `v${i}`, `request ${i} saw ${read[i].data.value}`);
      }
    });
  } else {
    await check(
      'inside a request, each event-less call rejects with ERR_EVENT_MISSING',
      async () => {
        const jar = new Jar();
        const probe = await call('/probe', jar);
        for (const [name, ended] of Object.entries(probe)) {
          assert(ended.sync !== true, `${name} threw instead of rejecting`);
          assert(ended.code === 'ERR_EVENT_MISSING', `${name}: ${JSON.stringify(ended)}`);
          assert(ended.branded, `${name}: not a SessionError`);
        }
        assert(!jar.cookies.has('h3'), 'a cookie was written');
      },
    );

    await check('the event form still works in the same handler afterwards', async () => {
      const jar = new Jar();
      await call('/probe', jar);
      const first = await call('/event/inc', jar);
      assertDeepEqual(first.data, { count: 1 }, 'data');
      assertDeepEqual(await call('/event/read', jar), first, 'read back');
    });
  }

  await check('no handler error reached onError', () => {
    assert(errors.length === 0, errors.join('; '));
  });

  return result({
    backend: modules['sealed-session/iron']?.backend,
    runtimeToken,
    storage,
  });
}
