/**
 * Session options, over real HTTP on every host. A misspelt option (`maxage`,
 * `cookie.sameSit`, `seal.iteration`) would otherwise be ignored without a word and the
 * session would quietly not expire, so every function rejects it with ERR_CONFIG_INVALID
 * naming the key, with the event and without, and so does the middleware. Every option of
 * h3 1.15's and h3 2.0.8's `SessionConfig` is accepted (the configurations below are
 * checked against h3's own types) and takes effect.
 */
import type { SessionConfig as H3V1SessionConfig } from 'h3-v1';
import type { SessionConfig as H3V2SessionConfig } from 'h3-v2';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  clearSession,
  getSession,
  regenerateSession,
  sealSession,
  setFlash,
  takeFlash,
  unsealSession,
  updateSession,
  useSession,
  type AnyHTTPEvent,
  type SessionConfig,
} from '../../../src/index.js';
import { sealSessionToken, secret } from '../matrix/helpers.js';
import {
  cookieHeader,
  cookiesNamed,
  hostSession,
  itWhen,
  jarAfter,
  outcomeOf,
  type Outcome,
} from './fixtures.js';
import { hosts, type DropInServer, type Routes } from './hosts.js';

/** A configuration TypeScript would refuse, as a JavaScript caller may pass it. */
function unchecked(config: object): SessionConfig {
  return config as SessionConfig;
}

const PASSWORD = secret();

/** Misspelt options, and what the error must name. */
const MISSPELT: readonly (readonly [label: string, config: SessionConfig, names: RegExp])[] = [
  ['maxage', unchecked({ password: PASSWORD, maxage: 60 }), /\bmaxage is not an option/],
  [
    'cookie.sameSit',
    unchecked({ password: PASSWORD, cookie: { sameSit: 'lax' } }),
    /\bcookie\.sameSit is not an option/,
  ],
  [
    'seal.iteration',
    unchecked({ password: PASSWORD, seal: { iteration: 2 } }),
    /\bseal\.iteration is not an option/,
  ],
  [
    'seal.integrity.iteration',
    unchecked({ password: PASSWORD, seal: { integrity: { iteration: 2 } } }),
    /\bseal\.integrity\.iteration is not an option/,
  ],
];

/** Every function called with `config`: with `event` when given, else without one. */
function everyCall(
  config: SessionConfig,
  event: AnyHTTPEvent | undefined,
  token: string,
): Record<string, () => Promise<unknown>> {
  if (event === undefined) {
    return {
      useSession: () => useSession(config),
      getSession: () => getSession(config),
      updateSession: () => updateSession(config, { user: 'ada' }),
      clearSession: () => clearSession(config),
      regenerateSession: () => regenerateSession(config),
      sealSession: () => sealSession(config),
      unsealSession: () => unsealSession(config, token),
      setFlash: () => setFlash(config, 'notice', 'saved'),
      takeFlash: () => takeFlash(config, 'notice'),
    };
  }
  return {
    useSession: () => useSession(event, config),
    getSession: () => getSession(event, config),
    updateSession: () => updateSession(event, config, { user: 'ada' }),
    clearSession: () => clearSession(event, config),
    regenerateSession: () => regenerateSession(event, config),
    sealSession: () => sealSession(event, config),
    unsealSession: () => unsealSession(event, config, token),
    setFlash: () => setFlash(event, config, 'notice', 'saved'),
    takeFlash: () => takeFlash(event, config, 'notice'),
  };
}

type Outcomes = Record<string, Outcome<unknown>>;

async function outcomesOf(calls: Record<string, () => Promise<unknown>>): Promise<Outcomes> {
  const outcomes: Outcomes = {};
  for (const [name, call] of Object.entries(calls)) outcomes[name] = await outcomeOf(call);
  return outcomes;
}

/** The full iron options h3's types ask for (they have no optional fields). */
function fullSeal(iterations: number) {
  const key = { saltBits: 256, iterations, minPasswordlength: 32 } as const;
  return {
    encryption: { ...key, algorithm: 'aes-256-cbc' },
    integrity: { ...key, algorithm: 'sha256' },
    ttl: 0,
    timestampSkewSec: 60,
    localtimeOffsetMsec: 0,
  } as const;
}

let generated = 0;

/** Every option of h3 2.0.8's SessionConfig, cookie options included. */
const H3_V2_FULL = {
  password: PASSWORD,
  maxAge: 3600,
  idleTimeout: 600,
  name: 'full',
  cookie: {
    path: '/',
    domain: 'example.test',
    secure: true,
    httpOnly: true,
    sameSite: 'strict',
    priority: 'high',
    partitioned: true,
    chunkMaxLength: 1000,
    encode: encodeURIComponent,
  },
  sessionHeader: 'x-full-token',
  seal: fullSeal(8192),
  // Deprecated in h3 2.x, but still one of its options: a config that sets it must work.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  legacySealFallback: true,
  crypto: globalThis.crypto,
  generateId: () => `generated-${++generated}`,
} satisfies H3V2SessionConfig;

