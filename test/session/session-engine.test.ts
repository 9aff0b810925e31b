/**
 * The session engine on its own: an engine made with `createSessionEngine` over the
 * package's iron instance and a clock the test moves, driven through an in-memory
 * transport. Timeouts and the write queue are proven here without sockets or sleeps; the
 * matrix suites prove the same behaviour over real HTTP on every host.
 */
import { describe, expect, it } from 'vitest';
import type { CookieIdentity } from '../../src/cookie/set-cookie.js';
import { replaceSetCookie } from '../../src/cookie/set-cookie.js';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { createIron } from '../../src/iron/create-iron.js';
import { iron } from '../../src/iron/instance.js';
import { createRequestContext, type RequestContext } from '../../src/session/request-state.js';
import { createSessionEngine } from '../../src/session/session-engine.js';
import type { SessionTransport } from '../../src/session/transport.js';
import type { SessionConfig, SessionRejection } from '../../src/session/types.js';

const PASSWORD = 'session-engine-unit-test-password-0123456789';
const HOUR = 3_600_000;

/** A request over an in-memory transport: request headers in, Set-Cookie headers out. */
function fakeRequest(headers: Record<string, string> = {}): {
  request: RequestContext;
  setCookies: () => string[];
  sendHeaders: () => void;
} {
  let cookies: string[] = [];
  let sent = false;
  const transport: SessionTransport = {
    getRequestHeader: (name) => headers[name],
    setCookie(header: string, identity: CookieIdentity) {
      cookies = replaceSetCookie(cookies, header, identity);
    },
    headersSent: () => sent,
  };
  return {
    request: createRequestContext(transport),
    setCookies: () => cookies,
    sendHeaders: () => {
      sent = true;
    },
  };
}

/** The token of the `h3` cookie in Set-Cookie headers, or undefined. */
function tokenIn(setCookies: readonly string[]): string | undefined {
  const line = setCookies.find((header) => header.startsWith('h3='));
  return line?.slice(3, line.indexOf(';'));
}

/** Signs in on a request of its own; returns the token of the session cookie it was given. */
async function signedInToken(
  engine: ReturnType<typeof createSessionEngine>,
  config: SessionConfig,
  data: Record<string, unknown>,
): Promise<string> {
  const signIn = fakeRequest();
  await engine.updateSession(signIn.request, config, data);
  return tokenIn(signIn.setCookies())!;
}

