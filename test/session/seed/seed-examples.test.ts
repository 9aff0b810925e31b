/**
 * The seed page (`/work/shared/seed/vinxi-http-session.md`, the vinxi "Session" docs): each
 * example runs as written, with only the import changed from "vinxi/http" to
 * sealed-session and the page's "my-secret" replaced by a password of 32+ characters
 * (real h3 rejects "my-secret" too; a test below shows we fail loudly on it). The handlers
 * are served by our node adapter on 127.0.0.1, and the behaviour the page documents is
 * asserted: data after update, an id, clear ending the session, sealSession giving a string
 * that unsealSession opens.
 *
 * The examples carry `record(...)` lines: the page only shows values in comments, the
 * records let the test see them. Nothing else differs from the page.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
// The seed's import line, with "vinxi/http" changed (to the sources; one test below
// imports the built package by its name).
import {
  type SessionConfig,
  clearSession,
  eventHandler,
  getSession,
  isSessionError,
  sealSession,
  unsealSession,
  updateSession,
  useSession,
  type Session,
} from '../../../src/index.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import type { AnyHTTPEvent, EventHandler, HTTPEvent } from '../../../src/index.js';
import { listen, onlySetCookie, setCookiesOf, type RunningServer } from '../interop/harness.js';

const sessionConfig = {
  password: 'my-secret-made-long-enough-for-iron-0123456789',
} as SessionConfig;
type SessionData = { user: string; role: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What the examples saw, per request (keyed by the request's `x-test-request` header). */
const records = new Map<string, Record<string, unknown>>();

function record(event: HTTPEvent, key: string, value: unknown): void {
  const requestId = event.getRequestHeader('x-test-request') ?? 'none';
  const entry = records.get(requestId) ?? {};
  // A snapshot: the session objects are live.
  entry[key] = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
  records.set(requestId, entry);
}

// --- The seed page's examples -------------------------------------------------------------

/** useSession — use the session to read and update the session data. */
const useSessionExample = eventHandler(async (event) => {
  const session = await useSession<SessionData>(event, sessionConfig);
  record(event, 'data', session.data); // { user: "vinxi", role: "admin" }
  record(event, 'id', session.id); // "14678"
  await session.update({ role: 'member' });
  record(event, 'updated', session.data);
  await session.clear();
  record(event, 'cleared', { id: session.id, data: session.data });
});

/** getSession — get the session. */
const getSessionExample = eventHandler(async (event) => {
  const session = await getSession<SessionData>(event, sessionConfig);
  record(event, 'data', session.data); // { user: "vinxi", role: "admin" }
  record(event, 'id', session.id); // "xas21312"
  record(event, 'createdAt', session.createdAt);
});

/** updateSession — update the session. */
const updateSessionExample = eventHandler(async (event) => {
  const session = await updateSession<SessionData>(event, sessionConfig, { role: 'member' });
  record(event, 'session', session);
});

/** clearSession — clear the session. */
const clearSessionExample = eventHandler(async (event) => {
  await clearSession(event, sessionConfig);
});

/** sealSession — seal the session (the page types it `void`; h3 and we return a string). */
const sealSessionExample = eventHandler(async (event) => {
  const sealed = await sealSession(event, sessionConfig);
  record(event, 'sealed', sealed);
  // unsealSession, with the token sealSession gave instead of the page's "xas21312".
  const session = await unsealSession(event, sessionConfig, sealed);
  record(event, 'unsealed', session);
});

/** unsealSession — unseal the session, verbatim: "xas21312" is not a token. */
const unsealSessionExample = eventHandler(async (event) => {
  const session = await unsealSession(event, sessionConfig, 'xas21312');
  record(event, 'session', session);
});

// --- Test plumbing: a "login" route to start a session like the page's comments show -----

const login = eventHandler(async (event) => {
  const session = await updateSession<SessionData>(event, sessionConfig, {
    user: 'vinxi',
    role: 'admin',
  });
  return { id: session.id, createdAt: session.createdAt, data: session.data };
});

/** The page's own config, "my-secret": must fail loudly, not give a session. */
const shortPasswordExample = eventHandler(async (event) => {
  await useSession(event, { password: 'my-secret' });
});

const routes: Record<string, EventHandler> = {
  '/useSession': useSessionExample,
  '/getSession': getSessionExample,
  '/updateSession': updateSessionExample,
  '/clearSession': clearSessionExample,
  '/sealSession': sealSessionExample,
  '/unsealSession': unsealSessionExample,
  '/login': login,
  '/short-password': shortPasswordExample,
};

