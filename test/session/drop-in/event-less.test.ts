/**
 * Session calls without an event, as vinxi writes them (`useSession(config)`), over real
 * HTTP: inside handlers run by sealed-session's node and fetch adapters and under its
 * Express and Hono middleware, with `asyncContext: true`, they find the request (after
 * awaits, timers and a body parser too) and share its state with the event form and the
 * middleware's manager. Without `asyncContext` (the default), and on h3 1.x and 2.x alone,
 * there is no such scope and they reject with ERR_EVENT_MISSING; vinxi's `$HTTPEvent`
 * wrappers of an event are accepted as the event. Outside any request every event-less
 * call rejects, never throws, with a message saying what to do.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
import { secret, sealSessionToken } from '../matrix/helpers.js';
import {
  codeOf,
  cookieHeader,
  hostSession,
  itWhen,
  onlyCookie,
  outcomeOf,
  pause,
  recorded,
  rejectionCodes,
  type Outcome,
  type Recorded,
} from './fixtures.js';
import { hosts, type DropInServer, type Route, type Routes } from './hosts.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What every event-less function does when called the vinxi way with `config`. */
function everyEventLessCall(config: SessionConfig): Record<string, () => Promise<unknown>> {
  return {
    useSession: () => useSession(config),
    getSession: () => getSession(config),
    updateSession: () => updateSession(config, { touched: true }),
    clearSession: () => clearSession(config),
    regenerateSession: () => regenerateSession(config),
    sealSession: () => sealSession(config),
    setFlash: () => setFlash(config, 'notice', 'saved'),
    takeFlash: () => takeFlash(config, 'notice'),
  };
}

async function outcomesOf(
  calls: Record<string, () => Promise<unknown>>,
): Promise<Record<string, Outcome<unknown>>> {
  const outcomes: Record<string, Outcome<unknown>> = {};
  for (const [name, call] of Object.entries(calls)) outcomes[name] = await outcomeOf(call);
  return outcomes;
}

/** Outcomes of writes started after the response went out, by the tag the test chose. */
const lateOutcomes = new Map<string, string>();

async function lateOutcome(tag: string): Promise<string> {
  for (let waited = 0; waited < 3_000; waited += 10) {
    const outcome = lateOutcomes.get(tag);
    if (outcome !== undefined) return outcome;
    await pause(10);
  }
  throw new Error(`no outcome for ${tag}`);
}