/** A Crypto whose randomUUID marks the ids it makes, to see h3's `crypto` option used. */
const markingCrypto: Crypto = {
  subtle: globalThis.crypto.subtle,
  getRandomValues: (array) => globalThis.crypto.getRandomValues(array),
  randomUUID: () => `marked-${++generated}-0-0-0`,
};

/** Every option of h3 1.15's SessionConfig (its cookie options are cookie-es's). */
const H3_V1_FULL = {
  password: PASSWORD,
  maxAge: 3600,
  name: 'v1full',
  cookie: {
    path: '/',
    domain: 'example.test',
    secure: true,
    httpOnly: false,
    sameSite: 'lax',
    priority: 'low',
    partitioned: false,
    maxAge: 7200,
    expires: new Date(Date.now() + 7200 * 1000),
    encode: encodeURIComponent,
  },
  sessionHeader: 'x-v1-token',
  seal: fullSeal(1),
  crypto: markingCrypto,
} satisfies H3V1SessionConfig;

/** Uses every function with `config` (with the event where there is one, else without). */
function fullRoutes(config: SessionConfig): Routes {
  return {
    '/all': async (exchange) => {
      const event = exchange.event;
      const session = await hostSession(exchange, config);
      const size = Number(exchange.url.searchParams.get('size') ?? 0);
      await session.update({ user: 'ada', padding: 'x'.repeat(size) });
      const token = event ? await sealSession(event, config) : await sealSession(config);
      const opened = await unsealSession(config, token);
      if (event) await setFlash(event, config, 'notice', 'saved');
      else await setFlash(config, 'notice', 'saved');
      const flash = event
        ? await takeFlash(event, config, 'notice')
        : await takeFlash(config, 'notice');
      const read = event ? await getSession(event, config) : await getSession(config);
      return { id: session.id, openedId: opened.id, flash, user: read.data.user as unknown, token };
    },
    '/read': async (exchange) => {
      const session = await hostSession(exchange, config);
      return { id: session.id, user: (session.data.user as unknown) ?? null };
    },
  };
}

describe('a misspelt option outside any request', () => {
  it.each(MISSPELT)(
    'unsealSession(config, token) with %s rejects ERR_CONFIG_INVALID naming it',
    async (_label, config, names) => {
      const outcome = await outcomeOf(() => unsealSession(config, 'Fe26.2**token'));
      expect(outcome).toMatchObject({ ok: false, code: 'ERR_CONFIG_INVALID', threw: false });
      if (!outcome.ok) expect(outcome.message).toMatch(names);
    },
  );
});

