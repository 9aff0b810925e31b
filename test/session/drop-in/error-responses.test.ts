/**
 * A handler that signs a user in or out and then fails still sends the session's cookies,
 * over real HTTP on every host, each failing its own way: h3 2.x with an `HTTPError`
 * (whose response is built from `event.res.errHeaders`, not `event.res.headers`), h3 1.x
 * with `createError`, Hono with an `HTTPException`, Express through its error middleware,
 * our adapters with any thrown error. A sign-out lost to an error page would leave the
 * user signed in; a sign-in lost to one would sign them out on the next request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unsealSession, updateSession, type SessionConfig } from '../../../src/index.js';
import { sealSessionToken, secret } from '../matrix/helpers.js';
import {
  cookieHeader,
  deletedNames,
  hostSession,
  itWhen,
  jarAfter,
  onlyCookie,
  recorded,
  type Recorded,
} from './fixtures.js';
import { hosts, type DropInServer, type Routes } from './hosts.js';

function routesFor(config: SessionConfig): Routes {
  return {
    '/sign-in-then-fail': async (exchange) => {
      const session = await hostSession(exchange, config);
      await session.update({ user: 'ada' });
      throw exchange.error(403, 'failed after sign-in');
    },
    '/event-less-sign-in-then-fail': async (exchange) => {
      await updateSession(config, { user: 'ada' });
      throw exchange.error(403, 'failed after sign-in');
    },
    '/sign-out-then-fail': async (exchange) => {
      await (await hostSession(exchange, config)).clear();
      throw exchange.error(403, 'failed after sign-out');
    },
    '/write-big': async (exchange) => {
      await (await hostSession(exchange, config)).update({ big: 'x'.repeat(9000) });
      return { written: true };
    },
  };
}

describe.each(hosts)('error responses keep the session cookies on $name', (host) => {
  // Our adapters answer every thrown error with a 500; the others honour the error's status.
  const failureStatus = host.name === 'node' || host.name === 'fetch' ? 500 : 403;
  let session: Recorded;
  let server: DropInServer;

  beforeAll(async () => {
    session = recorded({ password: secret() });
    server = await host.start(session.config, routesFor(session.config));
  });

  afterAll(() => server.close());

  beforeEach(() => {
    server.errors.length = 0;
  });

  const signedInCookie = async () =>
    cookieHeader({
      h3: await sealSessionToken(session.config.password, {
        id: 'signed-in',
        createdAt: Date.now(),
        data: { user: 'ada' },
      }),
    });

  it('sign-in, then the handler throws: the error response sets the signed-in session cookie', async () => {
    const response = await server.request('/sign-in-then-fail');
    expect(response.status).toBe(failureStatus);
    expect(server.errors).toHaveLength(1);
    const opened = await unsealSession(session.config, onlyCookie(response, 'h3').value);
    expect(opened.data).toEqual({ user: 'ada' });
  });

  itWhen(host.scoped)(
    'sign-in without the event, then the handler throws: the error response sets the cookie',
    async () => {
      const response = await server.request('/event-less-sign-in-then-fail');
      expect(response.status).toBe(failureStatus);
      const opened = await unsealSession(session.config, onlyCookie(response, 'h3').value);
      expect(opened.data).toEqual({ user: 'ada' });
    },
  );

  it('sign-out, then the handler throws: the error response deletes the session cookie', async () => {
    const response = await server.request('/sign-out-then-fail', {
      headers: await signedInCookie(),
    });
    expect(response.status).toBe(failureStatus);
    expect(server.errors).toHaveLength(1);
    const cookie = onlyCookie(response, 'h3');
    expect(cookie.value).toBe('');
    expect(cookie.maxAge).toBe(0);
  });

  it('sign-out of a chunked session, then the handler throws: the error response deletes the main cookie and every chunk', async () => {
    const written = await server.request('/write-big');
    const jar = jarAfter(written);
    const chunks = Object.keys(jar).filter((name) => name.startsWith('h3.'));
    expect(chunks.length).toBeGreaterThanOrEqual(3);

    const response = await server.request('/sign-out-then-fail', { headers: cookieHeader(jar) });
    expect(response.status).toBe(failureStatus);
    expect(deletedNames(response).sort()).toEqual(['h3', ...chunks].sort());
    expect(jarAfter(response, jar)).toEqual({});
  });
});