/** An engine whose clock starts now and moves only when the test says so. */
function engineWithClock() {
  let offset = 0;
  const engine = createSessionEngine({ iron, now: () => Date.now() + offset });
  return {
    engine,
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

function configWith(extra: Partial<SessionConfig> = {}): {
  config: SessionConfig;
  rejections: SessionRejection[];
  unawaited: unknown[];
} {
  const rejections: SessionRejection[] = [];
  const unawaited: unknown[] = [];
  const config: SessionConfig = {
    password: PASSWORD,
    onInvalidToken: (rejection) => rejections.push(rejection),
    onUnawaitedError: (error) => unawaited.push(error),
    ...extra,
  };
  return { config, rejections, unawaited };
}

describe('session engine with an injected clock', () => {
  it('maxAge counts from createdAt on the engine clock, without sleeping', async () => {
    const { engine, advance } = engineWithClock();
    const { config, rejections } = configWith({ maxAge: 3600 });
    const first = fakeRequest();
    const made = await engine.updateSession(first.request, config, { user: 'ada' });
    const token = tokenIn(first.setCookies())!;

    advance(HOUR - 1000);
    const stillValid = fakeRequest({ cookie: `h3=${token}` });
    expect((await engine.getSession(stillValid.request, config)).id).toBe(made.id);

    advance(2000);
    const expired = fakeRequest({ cookie: `h3=${token}` });
    const fresh = await engine.getSession(expired.request, config);
    expect(fresh.id).not.toBe(made.id);
    expect(rejections.map((r) => r.error.code)).toEqual(['ERR_SESSION_EXPIRED']);
  });

  it('refuses a session created further in the future than the clock skew', async () => {
    const ahead = engineWithClock();
    ahead.advance(5 * 60_000);
    const { config, rejections } = configWith();
    const sealer = fakeRequest();
    await ahead.engine.updateSession(sealer.request, config, { user: 'from-the-future' });
    const token = tokenIn(sealer.setCookies())!;

    const reader = createSessionEngine({ iron, now: () => Date.now() });
    const session = await reader.getSession(fakeRequest({ cookie: `h3=${token}` }).request, config);
    expect(session.data).toEqual({});
    expect(rejections.map((r) => r.error.code)).toEqual(['ERR_COOKIE_INVALID']);

    // Within the skew (60 s by default) it is accepted: clocks of two servers differ a little.
    const nearly = engineWithClock();
    nearly.advance(30_000);
    const near = fakeRequest();
    await nearly.engine.updateSession(near.request, config, { user: 'near' });
    const opened = await reader.unsealSession(config, tokenIn(near.setCookies())!);
    expect(opened.data).toEqual({ user: 'near' });
  });
});

describe('session engine: the write queue', () => {
  it('an un-awaited update followed by clear() leaves only the deletion', async () => {
    const { engine } = engineWithClock();
    const { config, unawaited } = configWith();
    const token = await signedInToken(engine, config, { user: 'ada' });

    const logout = fakeRequest({ cookie: `h3=${token}` });
    const manager = await engine.useSession(logout.request, config);
    void manager.update({ lastSeen: 1 });
    await manager.clear();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logout.setCookies()).toHaveLength(1);
    expect(logout.setCookies()[0]).toMatch(/^h3=; Max-Age=0/);
    expect(unawaited).toEqual([]);
  });

  it('a getSession called in the same tick as useSession waits for the new session it writes', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const { request, setCookies } = fakeRequest();
    const using = engine.useSession(request, config);
    const reading = engine.getSession(request, config).then((session) => ({
      session,
      cookies: setCookies().length,
    }));
    const [manager, read] = await Promise.all([using, reading]);
    // The automatic write of the new session is shared: getSession answers after it.
    expect(read.cookies).toBe(1);
    expect(read.session.id).toBe(manager.id);
    expect(tokenIn(setCookies())).toBeDefined();
  });

  it('when that shared write fails, both callers see the failure', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const { request, sendHeaders } = fakeRequest();
    sendHeaders();
    const using = engine.useSession(request, config);
    const reading = engine.getSession(request, config);
    await expect(using).rejects.toMatchObject({ code: 'ERR_HEADERS_SENT' });
    await expect(reading).rejects.toMatchObject({ code: 'ERR_HEADERS_SENT' });
  });

  it('useSession then clearSession in the same tick: the clear comes first, then a new session', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const token = await signedInToken(engine, config, { user: 'ada' });

    const { request, setCookies } = fakeRequest({ cookie: `h3=${token}` });
    const using = engine.useSession(request, config);
    const clearing = engine.clearSession(request, config);
    const [manager] = await Promise.all([using, clearing]);
    // The clear acts at its call; the session useSession then finds is new, and written.
    expect(manager.data).toEqual({});
    expect(manager.id).toEqual(expect.any(String));
    const written = tokenIn(setCookies());
    expect(written).toBeDefined();
    expect((await engine.unsealSession(config, written!)).id).toBe(manager.id);
  });

  it('writes run in call order and each sees the earlier ones', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const { request, setCookies } = fakeRequest();
    const order: string[] = [];
    await Promise.all([
      engine.updateSession(request, config, { a: 1 }).then(() => order.push('a')),
      engine
        .updateSession(request, config, (data) => ({ b: Number(data.a) + 1 }))
        .then(() => order.push('b')),
      engine.sealSession(request, config).then(() => order.push('seal')),
    ]);
    expect(order).toEqual(['a', 'b', 'seal']);
    const opened = await engine.unsealSession(config, tokenIn(setCookies())!);
    expect(opened.data).toEqual({ a: 1, b: 2 });
  });

  it('a failed update leaves the data as it was, and an un-awaited failure is reported', async () => {
    const { engine } = engineWithClock();
    const { config, unawaited } = configWith();
    const { request, sendHeaders } = fakeRequest();
    const manager = await engine.useSession(request, config);
    await manager.update({ kept: true });

    await expect(manager.update({ when: new Date() })).rejects.toMatchObject({
      code: 'ERR_DATA_INVALID',
    });
    await expect(
      manager.update((data) => {
        data.big = 'x'.repeat(40_000);
        return undefined;
      }),
    ).rejects.toMatchObject({ code: 'ERR_COOKIE_TOO_LARGE' });
    expect(manager.data).toEqual({ kept: true });
    expect(unawaited).toEqual([]);

    sendHeaders();
    void manager.update({ late: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(unawaited).toHaveLength(1);
    expect(unawaited[0]).toMatchObject({ code: 'ERR_HEADERS_SENT' });
    expect(manager.data).toEqual({ kept: true });
  });

  it('an update function works on a deep copy: nested changes land only when the write does', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const { request } = fakeRequest();
    const manager = await engine.useSession(request, config);
    await manager.update({ cart: { items: [{ sku: 'a' }] } });
    const cart = manager.data.cart as { items: { sku: string }[] };

    // Refused at the seal: the nested push never reaches the session's data.
    await expect(
      manager.update((data) => {
        (data.cart as typeof cart).items.push({ sku: 'b' });
        data.when = new Date();
      }),
    ).rejects.toMatchObject({ code: 'ERR_DATA_INVALID' });
    expect(manager.data).toEqual({ cart: { items: [{ sku: 'a' }] } });

    // Data that is not plain JSON (put there by hand) is still copied, then refused whole.
    (manager.data as Record<string, unknown>).when = new Date(0);
    await expect(
      manager.update((data) => {
        expect(data.when).toBeInstanceOf(Date);
        expect(data.when).not.toBe(manager.data.when);
        (data.cart as typeof cart).items.push({ sku: 'c' });
      }),
    ).rejects.toMatchObject({ code: 'ERR_DATA_INVALID' });
    expect(cart.items).toEqual([{ sku: 'a' }]);
    (manager.data as Record<string, unknown>).fn = () => 1;
    await expect(manager.update(() => ({ more: 1 }))).rejects.toMatchObject({
      code: 'ERR_DATA_INVALID',
      message: 'Data cannot be represented faithfully as JSON',
    });
    delete (manager.data as Record<string, unknown>).fn;
    // A getter that throws while the data is copied is refused the same way.
    Object.defineProperty(manager.data, 'fn', {
      enumerable: true,
      configurable: true,
      get() {
        throw new Error('a getter that throws');
      },
    });
    await expect(manager.update(() => ({ more: 1 }))).rejects.toMatchObject({
      code: 'ERR_DATA_INVALID',
    });
    delete (manager.data as Record<string, unknown>).fn;
    delete (manager.data as Record<string, unknown>).when;

    await manager.update((data) => {
      (data.cart as typeof cart).items.push({ sku: 'd' });
    });
    expect(manager.data).toEqual({ cart: { items: [{ sku: 'a' }, { sku: 'd' }] } });
  });
});