const handlerErrors: unknown[] = [];
let server: RunningServer;
let requestCounter = 0;

beforeAll(async () => {
  server = await listen(
    toNodeListener(
      eventHandler((event) => {
        const route = routes[event.path];
        if (route === undefined) {
          event.status = 404;
          return 'not found';
        }
        return route(event);
      }),
      { onError: (error) => handlerErrors.push(error) },
    ),
  );
});

afterAll(async () => {
  await server.close();
});

interface Call {
  readonly response: Response;
  readonly seen: Record<string, unknown>;
  readonly text: string;
}

async function call(path: string, cookie?: string): Promise<Call> {
  const requestId = String(++requestCounter);
  const headers: Record<string, string> = { 'x-test-request': requestId };
  if (cookie !== undefined) headers['cookie'] = `h3=${cookie}`;
  const response = await fetch(`${server.origin}${path}`, { headers });
  const text = await response.text();
  return { response, text, seen: records.get(requestId) ?? {} };
}

/** Starts a session { user: "vinxi", role: "admin" }; returns its token and view. */
async function signIn(): Promise<{ token: string; session: Session<SessionData> }> {
  const { response, text } = await call('/login');
  expect(response.status).toBe(200);
  return {
    token: onlySetCookie(response, 'h3').value,
    session: JSON.parse(text) as Session<SessionData>,
  };
}

