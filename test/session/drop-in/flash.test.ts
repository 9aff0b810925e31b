/**
 * Flash messages over real HTTP on every host, the post/redirect/get way: a handler sets
 * `session.flash('notice', 'saved')` and answers 303; the request that follows the redirect
 * takes it, and the one after finds nothing. A cookie cannot be taken back from a browser
 * that already sent it, so "once" means once per cookie: requests made in parallel with
 * the same cookie each see the flash. Flash keys and values are typed by
 * `useSession<Data, Flash>`.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { unseal } from '../../../src/iron/index.js';
import {
  setFlash,
  takeFlash,
  useSession,
  type SessionConfig,
  type SessionManager,
} from '../../../src/index.js';
import { secret } from '../matrix/helpers.js';
import { cookieHeader, cookiesNamed, jarAfter, onlyCookie } from './fixtures.js';
import { hosts, redirect, type DropInServer, type Exchange, type Routes } from './hosts.js';

interface Data {
  saved?: number;
}

interface Flash {
  notice: string;
}

/**
 * The typed manager: with the event where the host has one, else without it (Express and
 * Hono run the route in sealed-session's request scope).
 */
function typedSession(exchange: Exchange, config: SessionConfig) {
  return exchange.event === undefined
    ? useSession<Data, Flash>(config)
    : useSession<Data, Flash>(exchange.event, config);
}

function routesFor(config: SessionConfig): Routes {
  return {
    '/save': async (exchange) => {
      const session = await typedSession(exchange, config);
      await session.update({ saved: 1 });
      await session.flash('notice', 'saved');
      return redirect('/show');
    },
    '/show': async (exchange) => {
      const session = await typedSession(exchange, config);
      const notice = await session.takeFlash('notice');
      expectTypeOf(notice).toEqualTypeOf<string | undefined>();
      return { notice: notice ?? null, saved: session.data.saved ?? null };
    },
    // The same through the root functions.
    '/save-root': async (exchange) => {
      if (exchange.event === undefined) await setFlash(config, 'notice', 'saved by root');
      else await setFlash(exchange.event, config, 'notice', 'saved by root');
      return redirect('/show-root');
    },
    '/show-root': async (exchange) => {
      const notice =
        exchange.event === undefined
          ? await takeFlash<string>(config, 'notice')
          : await takeFlash<string>(exchange.event, config, 'notice');
      return { notice: notice ?? null };
    },
  };
}

describe('flash types', () => {
  it('useSession<Data, { notice: string }> types flash and takeFlash by key', () => {
    type Manager = SessionManager<Data, Flash>;
    expectTypeOf<Awaited<ReturnType<typeof useSession<Data, Flash>>>>().toEqualTypeOf<Manager>();
    expectTypeOf<Manager['flash']>().parameter(0).toEqualTypeOf<'notice'>();
    expectTypeOf<Manager['flash']>().parameter(1).toEqualTypeOf<string>();
    expectTypeOf<Manager['takeFlash']>().returns.toEqualTypeOf<Promise<string | undefined>>();
  });
});

describe.each(hosts)('flash messages on $name', (host) => {
  const config: SessionConfig = { password: secret() };
  let server: DropInServer;

  beforeAll(async () => {
    server = await host.start(config, routesFor(config));
  });

  afterAll(() => server.close());

  /** The flash values a cookie holds, read with iron alone. */
  async function flashIn(token: string): Promise<unknown> {
    return ((await unseal(token, config.password)) as { flash?: unknown }).flash;
  }

  it('flash then a 303: the next request’s takeFlash("notice") gives "saved", the request after gives undefined', async () => {
    const saved = await server.request('/save');
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/show');
    const afterSave = jarAfter(saved);
    expect(await flashIn(afterSave.h3!)).toEqual({ notice: 'saved' });

    const shown = await server.request('/show', { headers: cookieHeader(afterSave) });
    expect(shown.json).toEqual({ notice: 'saved', saved: 1 });
    // Taking it rewrites the cookie without it; the data stays.
    const afterShow = jarAfter(shown, afterSave);
    expect(await flashIn(onlyCookie(shown, 'h3').value)).toBeUndefined();

    const again = await server.request('/show', { headers: cookieHeader(afterShow) });
    expect(again.json).toEqual({ notice: null, saved: 1 });
    // Nothing left to take: nothing written.
    expect(cookiesNamed(again, 'h3')).toEqual([]);
  });

  it('the root setFlash and takeFlash do the same across the redirect', async () => {
    const saved = await server.request('/save-root');
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/show-root');
    const afterSave = jarAfter(saved);
    const shown = await server.request('/show-root', { headers: cookieHeader(afterSave) });
    expect(shown.json).toEqual({ notice: 'saved by root' });
    const again = await server.request('/show-root', {
      headers: cookieHeader(jarAfter(shown, afterSave)),
    });
    expect(again.json).toEqual({ notice: null });
  });

  it('"once" is once per cookie: parallel requests carrying the same cookie each see the flash, and each answers with a cookie that no longer holds it', async () => {
    const saved = await server.request('/save');
    const afterSave = jarAfter(saved);
    const parallel = await Promise.all(
      Array.from({ length: 4 }, () =>
        server.request('/show', { headers: cookieHeader(afterSave) }),
      ),
    );
    for (const response of parallel) {
      expect(response.json).toEqual({ notice: 'saved', saved: 1 });
      expect(await flashIn(onlyCookie(response, 'h3').value)).toBeUndefined();
    }
    const next = await server.request('/show', {
      headers: cookieHeader(jarAfter(parallel[0]!, afterSave)),
    });
    expect(next.json).toEqual({ notice: null, saved: 1 });
  });
});
