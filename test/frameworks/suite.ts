/**
 * The checks every framework app passes (vinxi and Nitro alike). Each app serves:
 *   /sealed/{write,update,read,clear,seal}       sealed-session's calls without the event
 *   /framework/{write,read,clear}                the framework's own session functions
 *   /framework/sealed-write-then-read            sealed-session writes, the framework reads
 * every one answering JSON { id, data } (seal: { token, opened }; an error: status 500 and
 * { error: { name, code, message } }). Both sides share one password and the default name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, CookieJar, serve, type BuiltApp, type RunningApp } from './harness.js';

/** What each route answers: a session's id and data. */
interface SessionView {
  id: string;
  data: Record<string, unknown>;
}

interface FrameworkApp {
  /** The folder under test/frameworks/. */
  readonly name: string;
  /** How the framework is named in test titles, e.g. 'vinxi 0.5 (vinxi/http)'. */
  readonly title: string;
  /** The build command, a binary of node_modules/.bin and its arguments. */
  readonly build: readonly [string, ...string[]];
  /** Tests of this app only, on the same build and server, given the suite's GET. */
  readonly extra?: (get: AppGet) => void;
}

/** One GET of the built app with a jar's cookies (the jar keeps what comes back). */
export type AppGet = (
  path: string,
  jar: CookieJar,
) => Promise<{ response: Response; body: Record<string, unknown> }>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// One build, then a server start: the build is the long part (seconds on two cores).
const SETUP_TIMEOUT_MS = 300_000;

export function frameworkSuite(options: FrameworkApp): void {
  let app: BuiltApp | undefined;
  let server: RunningApp | undefined;

  beforeAll(async () => {
    app = await buildApp(options.name, options.build);
    console.info(`[frameworks] ${options.name}: built in ${Math.round(app.buildMs)} ms`);
    server = await serve(app);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    // Either may be missing when beforeAll failed; its error is the one to report.
    await server?.close();
    await app?.remove();
  });

  /** One GET with the jar's cookies; the jar keeps what comes back. */
  async function get(
    path: string,
    jar: CookieJar,
  ): Promise<{ response: Response; body: Record<string, unknown> }> {
    if (server === undefined) throw new Error('the server did not start (see beforeAll)');
    const cookie = jar.header();
    const response = await fetch(`${server.base}${path}`, {
      headers: cookie === '' ? {} : { cookie },
      redirect: 'manual',
    });
    jar.store(response);
    const text = await response.text();
    expect(response.status, `${path} answered: ${text}\nserver: ${server.output()}`).toBe(200);
    return { response, body: JSON.parse(text) as Record<string, unknown> };
  }

  async function session(path: string, jar: CookieJar): Promise<SessionView> {
    const { body } = await get(path, jar);
    expect(body).toEqual({
      id: expect.stringMatching(UUID) as unknown,
      data: expect.any(Object) as unknown,
    });
    return body as unknown as SessionView;
  }

  /** The session cookies a response sets (name `h3`). */
  function sessionCookies(response: Response): string[] {
    return response.headers.getSetCookie().filter((header) => header.startsWith('h3='));
  }

  describe(`${options.title}: built app over HTTP`, () => {
    options.extra?.(get);

    it("sealed-session's calls without the event write, read back, update, seal and clear", async () => {
      const jar = new CookieJar();
      const written = await session('/sealed/write?value=first', jar);
      expect(written.data).toEqual({ value: 'first', writtenBy: 'sealed-session' });
      expect(jar.cookies.get('h3')).toMatch(/^Fe26\.2\*/);

      expect(await session('/sealed/read', jar)).toEqual(written);
      const updated = await session('/sealed/update', jar);
      expect(updated).toEqual({ id: written.id, data: { ...written.data, count: 1 } });

      const { body: sealed } = await get('/sealed/seal', jar);
      expect(sealed['token']).toMatch(/^Fe26\.2\*/);
      expect(sealed['opened']).toMatchObject(updated);

      const { response, body: afterClear } = await get('/sealed/clear', jar);
      const deleted = sessionCookies(response);
      expect(deleted).toHaveLength(1);
      expect(deleted[0]).toMatch(/^h3=;.*Max-Age=0/i);
      expect(afterClear).toMatchObject({ data: {} });
      expect(afterClear['id']).not.toBe(written.id);
      expect(jar.cookies.has('h3')).toBe(false);

      const next = await session('/sealed/read', jar);
      expect(next.id).not.toBe(written.id);
      expect(next.data).toEqual({});
    });

    it("a cookie written by sealed-session is read and updated by the framework's own functions", async () => {
      const jar = new CookieJar();
      const written = await session('/sealed/write?value=from-sealed', jar);
      expect(await session('/framework/read', jar)).toEqual(written);
      const updated = await session('/framework/write?value=from-framework', jar);
      expect(updated).toEqual({
        id: written.id,
        data: { value: 'from-framework', writtenBy: 'framework' },
      });
      expect(await session('/sealed/read', jar)).toEqual(updated);
    });

    it("a cookie written by the framework's own useSession is read and updated by sealed-session", async () => {
      const jar = new CookieJar();
      const written = await session('/framework/write?value=from-framework', jar);
      expect(written.data).toEqual({ value: 'from-framework', writtenBy: 'framework' });
      expect(jar.cookies.get('h3')).toMatch(/^Fe26\.2\*/);
      expect(await session('/sealed/read', jar)).toEqual(written);
      const updated = await session('/sealed/update', jar);
      expect(updated).toEqual({ id: written.id, data: { ...written.data, count: 1 } });
      expect(await session('/framework/read', jar)).toEqual(updated);
    });

    it('a clear on either side ends the session for the other', async () => {
      const jar = new CookieJar();
      const first = await session('/sealed/write?value=one', jar);
      await get('/framework/clear', jar);
      expect(jar.cookies.has('h3')).toBe(false);
      const afterFrameworkClear = await session('/sealed/read', jar);
      expect(afterFrameworkClear.id).not.toBe(first.id);
      expect(afterFrameworkClear.data).toEqual({});

      const second = await session('/framework/write?value=two', jar);
      await get('/sealed/clear', jar);
      expect(jar.cookies.has('h3')).toBe(false);
      const afterSealedClear = await session('/framework/read', jar);
      expect(afterSealedClear.id).not.toBe(second.id);
      expect(afterSealedClear.data).toEqual({});
    });

    it("in one request, the framework's getSession sees what sealed-session just wrote", async () => {
      const jar = new CookieJar();
      const before = await session('/framework/write?value=before', jar);
      const { response, body } = await get('/framework/sealed-write-then-read?value=after', jar);
      expect(body).toEqual({
        id: before.id,
        data: { value: 'after', writtenBy: 'sealed-session' },
      });
      expect(sessionCookies(response)).toHaveLength(1);
      expect(await session('/framework/read', jar)).toEqual(body);
    });
  });
}