function routesFor(primary: SessionConfig, second: SessionConfig): Routes {
  const share: Route = async (exchange) => {
    const viaScope = await useSession(primary);
    await updateSession(primary, { a: 1 });
    const viaHost = await hostSession(exchange, primary);
    await viaHost.update({ b: 2 });
    const read = await getSession(primary);
    return {
      ids: [viaScope.id, viaHost.id, read.id],
      scopeData: { ...viaScope.data },
      hostData: { ...viaHost.data },
      readData: { ...read.data },
    };
  };

  const afterAwaits: Route = async () => {
    const ids: (string | undefined)[] = [(await getSession(primary)).id];
    await pause(5);
    ids.push((await getSession(primary)).id);
    await new Promise((resolve) => setImmediate(resolve));
    ids.push((await useSession(primary)).id);
    await new Promise<void>((resolve) => {
      queueMicrotask(resolve);
    });
    // Started from callbacks of a timer and of process.nextTick, not from the awaited chain.
    await new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        updateSession(primary, { fromTimer: true }).then(() => {
          resolve();
        }, reject);
      }, 1);
    });
    await new Promise<void>((resolve, reject) => {
      process.nextTick(() => {
        setFlash(primary, 'notice', 'from nextTick').then(resolve, reject);
      });
    });
    const [read, used] = await Promise.all([getSession(primary), useSession(primary)]);
    ids.push(read.id, used.id);
    return { ids, data: { ...read.data }, flash: await takeFlash(primary, 'notice') };
  };

  const secondName: Route = async (exchange) => {
    await updateSession(second, { who: 'second' });
    await updateSession(primary, { who: 'first' });
    const scoped = await getSession(second);
    const viaEvent =
      exchange.event === undefined ? undefined : await getSession(exchange.event, second);
    return {
      secondId: scoped.id,
      eventSecondId: viaEvent?.id ?? null,
      second: { ...scoped.data },
      first: { ...(await getSession(primary)).data },
    };
  };

  const everyFunction: Route = async (exchange) => {
    const used = await useSession(primary);
    const firstId = used.id;
    await updateSession(primary, { step: 'updated' });
    // The manager is live: it shows the update made without it.
    const managerAfterUpdate = { id: used.id, data: { ...used.data } };
    const sealed = await sealSession(primary);
    const opened = await unsealSession(primary, sealed);
    await setFlash(primary, 'notice', 'saved');
    const flash = await takeFlash(primary, 'notice');
    const flashAgain = await takeFlash(primary, 'notice');
    await regenerateSession(primary);
    const regenerated = await getSession(primary);
    await clearSession(primary);
    const afterClear = await getSession(primary);
    const hostAfterClear =
      exchange.event === undefined ? exchange.manager : await getSession(exchange.event, primary);
    return {
      firstId,
      managerAfterUpdate,
      opened: { id: opened.id, data: opened.data },
      flash,
      flashAgain: flashAgain ?? null,
      regenerated: { id: regenerated.id, data: { ...regenerated.data } },
      afterClear: { id: afterClear.id, data: { ...afterClear.data } },
      hostAfterClear: { id: hostAfterClear?.id ?? null, data: { ...hostAfterClear?.data } },
    };
  };

  const outside: Route = async () => outcomesOf(everyEventLessCall(primary));

  const wrapped: Route = async (exchange) => {
    const event = exchange.event!;
    // vinxi hands out objects carrying the h3 event under a symbol it does not register.
    const wrapper = { [Symbol('$HTTPEvent')]: event } as unknown as AnyHTTPEvent;
    const viaWrapper = await useSession(wrapper, primary);
    await updateSession(wrapper, primary, { via: 'wrapper' });
    const viaEvent = await getSession(event, primary);
    await setFlash(wrapper, primary, 'notice', 'through the wrapper');
    const flash = await takeFlash(event, primary, 'notice');
    const sealed = await sealSession(wrapper, primary);
    const opened = await unsealSession(wrapper, primary, sealed);
    return {
      wrapperId: viaWrapper.id,
      eventId: viaEvent.id,
      eventData: { ...viaEvent.data },
      wrapperData: { ...viaWrapper.data },
      flash,
      sealed: { id: opened.id, data: opened.data },
    };
  };

  const whoAmI: Route = async () => {
    // Random pauses interleave the requests between every step.
    const jitter = () => pause(Math.floor(Math.random() * 8));
    await jitter();
    const first = await getSession(primary);
    await jitter();
    await updateSession(primary, (data) => ({ visits: Number(data.visits ?? 0) + 1 }));
    await jitter();
    const again = await useSession(primary);
    return {
      firstId: first.id,
      firstUser: (first.data.user as unknown) ?? null,
      againId: again.id,
      againUser: (again.data.user as unknown) ?? null,
      visits: again.data.visits as unknown,
    };
  };

  const late: Route = (exchange) => {
    const tag = exchange.url.searchParams.get('tag')!;
    setTimeout(() => {
      updateSession(primary, { late: true }).then(
        () => lateOutcomes.set(tag, 'written'),
        (error: unknown) => lateOutcomes.set(tag, codeOf(error)),
      );
    }, 30);
    return Promise.resolve({ scheduled: tag });
  };

  const posted: Route = async (exchange) => {
    const { user } = JSON.parse(exchange.body) as { user: string };
    await updateSession(primary, { user });
    const read = await getSession(primary);
    return { id: read.id, data: { ...read.data } };
  };

  return {
    '/share': share,
    '/after-awaits': afterAwaits,
    '/second-name': secondName,
    '/every-function': everyFunction,
    '/outside': outside,
    '/wrapped': wrapped,
    '/who-am-i': whoAmI,
    '/late': late,
    '/post': posted,
  };
}

describe('event-less calls outside any request', () => {
  const config: SessionConfig = { password: secret() };

  it('every event-less function returns a promise that rejects with ERR_EVENT_MISSING, whose message says to pass the event or run inside a request scope', async () => {
    const outcomes = await outcomesOf(everyEventLessCall(config));
    expect(Object.keys(outcomes)).toHaveLength(8);
    for (const [name, outcome] of Object.entries(outcomes)) {
      expect(outcome, name).toMatchObject({ ok: false, code: 'ERR_EVENT_MISSING', threw: false });
      if (!outcome.ok) {
        expect(outcome.message).toMatch(/pass the event/);
        expect(outcome.message).toMatch(/asyncContext: true/);
      }
    }
  });

  it('unsealSession(config, token) needs no request: it opens a token outside one too', async () => {
    const token = await sealSessionToken(config.password, {
      id: 'outside',
      createdAt: Date.now(),
      data: { user: 'ada' },
    });
    await expect(unsealSession(config, token)).resolves.toMatchObject({
      id: 'outside',
      data: { user: 'ada' },
    });
  });
});