describe.each(hosts)('session options on $name', (host) => {
  let token: string;
  let server: DropInServer;
  let v2Server: DropInServer;
  let v1Server: DropInServer;
  /** Middleware hosts only: one server per misspelt configuration given to the middleware. */
  const misconfigured = new Map<string, DropInServer>();

  beforeAll(async () => {
    const good: SessionConfig = { password: PASSWORD };
    token = await sealSessionToken(PASSWORD, { id: 'kept', createdAt: Date.now(), data: {} });
    const routes: Routes = {
      '/misspelt': async (exchange) => {
        const [, config] = MISSPELT[Number(exchange.url.searchParams.get('case'))]!;
        return {
          withEvent: exchange.event
            ? await outcomesOf(everyCall(config, exchange.event, token))
            : null,
          withoutEvent: host.scoped ? await outcomesOf(everyCall(config, undefined, token)) : null,
        };
      },
    };
    [server, v2Server, v1Server] = await Promise.all([
      host.start(good, routes),
      host.start(H3_V2_FULL, fullRoutes(H3_V2_FULL)),
      host.start(H3_V1_FULL, fullRoutes(H3_V1_FULL)),
    ]);
    if (host.kind === 'middleware') {
      for (const [label, config] of MISSPELT) {
        misconfigured.set(label, await host.start(config, { '/': () => Promise.resolve('ok') }));
      }
    }
  });

  afterAll(() =>
    Promise.all([server, v2Server, v1Server, ...misconfigured.values()].map((s) => s.close())),
  );

  it.each(MISSPELT.map(([label, , names], index) => [label, index, names] as const))(
    '%s: every function rejects ERR_CONFIG_INVALID naming the key, with the event and without, and writes nothing',
    async (_label, index, names) => {
      const response = await server.request(`/misspelt?case=${index}`, {
        headers: cookieHeader({ h3: token }),
      });
      expect(response.status).toBe(200);
      const body = response.json as { withEvent: Outcomes | null; withoutEvent: Outcomes | null };
      const forms = [body.withEvent, body.withoutEvent].filter((form) => form !== null);
      // Event hosts call with the event, scoped hosts without it: node and fetch both.
      expect(forms).toHaveLength(host.kind === 'event' && host.scoped ? 2 : 1);
      for (const outcomes of forms) {
        expect(Object.keys(outcomes)).toHaveLength(9);
        for (const [name, outcome] of Object.entries(outcomes)) {
          expect(outcome, name).toMatchObject({
            ok: false,
            code: 'ERR_CONFIG_INVALID',
            threw: false,
          });
          if (!outcome.ok) expect(outcome.message, name).toMatch(names);
        }
      }
      // The middleware's own (valid) configuration read the cookie and wrote nothing new.
      expect(response.setCookies).toEqual([]);
    },
  );

  itWhen(host.kind === 'middleware')(
    'the middleware given a misspelt option fails the request with ERR_CONFIG_INVALID naming the key',
    async () => {
      for (const [label, , names] of MISSPELT) {
        const misconfiguredServer = misconfigured.get(label)!;
        const response = await misconfiguredServer.request('/');
        expect(response.status, label).toBe(500);
        expect(response.setCookies).toEqual([]);
        expect(misconfiguredServer.errors, label).toHaveLength(1);
        expect(misconfiguredServer.errors[0]).toMatchObject({
          code: 'ERR_CONFIG_INVALID',
          message: expect.stringMatching(names) as unknown,
        });
      }
    },
  );

  it('every option of h3 2.0.8’s SessionConfig is accepted and takes effect', async () => {
    const response = await v2Server.request('/all?size=3000');
    expect(response.status).toBe(200);
    const body = response.json as { id: string; openedId: string; flash: string; token: string };
    // generateId made the id; the flash went through; the session reads back.
    expect(body).toMatchObject({
      id: expect.stringMatching(/^generated-\d+$/) as unknown,
      openedId: body.id,
      flash: 'saved',
      user: 'ada',
    });
    // name and cookie.chunkMaxLength: a 3 KB session in chunks of at most 1000 characters.
    const main = cookiesNamed(response, 'full');
    expect(main).toHaveLength(1);
    expect(main[0]!.value).toMatch(/^__chunked__\d+$/);
    const chunks = response.setCookies.filter((header) => header.startsWith('full.'));
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const header of [main[0]!.raw, ...chunks]) {
      expect(header.split(';')[0]!.length).toBeLessThanOrEqual('full.1='.length + 1000);
      // The cookie attributes, and an expiry from idleTimeout (earlier than maxAge).
      expect(header).toMatch(/; Max-Age=(599|600); /);
      expect(header).toMatch(/; Domain=example\.test; Path=\/; HttpOnly; Secure; /);
      expect(header).toMatch(/; Partitioned; Priority=High; SameSite=Strict$/);
    }
    // The seal options (8192 iterations) sealed the token; sessionHeader reads it back.
    const byHeader = await v2Server.request('/read', { headers: { 'x-full-token': body.token } });
    expect(byHeader.json).toEqual({ id: body.id, user: 'ada' });
    // And the chunked cookie reads back.
    const byCookie = await v2Server.request('/read', { headers: cookieHeader(jarAfter(response)) });
    expect(byCookie.json).toEqual({ id: body.id, user: 'ada' });
  });

  it('every option of h3 1.15’s SessionConfig is accepted and takes effect', async () => {
    const response = await v1Server.request('/all');
    expect(response.status).toBe(200);
    const body = response.json as { id: string; token: string };
    // Without generateId, the `crypto` option's randomUUID made the id.
    expect(body).toMatchObject({
      id: expect.stringMatching(/^marked-\d+-0-0-0$/) as unknown,
      flash: 'saved',
      user: 'ada',
    });
    const cookie = cookiesNamed(response, 'v1full');
    expect(cookie).toHaveLength(1);
    // The cookie's own maxAge and expires win over the session's maxAge.
    expect(cookie[0]!.raw).toMatch(
      /; Max-Age=7200; Domain=example\.test; Path=\/; Expires=[^;]+; Secure; Priority=Low; SameSite=Lax$/,
    );
    expect(cookie[0]!.raw).not.toMatch(/HttpOnly|Partitioned/);
    const byHeader = await v1Server.request('/read', { headers: { 'x-v1-token': body.token } });
    expect(byHeader.json).toEqual({ id: body.id, user: 'ada' });
  });
});

describe('h3’s configuration types', () => {
  it('a configuration typed as h3 1.15’s or h3 2.0.8’s SessionConfig is a SessionConfig', () => {
    expectTypeOf<H3V1SessionConfig>().toExtend<SessionConfig>();
    expectTypeOf<H3V2SessionConfig>().toExtend<SessionConfig>();
  });
});

describe('cookie options of h3 2.0.8 that have no effect on a session token', () => {
  it('cookie.stringify (h3 2.x’s CookieStringifyOptions, for non-string values) is accepted', async () => {
    const config: H3V2SessionConfig = {
      password: PASSWORD,
      cookie: { stringify: (value: unknown) => JSON.stringify(value) },
    };
    const token = await sealSessionToken(PASSWORD, { id: 'kept', createdAt: 0, data: {} });
    await expect(unsealSession(config, token)).resolves.toMatchObject({ id: 'kept' });
  });
});
