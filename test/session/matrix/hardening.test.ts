/**
 * The session hardening suite, run over real HTTP against every host of the matrix (node,
 * fetch, h3 1.x, h3 2.x, Express, Hono): clear() as a barrier for writes started before it,
 * staged updates, failures of writes nobody awaited, purpose-bound tokens, duplicate and
 * prefixed session cookies, the session header never touching the cookie, and seal options
 * that would break the token format.
 *
 * As in session.test.ts, a case that needs getSession or sealSession alone (which the
 * Express and Hono middleware do not expose) is registered for event hosts only.
 */
import { randomUUID } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  unsealSession,
  type SessionConfig,
  type SessionDataT,
  type SessionRejection,
} from '../../../src/index.js';
import { unseal } from '../../../src/iron/index.js';
import {
  aSession,
  attributeNames,
  cookieHeader,
  cookiesNamed,
  oneCookie,
  rawCookie,
  sealSessionToken,
  secret,
  until,
  UUID,
  type SessionShape,
} from './helpers.js';
import { hosts, type HostResponse, type HostServer } from './hosts.js';
import {
  BAD_CONFIGS,
  expectOutcome,
  hardeningRoutes,
  messageOf,
  type AfterClear,
  type BadConfigName,
  type CallForm,
  type CallOutcome,
  type Failure,
  type Pending,
  type Seen,
  type UpdateForm,
} from './hardening-routes.js';
import { codeOf, routes, type View } from './routes.js';

/** `it` / `describe` where a case applies to the host, nothing where it does not. */
const itWhen = (applies: boolean): typeof it =>
  applies ? it : ((() => undefined) as unknown as typeof it);
const describeWhen = (applies: boolean): typeof describe =>
  applies ? describe : ((() => undefined) as unknown as typeof describe);

/**
 * Every unhandled rejection while this file runs: a session write must never become one,
 * whether or not anybody awaited it.
 */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
/** Where the running test's window of `unhandled` starts, so one failure stays its own. */
let unhandledFrom = 0;
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
beforeEach(() => {
  unhandledFrom = unhandled.length;
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled.map(codeOf)).toEqual([]);
});

/** The codes of the unhandled rejections since the running test started. */
const unhandledNow = (): string[] => unhandled.slice(unhandledFrom).map(codeOf);

interface Scenario {
  readonly config: SessionConfig;
  /** What `onInvalidToken` reported, in order. */
  readonly rejections: SessionRejection[];
  /** What `onUnawaitedError` reported, in order. */
  readonly unawaited: unknown[];
}

function scenario(config: Omit<SessionConfig, 'onInvalidToken' | 'onUnawaitedError'>): Scenario {
  const rejections: SessionRejection[] = [];
  const unawaited: unknown[] = [];
  return {
    config: {
      ...config,
      onInvalidToken: (rejection) => rejections.push(rejection),
      onUnawaitedError: (error) => unawaited.push(error),
    },
    rejections,
    unawaited,
  };
}

/** The configurations every host is started with: fresh secrets per host. */
function makeScenarios() {
  // 'pre' (an MFA-pending step) and 'auth' share a password; so do the 'shared' ones.
  const stepPassword = secret();
  const sharedPassword = secret();
  return {
    main: scenario({ password: secret() }),
    maxAge: scenario({ password: secret(), maxAge: 3600 }),
    pre: scenario({ password: stepPassword, name: 'pre' }),
    auth: scenario({ password: stepPassword, name: 'auth' }),
    strict: scenario({ password: stepPassword, name: 'auth', acceptUnboundTokens: false }),
    sharedA: scenario({ password: sharedPassword, name: 'a1', purpose: 'shared' }),
    sharedB: scenario({ password: sharedPassword, name: 'a2', purpose: 'shared' }),
    plainB: scenario({ password: sharedPassword, name: 'a2' }),
    hostPrefix: scenario({ password: secret(), name: '__Host-h3' }),
  };
}

type Scenarios = ReturnType<typeof makeScenarios>;
type ScenarioName = keyof Scenarios;
type Running = Record<ScenarioName, Scenario & { readonly server: HostServer }>;

/** The session a signed-in user brings in the cookie of most cases. */
const SIGNED_IN = { user: 'alice', profile: { theme: 'dark' } } as const;

/**
 * The cookies a browser sends next: those of the request, with the response's Set-Cookie
 * applied (a Max-Age=0 or past Expires deletes).
 */