describe('session engine: configuration checked at the first call', () => {
  it('a byte password the engine cannot seal with (64 bytes for aes-256-cbc) fails at the first read, not at the first write', async () => {
    const { engine } = engineWithClock();
    const config: SessionConfig = { password: new Uint8Array(64).fill(7) };
    await expect(engine.getSession(fakeRequest().request, config)).rejects.toMatchObject({
      code: 'ERR_PASSWORD_INVALID',
      message: expect.stringMatching(/exactly 32 bytes/) as unknown,
    });
    // 32 bytes is the AES-256 key itself: it seals and reads back.
    const good: SessionConfig = { password: new Uint8Array(32).fill(7) };
    const { request, setCookies } = fakeRequest();
    await engine.updateSession(request, good, { ok: true });
    expect((await engine.unsealSession(good, tokenIn(setCookies())!)).data).toEqual({ ok: true });
  });

  it('default session ids are random UUID v4s from the crypto backend', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++)
      ids.add((await engine.getSession(fakeRequest().request, config)).id);
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('session engine: nothing of a cleared session comes back', () => {
  it('a token still being opened (asynchronously) when clear() is called leaves no flash or source behind', async () => {
    // The WebCrypto backend opens tokens asynchronously on Node, as it does on workerd.
    // A fresh instance has never seen the token, so it derives its keys: at 8192 iterations
    // on the thread pool, asynchronously (as every derivation is on WebCrypto).
    const engine = createSessionEngine({ iron: createIron(nodeBackend), now: () => Date.now() });
    const sealer = createSessionEngine({ iron: createIron(nodeBackend), now: () => Date.now() });
    const { config } = configWith({
      seal: { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } },
    });
    const signIn = fakeRequest();
    await sealer.updateSession(signIn.request, config, { user: 'alice' });
    await sealer.setFlash(signIn.request, config, 'notice', 'OLD-FLASH');
    const token = tokenIn(signIn.setCookies())!;

    const { request, setCookies } = fakeRequest({ cookie: `h3=${token}` });
    const opening = engine.getSession(request, config);
    await engine.clearSession(request, config);
    const manager = await engine.useSession(request, config);
    // The unseal started before the clear settles now: what it opened must stay out.
    await opening;
    await manager.update({ anonymous: true });
    expect(await manager.takeFlash('notice')).toBeUndefined();
    const final = tokenIn(setCookies());
    expect(final).toBeDefined();
    const reopened = await engine.unsealSession(config, final!);
    expect(reopened.data).toEqual({ anonymous: true });
    expect(reopened.id).not.toBe((await engine.unsealSession(config, token)).id);
  });

  it('a clear right after a regenerate wrote its cookie is not undone', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const token = await signedInToken(engine, config, { user: 'alice' });

    let cleared: Promise<void> | undefined;
    const cookies: string[] = [];
    const transport: SessionTransport = {
      getRequestHeader: (name) => (name === 'cookie' ? `h3=${token}` : undefined),
      setCookie(header, identity) {
        cookies.splice(0, cookies.length, ...replaceSetCookie(cookies, header, identity));
        // The first cookie the regenerate writes: clear in the very next microtask.
        if (cleared === undefined && !header.startsWith('h3=;')) {
          queueMicrotask(() => {
            cleared = engine.clearSession(request, config);
          });
        }
      },
      headersSent: () => false,
    };
    const request: RequestContext = createRequestContext(transport);
    await engine.regenerateSession(request, config);
    await cleared;
    await engine.updateSession(request, config, { later: 1 });
    expect((await engine.getSession(request, config)).data).toEqual({ later: 1 });
    expect((await engine.unsealSession(config, tokenIn(cookies)!)).data).toEqual({ later: 1 });
  });
});