describe('the seed page examples, import changed to sealed-session', () => {
  it('useSession: reads the data and id, update merges, clear ends the session', async () => {
    const { token, session } = await signIn();
    const { response, seen } = await call('/useSession', token);
    expect(response.status).toBe(204);
    expect(seen['data']).toEqual({ user: 'vinxi', role: 'admin' });
    expect(seen['id']).toBe(session.id);
    expect(seen['updated']).toEqual({ user: 'vinxi', role: 'member' });
    expect(seen['cleared']).toEqual({ id: undefined, data: {} });
    // The update's cookie was replaced by the deletion: one Set-Cookie, Max-Age=0.
    const cookie = onlySetCookie(response, 'h3');
    expect(cookie.value).toBe('');
    expect(cookie.attributes['max-age']).toBe('0');
  });

  it('useSession on a first visit: an id is present (a new session)', async () => {
    const { seen, response } = await call('/useSession');
    expect(seen['id']).toMatch(UUID);
    expect(seen['data']).toEqual({});
    expect(seen['updated']).toEqual({ role: 'member' });
    expect(onlySetCookie(response, 'h3').attributes['max-age']).toBe('0');
  });

  it('getSession: data, id and createdAt of the session; nothing written', async () => {
    const { token, session } = await signIn();
    const { response, seen } = await call('/getSession', token);
    expect(response.status).toBe(204);
    expect(seen).toEqual({
      data: { user: 'vinxi', role: 'admin' },
      id: session.id,
      createdAt: session.createdAt,
    });
    expect(setCookiesOf(response, 'h3')).toEqual([]);

    const fresh = await call('/getSession');
    expect(fresh.seen['id']).toMatch(UUID);
    expect(fresh.seen['data']).toEqual({});
    expect(typeof fresh.seen['createdAt']).toBe('number');
    expect(setCookiesOf(fresh.response, 'h3')).toEqual([]);
  });

  it('updateSession: merges { role: "member" }, writes the cookie, the next request sees it', async () => {
    const { token, session } = await signIn();
    const { response, seen } = await call('/updateSession', token);
    expect(seen['session']).toEqual({
      id: session.id,
      createdAt: session.createdAt,
      data: { user: 'vinxi', role: 'member' },
    });
    const updated = onlySetCookie(response, 'h3').value;
    expect(updated).not.toBe(token);

    const next = await call('/getSession', updated);
    expect(next.seen['data']).toEqual({ user: 'vinxi', role: 'member' });
    expect(next.seen['id']).toBe(session.id);
  });

  it('clearSession: deletes the cookie (Max-Age=0)', async () => {
    const { token } = await signIn();
    const { response } = await call('/clearSession', token);
    expect(response.status).toBe(204);
    const cookie = onlySetCookie(response, 'h3');
    expect(cookie.value).toBe('');
    expect(cookie.attributes['max-age']).toBe('0');
    expect(new Date(cookie.attributes['expires']!).getTime()).toBe(0);
  });

  it('sealSession returns a string that unsealSession opens', async () => {
    const { token, session } = await signIn();
    const { response, seen } = await call('/sealSession', token);
    expect(response.status).toBe(204);
    expect(typeof seen['sealed']).toBe('string');
    expect(String(seen['sealed']).startsWith('Fe26.2*')).toBe(true);
    expect(seen['unsealed']).toEqual(session);
    // The token is a session token of this config outside the request, too.
    await expect(unsealSession(undefined, sessionConfig, String(seen['sealed']))).resolves.toEqual(
      session,
    );
  });

  it('unsealSession, verbatim with "xas21312", rejects with a SessionError (a 500 unless caught)', async () => {
    handlerErrors.length = 0;
    const { response, seen } = await call('/unsealSession');
    expect(response.status).toBe(500);
    expect(seen).toEqual({});
    expect(handlerErrors).toHaveLength(1);
    expect(isSessionError(handlerErrors[0], 'ERR_SEAL_INVALID')).toBe(true);
    await expect(unsealSession(undefined, sessionConfig, 'xas21312')).rejects.toMatchObject({
      name: 'SessionError',
      code: 'ERR_SEAL_INVALID',
    });
  });

  it('the page\'s own password "my-secret" fails loudly, naming the 32-character rule', async () => {
    handlerErrors.length = 0;
    const { response } = await call('/short-password');
    expect(response.status).toBe(500);
    expect(handlerErrors).toHaveLength(1);
    const error = handlerErrors[0];
    expect(isSessionError(error, 'ERR_PASSWORD_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/32/);
    expect(setCookiesOf(response, 'h3')).toEqual([]);
  });

  it('the signatures the page documents (sealSession gives Promise<string>)', () => {
    expectTypeOf(useSession<SessionData>).returns.resolves.toHaveProperty('data');
    expectTypeOf(getSession<SessionData>).returns.resolves.toEqualTypeOf<Session<SessionData>>();
    expectTypeOf(updateSession<SessionData>).returns.resolves.toEqualTypeOf<Session<SessionData>>();
    expectTypeOf(clearSession).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(sealSession).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(unsealSession).returns.resolves.toExtend<Partial<Session>>();
    // A full SessionConfig, in both forms: a partial one (`{ name }`) fails to compile.
    expectTypeOf(clearSession).toBeCallableWith({} as AnyHTTPEvent, {} as SessionConfig);
    expectTypeOf(clearSession).toBeCallableWith({} as SessionConfig);
    // @ts-expect-error -- a config without a password is not a SessionConfig
    expectTypeOf(clearSession).toBeCallableWith({} as AnyHTTPEvent, { name: 'h3' });
  });
});

describe('the built package, imported by its name', () => {
  type Root = typeof import('../../../src/index.js');
  type NodeEntry = typeof import('../../../src/adapters/node.js');

  it('runs the useSession example from "sealed-session" and "sealed-session/node"', async () => {
    // By name through a variable: resolved by the package's `exports` at run time (dist/),
    // and the typecheck does not depend on a build.
    const names = { root: 'sealed-session', node: 'sealed-session/node' };
    const built = (await import(names.root)) as Root;
    const builtNode = (await import(names.node)) as NodeEntry;
    expect(fileURLToPath(import.meta.resolve(names.root))).toMatch(/[/\\]dist[/\\]index\.js$/);

    const seen: Record<string, unknown> = {};
    const example = built.eventHandler(async (event) => {
      const session = await built.useSession<SessionData>(event, sessionConfig);
      seen['data'] = { ...session.data };
      seen['id'] = session.id;
      await session.update({ role: 'member' });
      seen['updated'] = { ...session.data };
      const sealed = await built.sealSession(event, sessionConfig);
      seen['unsealed'] = await built.unsealSession(event, sessionConfig, sealed);
      await session.clear();
      seen['cleared'] = session.id;
    });
    const builtServer = await listen(builtNode.toNodeListener(example));
    try {
      const { token, session } = await signIn(); // sealed by the sources
      const response = await fetch(`${builtServer.origin}/`, {
        headers: { cookie: `h3=${token}` },
      });
      expect(response.status).toBe(204);
      expect(seen['data']).toEqual({ user: 'vinxi', role: 'admin' });
      expect(seen['id']).toBe(session.id);
      expect(seen['updated']).toEqual({ user: 'vinxi', role: 'member' });
      expect(seen['unsealed']).toEqual({ ...session, data: { user: 'vinxi', role: 'member' } });
      expect(seen['cleared']).toBeUndefined();
      expect(onlySetCookie(response, 'h3').attributes['max-age']).toBe('0');
    } finally {
      await builtServer.close();
    }
  });
});