function nextRequestCookies(
  sent: Record<string, string>,
  response: HostResponse,
): Record<string, string> {
  const jar = new Map<string, string>();
  for (const pair of (sent.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  for (const header of response.setCookies) {
    const cookie = parseSetCookie(header);
    const expired =
      cookie.maxAge === 0 ||
      (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now());
    if (expired) jar.delete(cookie.name);
    else jar.set(cookie.name, cookie.value ?? '');
  }
  if (jar.size === 0) return {};
  return { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') };
}

/** The rejection reports as [source, code]. */
const reports = (entry: Scenario): [string, string][] =>
  entry.rejections.map((rejection) => [rejection.source, rejection.error.code]);

/** Lets rejections that nobody handled reach the process's event (one macrotask is enough). */
const settleRejections = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

describe.each(hosts)('session hardening: $name', (host) => {
  const scenarios = makeScenarios();
  const running = {} as Running;
  const badServers = {} as Record<BadConfigName, HostServer>;
  const isEventHost = host.kind === 'event';

  beforeAll(async () => {
    const table = { ...routes, ...hardeningRoutes };
    await Promise.all([
      ...(Object.keys(scenarios) as ScenarioName[]).map(async (name) => {
        running[name] = {
          ...scenarios[name],
          server: await host.start(scenarios[name].config, table),
        };
      }),
      ...(Object.keys(BAD_CONFIGS) as BadConfigName[]).map(async (name) => {
        badServers[name] = await host.start(BAD_CONFIGS[name].config, table);
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([
      ...Object.values(running).map((entry) => entry.server.close()),
      ...Object.values(badServers).map((server) => server.close()),
    ]);
  });

  beforeEach(() => {
    for (const entry of Object.values(running)) {
      entry.rejections.length = 0;
      entry.unawaited.length = 0;
      entry.server.errors.length = 0;
    }
    for (const server of Object.values(badServers)) server.errors.length = 0;
  });

  /** A cookie header carrying a signed-in session of `name` (sealed as h3 seals it). */
  async function signedIn(
    name: ScenarioName = 'main',
  ): Promise<{ session: SessionShape; headers: Record<string, string> }> {
    const session = aSession(structuredClone(SIGNED_IN));
    const token = await sealSessionToken(running[name].config.password, session);
    return { session, headers: cookieHeader(running[name].config.name ?? 'h3', token) };
  }

  const unsealWith = (name: ScenarioName, token: string): Promise<SessionShape> =>
    unsealSession(undefined, running[name].config, token);

  /** A token this scenario's server sealed itself (through an update). */
  async function tokenFrom(name: ScenarioName, data: SessionDataT): Promise<string> {
    const response = await running[name].server.request(
      `/update?patch=${encodeURIComponent(JSON.stringify(data))}`,
    );
    return oneCookie(response, running[name].config.name ?? 'h3').value;
  }

  describe('clear() is a barrier for writes started before it', () => {
    interface Cleared {
      readonly before: Seen;
      readonly cleared: Seen;
      readonly after: Seen;
    }

    const clearAfter = async (pending: Pending, form: CallForm, after: AfterClear) => {
      const { session, headers } = await signedIn();
      const response = await running.main.server.request(
        `/pending-then-clear?pending=${pending}&form=${form}&after=${after}`,
        { headers },
      );
      expect(response.status).toBe(200);
      const body = response.json as Cleared;
      expect(body.before.id).toBe(session.id);
      return { session, headers, response, body };
    };

    /** The response deletes the session cookie and writes nothing else for it. */
    const expectOnlyDeletion = (response: HostResponse): void => {
      expect(response.setCookies).toHaveLength(1);
      const cookie = oneCookie(response);
      expect(cookie.value).toBe('');
      expect(cookie.maxAge).toBe(0);
    };

    /** The next request, with the response's cookies, is a new, signed-out session. */
    async function expectSignedOut(
      headers: Record<string, string>,
      response: HostResponse,
      old: SessionShape,
    ): Promise<void> {
      const next = await running.main.server.request('/read', {
        headers: nextRequestCookies(headers, response),
      });
      const view = next.json as View;
      expect(view.id).toMatch(UUID);
      expect(view.id).not.toBe(old.id);
      expect(view.data).toEqual({});
    }

    it("an un-awaited update({ lastSeen }) then the manager's clear() leaves only the deletion, and the next request is signed out", async () => {
      const { session, headers, response, body } = await clearAfter('update', 'manager', 'none');
      expect(body.cleared).toEqual({ data: {} });
      expectOnlyDeletion(response);
      await expectSignedOut(headers, response, session);
    });

    itWhen(isEventHost)(
      'an un-awaited updateSession({ lastSeen }) then clearSession leaves only the deletion, and the next request is signed out',
      async () => {
        const { session, headers, response } = await clearAfter('update', 'event', 'none');
        expectOnlyDeletion(response);
        await expectSignedOut(headers, response, session);
      },
    );

    it('an un-awaited regenerate() then clear() writes no session under a new id', async () => {
      const { session, headers, response, body } = await clearAfter(
        'regenerate',
        'manager',
        'none',
      );
      expect(body.cleared).toEqual({ data: {} });
      expectOnlyDeletion(response);
      await expectSignedOut(headers, response, session);
    });

    itWhen(isEventHost)(
      'an un-awaited regenerateSession then clearSession writes no session under a new id',
      async () => {
        const { session, headers, response } = await clearAfter('regenerate', 'event', 'none');
        expectOnlyDeletion(response);
        await expectSignedOut(headers, response, session);
      },
    );

    it('an update called after the clear starts a new session holding only its patch, past an un-awaited update and regenerate', async () => {
      const { session, headers, response, body } = await clearAfter(
        'update,regenerate',
        'manager',
        'one',
      );
      expect(body.after.id).toMatch(UUID);
      expect(body.after.id).not.toBe(session.id);
      expect(body.after.data).toEqual({ after: true });
      const cookie = oneCookie(response);
      expect(cookie.maxAge).toBeUndefined();
      expect(await unsealWith('main', cookie.value)).toMatchObject({
        id: body.after.id,
        data: { after: true },
      });
      const next = await running.main.server.request('/read', {
        headers: nextRequestCookies(headers, response),
      });
      expect(next.json).toMatchObject({ id: body.after.id, data: { after: true } });
    });

    it('parallel updates after the clear all land in one Set-Cookie of a new session, past an un-awaited update and regenerate', async () => {
      const { session, response, body } = await clearAfter(
        'update,regenerate',
        'manager',
        'parallel',
      );
      expect(body.after.data).toEqual({ p1: 1, p2: 2, p3: 3 });
      expect(response.setCookies).toHaveLength(1);
      const sealed = await unsealWith('main', oneCookie(response).value);
      expect(sealed.id).toBe(body.after.id);
      expect(sealed.id).not.toBe(session.id);
      expect(sealed.data).toEqual({ p1: 1, p2: 2, p3: 3 });
    });

    itWhen(isEventHost)(
      'updateSession after clearSession starts a new session holding only its patch, past an un-awaited update and regenerate',
      async () => {
        const { session, response, body } = await clearAfter('update,regenerate', 'event', 'one');
        expect(body.after.id).not.toBe(session.id);
        expect(body.after.data).toEqual({ after: true });
        expect((await unsealWith('main', oneCookie(response).value)).data).toEqual({
          after: true,
        });
      },
    );
  });

  describe('a failed update leaves the session data as it was', () => {
    const cases: readonly { failure: Failure; form: UpdateForm; code: string }[] = [
      { failure: 'data', form: 'object', code: 'ERR_DATA_INVALID' },
      { failure: 'data', form: 'fn', code: 'ERR_DATA_INVALID' },
      { failure: 'large', form: 'object', code: 'ERR_COOKIE_TOO_LARGE' },
      { failure: 'large', form: 'fn', code: 'ERR_COOKIE_TOO_LARGE' },
    ];

    it.each(cases)(
      '$code ($form update): the handler keeps the old data, and a later update writes the old data plus its own patch',
      async ({ failure, form, code }) => {
        const { session, headers } = await signedIn();
        const response = await running.main.server.request(
          `/staged?failure=${failure}&form=${form}`,
          { headers },
        );
        expect(response.status).toBe(200);
        const body = response.json as {
          code: string;
          afterFailure: Seen;
          next: string;
          final: Seen;
        };
        expect(body.code).toBe(code);
        expect(body.afterFailure).toEqual({ id: session.id, data: SIGNED_IN });
        expect(body.next).toBe('resolved');
        const expected = { ...SIGNED_IN, ok: true };
        expect(body.final.data).toEqual(expected);
        const sealed = await unsealWith('main', oneCookie(response).value);
        expect(sealed).toEqual({ ...session, data: expected });
        const next = await running.main.server.request('/read', {
          headers: nextRequestCookies(headers, response),
        });
        expect(next.json).toEqual({ ...session, data: expected });
      },
    );

    it.each(['object', 'fn'] as const)(
      'ERR_HEADERS_SENT (%s update after the response went out): the handler and the next request keep the old data',
      async (form) => {
        const { session, headers } = await signedIn();
        const tag = randomUUID();
        const outcome = expectOutcome(tag);
        const response = await running.main.server.request(`/staged-late?tag=${tag}&form=${form}`, {
          headers,
        });
        expect(response.status).toBe(200);
        expect(cookiesNamed(response, 'h3')).toEqual([]);
        expect(await outcome).toEqual({
          code: 'ERR_HEADERS_SENT',
          data: SIGNED_IN,
          ...(isEventHost ? { getSession: SIGNED_IN } : {}),
        });
        const next = await running.main.server.request('/read', {
          headers: nextRequestCookies(headers, response),
        });
        expect(next.json).toEqual(session);
      },
    );
  });

  describe('a failed write nobody awaited goes to onUnawaitedError', () => {
    const forms = isEventHost ? (['manager', 'event'] as const) : (['manager'] as const);
    const inHandler = forms.flatMap((form) => [
      { form, failure: 'large' as const, code: 'ERR_COOKIE_TOO_LARGE' },
      { form, failure: 'data' as const, code: 'ERR_DATA_INVALID' },
    ]);

    it.each(inHandler)(
      '$code ($form form) is reported once, the awaited failure before it is not, and nothing is an unhandled rejection',
      async ({ form, failure, code }) => {
        const { session, headers } = await signedIn();
        const response = await running.main.server.request(
          `/unawaited?failure=${failure}&form=${form}`,
          { headers },
        );
        expect(response.status).toBe(200);
        const body = response.json as { awaited: string; final: Seen };
        expect(body.awaited).toBe('ERR_DATA_INVALID');
        // The awaited update queued behind the failed one still wrote.
        expect(body.final).toEqual({ id: session.id, data: { ...SIGNED_IN, ok: true } });
        await until(() => running.main.unawaited.length + unhandledNow().length > 0);
        await settleRejections();
        expect({ reported: running.main.unawaited.map(codeOf), unhandled: unhandledNow() }).toEqual(
          {
            reported: [code],
            unhandled: [],
          },
        );
        expect(running.main.server.errors).toEqual([]);
      },
    );

    const late = forms.flatMap((form) =>
      (['update', 'clear', 'regenerate'] as const).map((op) => ({ form, op })),
    );

    it.each(late)(
      'an un-awaited $op ($form form) after the response went out is reported as ERR_HEADERS_SENT, never an unhandled rejection',
      async ({ form, op }) => {
        const { headers } = await signedIn();
        const tag = randomUUID();
        const started = expectOutcome(tag);
        const response = await running.main.server.request(
          `/unawaited-late?tag=${tag}&op=${op}&form=${form}`,
          { headers },
        );
        expect(response.status).toBe(200);
        expect(await started).toBe('started');
        await until(() => running.main.unawaited.length + unhandledNow().length > 0);
        await settleRejections();
        expect({ reported: running.main.unawaited.map(codeOf), unhandled: unhandledNow() }).toEqual(
          {
            reported: ['ERR_HEADERS_SENT'],
            unhandled: [],
          },
        );
      },
    );
  });

  describe('tokens are bound to their purpose', () => {
    it("a 'pre' token in the 'auth' cookie gives a fresh session and ERR_PURPOSE_MISMATCH", async () => {
      const preToken = await tokenFrom('pre', { step: 'mfa-pending' });
      // The token is good where it belongs.
      const own = await running.pre.server.request('/read', {
        headers: cookieHeader('pre', preToken),
      });
      expect((own.json as View).data).toEqual({ step: 'mfa-pending' });
      const response = await running.auth.server.request('/read', {
        headers: cookieHeader('auth', preToken),
      });
      expect(response.status).toBe(200);
      expect((response.json as View).data).toEqual({});
      expect(reports(running.auth)).toEqual([['cookie', 'ERR_PURPOSE_MISMATCH']]);
    });

    it("a 'pre' token in the 'auth' session header gives a fresh session and ERR_PURPOSE_MISMATCH", async () => {
      const preToken = await tokenFrom('pre', { step: 'mfa-pending' });
      const response = await running.auth.server.request('/read', {
        headers: { 'x-auth-session': preToken },
      });
      expect(response.status).toBe(200);
      expect((response.json as View).data).toEqual({});
      expect(reports(running.auth)).toEqual([['header', 'ERR_PURPOSE_MISMATCH']]);
    });

    it("unsealSession with the 'auth' config rejects a 'pre' token with ERR_PURPOSE_MISMATCH", async () => {
      const preToken = await tokenFrom('pre', { step: 'mfa-pending' });
      const response = await running.auth.server.request('/unseal', {
        headers: { 'x-token': preToken },
      });
      expect(response.json).toEqual({
        ok: false,
        isSessionError: true,
        name: 'SessionError',
        code: 'ERR_PURPOSE_MISMATCH',
      });
    });

    it('config.purpose replaces the name: two names with one purpose accept each other, the bare name refuses', async () => {
      const token = await tokenFrom('sharedA', { who: 'a1' });
      expect(await unseal(token, running.sharedA.config.password)).toMatchObject({
        purpose: 'shared',
      });
      const accepted = await running.sharedB.server.request('/read', {
        headers: cookieHeader('a2', token),
      });
      expect((accepted.json as View).data).toEqual({ who: 'a1' });
      expect(accepted.setCookies).toEqual([]);
      expect(running.sharedB.rejections).toEqual([]);
      const refused = await running.plainB.server.request('/read', {
        headers: cookieHeader('a2', token),
      });
      expect((refused.json as View).data).toEqual({});
      expect(reports(running.plainB)).toEqual([['cookie', 'ERR_PURPOSE_MISMATCH']]);
    });

    it('a token without a purpose (as h3 seals it) is accepted, and the next write reseals it with the purpose', async () => {
      const { session, headers } = await signedIn('auth');
      const response = await running.auth.server.request('/update?patch={"seen":true}', {
        headers,
      });
      expect((response.json as View).id).toBe(session.id);
      expect(running.auth.rejections).toEqual([]);
      const raw = await unseal(oneCookie(response, 'auth').value, running.auth.config.password);
      expect(raw).toEqual({ ...session, data: { ...SIGNED_IN, seen: true }, purpose: 'auth' });
    });

    it('acceptUnboundTokens: false refuses a token without a purpose with ERR_PURPOSE_MISSING', async () => {
      const { session, headers } = await signedIn('strict');
      const response = await running.strict.server.request('/read', { headers });
      expect(response.status).toBe(200);
      const view = response.json as View;
      expect(view.id).not.toBe(session.id);
      expect(view.data).toEqual({});
      expect(reports(running.strict)).toEqual([['cookie', 'ERR_PURPOSE_MISSING']]);
      // Its own purpose-bound tokens still open.
      const bound = oneCookie(response, 'auth').value;
      const again = await running.strict.server.request('/read', {
        headers: cookieHeader('auth', bound),
      });
      expect((again.json as View).id).toBe(view.id);
    });

    it.each(['main', 'maxAge'] as const)(
      'a session created 100 years from now is refused with ERR_COOKIE_INVALID (%s config)',
      async (name) => {
        const future = aSession({ user: 'time-traveller' }, Date.now() + 100 * 365 * 86_400_000);
        const token = await sealSessionToken(running[name].config.password, future);
        const response = await running[name].server.request('/read', {
          headers: cookieHeader('h3', token),
        });
        expect(response.status).toBe(200);
        const view = response.json as View;
        expect(view.id).not.toBe(future.id);
        expect(view.data).toEqual({});
        expect(reports(running[name])).toEqual([['cookie', 'ERR_COOKIE_INVALID']]);
        const opened = await running[name].server.request('/unseal', {
          headers: { 'x-token': token },
        });
        expect(opened.json).toMatchObject({ ok: false, code: 'ERR_COOKIE_INVALID' });
      },
    );
  });

  describe('session cookie names', () => {
    it('two session cookies in one request: the first is used and ERR_COOKIE_DUPLICATE is reported', async () => {
      const first = aSession({ which: 'first' });
      const second = aSession({ which: 'second' });
      const { password } = running.main.config;
      const response = await running.main.server.request('/read', {
        headers: {
          cookie: `h3=${await sealSessionToken(password, first)}; h3=${await sealSessionToken(password, second)}`,
        },
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual(first);
      expect(reports(running.main)).toEqual([['cookie', 'ERR_COOKIE_DUPLICATE']]);
    });

    it('a __Host-h3 session is written Secure with Path=/ and no Domain and read back, and a __Host- config with a Domain is refused', async () => {
      const response = await running.hostPrefix.server.request('/update?patch={"who":"host"}');
      const attributes = attributeNames(rawCookie(response, '__Host-h3'));
      expect(attributes).toContain('secure');
      expect(attributes).not.toContain('domain');
      const cookie = oneCookie(response, '__Host-h3');
      expect(cookie.path).toBe('/');
      const view = response.json as View;
      const next = await running.hostPrefix.server.request('/read', {
        headers: nextRequestCookies({}, response),
      });
      expect(next.json).toEqual({ id: view.id, createdAt: view.createdAt, data: { who: 'host' } });
      const refused = await badServers.hostDomain.request('/read');
      expect(refused.status).toBe(500);
      expect(refused.setCookies).toEqual([]);
      expect(badServers.hostDomain.errors.map(codeOf)).toEqual(['ERR_CONFIG_INVALID']);
    });
  });

  describe('a token from the session header never writes the cookie', () => {
    async function victimAndAttacker() {
      const victim = aSession({ user: 'victim' });
      const attacker = aSession({ user: 'attacker' });
      const { password } = running.main.config;
      const victimToken = await sealSessionToken(password, victim);
      return {
        victim,
        victimToken,
        attacker,
        headers: {
          ...cookieHeader('h3', victimToken),
          'x-h3-session': await sealSessionToken(password, attacker),
        },
      };
    }

    it("the request runs as the header's session, its update sets no cookie, and the victim's session survives", async () => {
      const { victim, victimToken, attacker, headers } = await victimAndAttacker();
      const response = await running.main.server.request('/header-write', { headers });
      expect(response.status).toBe(200);
      const body = response.json as { seen: Seen; token: string | null };
      expect(body.seen).toEqual({ id: attacker.id, data: { user: 'attacker', via: 'header' } });
      expect(cookiesNamed(response, 'h3')).toEqual([]);
      const next = await running.main.server.request('/read', {
        headers: nextRequestCookies(cookieHeader('h3', victimToken), response),
      });
      expect(next.json).toEqual(victim);
    });

    itWhen(isEventHost)(
      "sealSession returns a token of the header's session holding the update",
      async () => {
        const { attacker, headers } = await victimAndAttacker();
        const response = await running.main.server.request('/header-write', { headers });
        const body = response.json as { token: string | null };
        expect(cookiesNamed(response, 'h3')).toEqual([]);
        expect(await unsealWith('main', body.token!)).toEqual({
          ...attacker,
          data: { user: 'attacker', via: 'header' },
        });
      },
    );

    it('a clear deletes no cookie', async () => {
      const { attacker, headers } = await victimAndAttacker();
      const response = await running.main.server.request('/clear-then-read', { headers });
      expect(response.status).toBe(200);
      expect((response.json as { before: View }).before.id).toBe(attacker.id);
      expect(cookiesNamed(response, 'h3')).toEqual([]);
    });
  });

  describe('configurations that break cookie prefixes or fix a salt or IV are refused', () => {
    const bad = (Object.keys(BAD_CONFIGS) as BadConfigName[]).map((key) => ({
      key,
      ...BAD_CONFIGS[key],
    }));

    it.each(bad)(
      '$label: the first request is a 500 with ERR_CONFIG_INVALID naming the rule, and no cookie',
      async ({ key, rule }) => {
        const server = badServers[key];
        const response = await server.request('/read');
        expect(response.status).toBe(500);
        expect(response.setCookies).toEqual([]);
        expect(server.errors.map(codeOf)).toEqual(['ERR_CONFIG_INVALID']);
        const message = messageOf(server.errors[0]);
        for (const words of rule) expect(message).toContain(words);
      },
    );

    describeWhen(isEventHost)('called directly', () => {
      it.each(bad)(
        '$label: every session function rejects (never throws) with ERR_CONFIG_INVALID naming the rule',
        async ({ key, rule }) => {
          const response = await running.main.server.request(`/config-direct?bad=${key}`);
          expect(response.status).toBe(200);
          const outcomes = response.json as Record<string, CallOutcome>;
          expect(Object.keys(outcomes)).toHaveLength(7);
          for (const [name, outcome] of Object.entries(outcomes)) {
            expect({ name, sync: outcome.sync, code: outcome.code }).toEqual({
              name,
              sync: false,
              code: 'ERR_CONFIG_INVALID',
            });
            for (const words of rule) expect(outcome.message).toContain(words);
          }
        },
      );
    });
  });
});