describe('session engine: what review found', () => {
  it('an onUnawaitedError that throws never becomes an unhandled rejection', async () => {
    const { engine } = engineWithClock();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const config: SessionConfig = {
        password: PASSWORD,
        onUnawaitedError: () => {
          throw new Error('logger down');
        },
      };
      const { request, sendHeaders } = fakeRequest();
      const manager = await engine.useSession(request, config);
      sendHeaders();
      void manager.update({ late: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an update of a session from the session header checks its data like any other', async () => {
    const { engine } = engineWithClock();
    const { config } = configWith();
    const sealer = fakeRequest();
    await engine.updateSession(sealer.request, config, { user: 'api' });
    const token = tokenIn(sealer.setCookies())!;
    const { request, setCookies } = fakeRequest({ 'x-h3-session': token });
    await expect(engine.updateSession(request, config, { when: new Date() })).rejects.toMatchObject(
      {
        code: 'ERR_DATA_INVALID',
      },
    );
    await engine.updateSession(request, config, { ok: true });
    expect(setCookies()).toEqual([]);
    expect((await engine.getSession(request, config)).data).toEqual({ user: 'api', ok: true });
  });

  it('sealSession does not take the idle renewal away from the cookie', async () => {
    const { engine, advance } = engineWithClock();
    const { config } = configWith({ idleTimeout: 100 });
    const first = fakeRequest();
    await engine.updateSession(first.request, config, { user: 'ada' });
    const token = tokenIn(first.setCookies())!;
    advance(60_000);
    const { request, setCookies } = fakeRequest({ cookie: `h3=${token}` });
    await engine.sealSession(request, config);
    await engine.useSession(request, config);
    expect(tokenIn(setCookies())).toBeDefined();
  });

  it('lifetimes past what a token can carry, and crypto without randomUUID, are refused', async () => {
    const { engine } = engineWithClock();
    for (const extra of [
      { maxAge: 1e13 },
      { idleTimeout: 1e12 },
      { crypto: {} as { randomUUID(): string } },
      { cookie: { maxAge: -1 } },
      { cookie: { partitioned: true, secure: false } },
    ]) {
      await expect(
        engine.getSession(fakeRequest().request, { password: PASSWORD, ...extra }),
      ).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    }
  });

  it('the manager shows id, createdAt and data, and nothing of its state', async () => {
    const { engine } = engineWithClock();
    const manager = await engine.useSession(fakeRequest().request, configWith().config);
    expect(Object.keys(manager)).toEqual(['id', 'createdAt', 'data']);
    expect('state' in manager).toBe(false);
  });
});