describe.each(hosts)('event-less calls on $name', (host) => {
  let primary: Recorded;
  let second: SessionConfig;
  let server: DropInServer;
  /** The same app with the library's default, asyncContext off. */
  let withoutScope: DropInServer;

  beforeAll(async () => {
    primary = recorded({ password: secret() });
    second = { password: secret(), name: 'second' };
    const routes = routesFor(primary.config, second);
    [server, withoutScope] = await Promise.all([
      host.start(primary.config, routes),
      host.start(primary.config, routes, { asyncContext: false }),
    ]);
  });

  afterAll(() => Promise.all([server.close(), withoutScope.close()]));

  beforeEach(() => {
    primary.rejections.length = 0;
  });

  /** A valid cookie of the primary configuration for a session with `data`. */
  const cookieFor = async (id: string, data: Record<string, unknown>) =>
    cookieHeader({
      h3: await sealSessionToken(primary.config.password, { id, createdAt: Date.now(), data }),
    });

  const itScoped = itWhen(host.scoped);
  const itUnscoped = itWhen(!host.scoped);
  const itWithEvent = itWhen(host.kind === 'event');

  itScoped(
    'useSession(config), updateSession(config) and getSession(config) share one session with the host’s own form (event or middleware manager)',
    async () => {
      const response = await server.request('/share');
      expect(response.status).toBe(200);
      const body = response.json as {
        ids: string[];
        scopeData: object;
        hostData: object;
        readData: object;
      };
      expect(new Set(body.ids).size).toBe(1);
      expect(body.ids[0]).toMatch(UUID);
      for (const data of [body.scopeData, body.hostData, body.readData]) {
        expect(data).toEqual({ a: 1, b: 2 });
      }
      // One cookie for the session, however many forms wrote it.
      const opened = await unsealSession(primary.config, onlyCookie(response, 'h3').value);
      expect(opened).toMatchObject({ id: body.ids[0], data: { a: 1, b: 2 } });
    },
  );

  itScoped(
    'the request is still found after awaits, setImmediate, a microtask, and from timer and nextTick callbacks',
    async () => {
      const response = await server.request('/after-awaits');
      expect(response.status).toBe(200);
      const body = response.json as { ids: string[]; data: object; flash: string };
      expect(body.ids).toHaveLength(5);
      expect(new Set(body.ids).size).toBe(1);
      expect(body.data).toEqual({ fromTimer: true });
      expect(body.flash).toBe('from nextTick');
      const opened = await unsealSession(primary.config, onlyCookie(response, 'h3').value);
      expect(opened).toMatchObject({ id: body.ids[0], data: { fromTimer: true } });
    },
  );

  itScoped(
    'a second config name is a second session of the same request: its own cookie and data',
    async () => {
      const response = await server.request('/second-name');
      expect(response.status).toBe(200);
      const body = response.json as {
        secondId: string;
        eventSecondId: string | null;
        second: object;
        first: object;
      };
      expect(body.second).toEqual({ who: 'second' });
      expect(body.first).toEqual({ who: 'first' });
      if (host.kind === 'event') expect(body.eventSecondId).toBe(body.secondId);
      const secondToken = onlyCookie(response, 'second').value;
      expect(await unsealSession(second, secondToken)).toMatchObject({
        id: body.secondId,
        data: { who: 'second' },
      });
      const firstToken = onlyCookie(response, 'h3').value;
      expect((await unsealSession(primary.config, firstToken)).data).toEqual({ who: 'first' });
    },
  );

  itScoped(
    'every function works without the event: use, update, seal, unseal, setFlash, takeFlash, regenerate, clear',
    async () => {
      const response = await server.request('/every-function');
      expect(response.status).toBe(200);
      const body = response.json as {
        firstId: string;
        managerAfterUpdate: { id: string; data: object };
        opened: { id: string; data: object };
        flash: string;
        flashAgain: null;
        regenerated: { id: string; data: object };
        afterClear: { id: string; data: object };
        hostAfterClear: { id: string | null; data: object };
      };
      expect(body.firstId).toMatch(UUID);
      expect(body.managerAfterUpdate).toEqual({ id: body.firstId, data: { step: 'updated' } });
      expect(body.opened).toEqual({ id: body.firstId, data: { step: 'updated' } });
      expect(body.flash).toBe('saved');
      expect(body.flashAgain).toBeNull();
      expect(body.regenerated.id).not.toBe(body.firstId);
      expect(body.regenerated.data).toEqual({ step: 'updated' });
      expect(body.afterClear.id).not.toBe(body.regenerated.id);
      expect(body.afterClear.data).toEqual({});
      // The host's own form sees the clear too: a fresh session (getSession), or the
      // middleware's manager with no session left.
      expect(body.hostAfterClear.data).toEqual({});
      expect(body.hostAfterClear.id).not.toBe(body.regenerated.id);
      // The response ends with the deletion only: nothing written before the clear lands.
      const cookie = onlyCookie(response, 'h3');
      expect(cookie.value).toBe('');
      expect(cookie.maxAge).toBe(0);
    },
  );

  itScoped('concurrent requests never see each other’s session in event-less calls', async () => {
    const users = Array.from({ length: 20 }, (_, index) => ({
      id: randomUUID(),
      user: `user-${index}`,
      visits: index,
    }));
    const signedIn = users.map(async (user) => {
      const headers = await cookieFor(user.id, { user: user.user, visits: user.visits });
      return { user, response: await server.request('/who-am-i', { headers }) };
    });
    const anonymous = Array.from({ length: 10 }, () => server.request('/who-am-i'));
    const [known, fresh] = await Promise.all([Promise.all(signedIn), Promise.all(anonymous)]);

    for (const { user, response } of known) {
      expect(response.json).toEqual({
        firstId: user.id,
        firstUser: user.user,
        againId: user.id,
        againUser: user.user,
        visits: user.visits + 1,
      });
      const opened = await unsealSession(primary.config, onlyCookie(response, 'h3').value);
      expect(opened).toMatchObject({
        id: user.id,
        data: { user: user.user, visits: user.visits + 1 },
      });
    }
    const freshIds = new Set<string>();
    for (const response of fresh) {
      const body = response.json as { firstId: string; againId: string; firstUser: null };
      expect(body.firstUser).toBeNull();
      expect(body.againId).toBe(body.firstId);
      freshIds.add(body.firstId);
      const opened = await unsealSession(primary.config, onlyCookie(response, 'h3').value);
      expect(opened).toMatchObject({ id: body.firstId, data: { visits: 1 } });
    }
    expect(freshIds.size).toBe(10);
    expect(primary.rejections).toEqual([]);
  });

  itScoped(
    'an event-less write from a timer that outlives the response finds its request and rejects ERR_HEADERS_SENT (never lost, never another request’s)',
    async () => {
      const tag = `${host.name}-${randomUUID()}`;
      const response = await server.request(`/late?tag=${tag}`);
      expect(response.status).toBe(200);
      expect(await lateOutcome(tag)).toBe('ERR_HEADERS_SENT');
    },
  );

  itScoped('event-less calls find the request after the request body was read', async () => {
    const response = await server.request('/post', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ada' }),
    });
    expect(response.status).toBe(200);
    const body = response.json as { id: string; data: object };
    expect(body.data).toEqual({ user: 'ada' });
    expect(await unsealSession(primary.config, onlyCookie(response, 'h3').value)).toMatchObject({
      id: body.id,
      data: { user: 'ada' },
    });
  });

  itScoped(
    'with asyncContext off (the default) there is no request scope: every event-less call rejects ERR_EVENT_MISSING, saying to turn asyncContext on',
    async () => {
      const response = await withoutScope.request('/outside');
      expect(response.status).toBe(200);
      const outcomes = response.json as Record<string, Outcome<unknown>>;
      expect(Object.keys(outcomes)).toHaveLength(8);
      for (const [name, outcome] of Object.entries(outcomes)) {
        expect(outcome, name).toMatchObject({
          ok: false,
          code: 'ERR_EVENT_MISSING',
          threw: false,
          message: expect.stringMatching(/asyncContext: true/) as unknown,
        });
      }
    },
  );

  itUnscoped(
    'h3 alone (no Nitro or vinxi async context) gives no request scope: every event-less call rejects ERR_EVENT_MISSING and writes nothing',
    async () => {
      const response = await server.request('/outside');
      expect(response.status).toBe(200);
      const outcomes = response.json as Record<string, Outcome<unknown>>;
      expect(Object.keys(outcomes)).toHaveLength(8);
      for (const [name, outcome] of Object.entries(outcomes)) {
        expect(outcome, name).toMatchObject({
          ok: false,
          code: 'ERR_EVENT_MISSING',
          threw: false,
        });
      }
      expect(response.setCookies).toEqual([]);
    },
  );

  itWithEvent(
    'an object carrying the event under an unregistered Symbol("$HTTPEvent") is accepted as the event and shares its session',
    async () => {
      const response = await server.request('/wrapped', {
        headers: await cookieFor('wrapped-session', { user: 'ada' }),
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        wrapperId: 'wrapped-session',
        eventId: 'wrapped-session',
        eventData: { user: 'ada', via: 'wrapper' },
        wrapperData: { user: 'ada', via: 'wrapper' },
        flash: 'through the wrapper',
        sealed: { id: 'wrapped-session', data: { user: 'ada', via: 'wrapper' } },
      });
      expect(rejectionCodes(primary.rejections)).toEqual([]);
      const opened = await unsealSession(primary.config, onlyCookie(response, 'h3').value);
      expect(opened).toMatchObject({
        id: 'wrapped-session',
        data: { user: 'ada', via: 'wrapper' },
      });
    },
  );
});
