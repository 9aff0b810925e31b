/**
 * The session engine on its own: an engine made with `createSessionEngine` over the
 * package's iron instance and a clock the test moves, driven through an in-memory
 * transport. Timeouts and the write queue are proven here without sockets or sleeps; the
 * matrix suites prove the same behaviour over real HTTP on every host.
 */
import { describe, expect, it } from 'vitest';
import type { CookieIdentity } from '../../src/cookie/set-cookie.js';
import { replaceSetCookie } from '../../src/cookie/set-cookie.js';
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
    const signIn = fakeRequest();
    await engine.updateSession(signIn.request, config, { user: 'ada' });
    const token = tokenIn(signIn.setCookies())!;

    const logout = fakeRequest({ cookie: `h3=${token}` });
    const manager = await engine.useSession(logout.request, config);
    void manager.update({ lastSeen: 1 });
    await manager.clear();
    await new Promise((resolve) => setImmediate(resolve));
    expect(logout.setCookies()).toHaveLength(1);
    expect(logout.setCookies()[0]).toMatch(/^h3=; Max-Age=0/);
    expect(unawaited).toEqual([]);
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
