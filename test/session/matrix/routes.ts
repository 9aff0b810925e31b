/**
 * The host-neutral routes of the session matrix: each is written once against
 * {@link SessionApi} and served by every host of hosts.ts. Inputs come from the query string
 * (`patch`, `tag`) and request headers (`x-token`).
 */
import {
  clearSession,
  getSession,
  isSessionError,
  regenerateSession,
  sealSession,
  unsealSession,
  updateSession,
  useSession,
  type SessionConfig,
  type SessionDataT,
  type SessionManager,
} from '../../../src/index.js';
import type { Route, Routes, SessionApi } from './hosts.js';

/** What most routes answer: the session as the handler sees it. */
export interface View {
  readonly id?: string;
  readonly createdAt?: number;
  readonly data: SessionDataT;
}

function view(manager: SessionManager): View {
  return {
    ...(manager.id === undefined ? {} : { id: manager.id }),
    ...(manager.createdAt === undefined ? {} : { createdAt: manager.createdAt }),
    data: { ...manager.data },
  };
}

/**
 * A read that does not create anything: getSession on event hosts, the manager's fields on
 * middleware hosts (after clear() the manager reports no id, where getSession starts a
 * fresh, unwritten session; both must differ from the cleared one).
 */
async function read(api: SessionApi): Promise<View> {
  if (api.event === undefined) return view(await api.use());
  const session = await api.get();
  return { id: session.id, createdAt: session.createdAt, data: { ...session.data } };
}

function patchOf(api: SessionApi): SessionDataT {
  const raw = api.url.searchParams.get('patch');
  return raw === null ? {} : (JSON.parse(raw) as SessionDataT);
}

/** The error `code` of a rejection, or a description of what else it was. */
export function codeOf(error: unknown): string {
  if (isSessionError(error)) return error.code;
  // h3 wraps handler errors (H3Error/HTTPError) and keeps the original as `cause`.
  if (typeof error === 'object' && error !== null && 'cause' in error) {
    return codeOf(error.cause);
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Outcomes of work done after the response went out, by tag (see the 'late-update' route). */
const lateOutcomes = new Map<string, (outcome: string) => void>();

/** Registers a tag; the returned promise settles with what the late update did. */
export function expectLate(tag: string, timeoutMs = 5_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no late outcome for ${tag}`));
    }, timeoutMs);
    lateOutcomes.set(tag, (outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

function recordLate(tag: string, outcome: string): void {
  const settle = lateOutcomes.get(tag);
  lateOutcomes.delete(tag);
  settle?.(outcome);
}

/** A configuration with a password under 32 characters: every call must fail with it. */
export const SHORT_PASSWORD_CONFIG: SessionConfig = { password: 'too-short-for-iron' };

interface DirectOutcome {
  /** The function threw synchronously instead of returning a rejected promise. */
  readonly sync: boolean;
  readonly code: string;
}

async function direct(call: () => Promise<unknown>): Promise<DirectOutcome> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return { sync: true, code: codeOf(error) };
  }
  try {
    await promise;
    return { sync: false, code: 'resolved' };
  } catch (error) {
    return { sync: false, code: codeOf(error) };
  }
}

const route = (run: Route['run'], needs?: 'event'): Route =>
  needs === undefined ? { run } : { run, needs };

export const routes: Routes = {
  /** useSession, then the session. */
  '/read': route(async (api) => view(await api.use())),

  /** getSession alone, no useSession: must write nothing for a new session. */
  '/get-only': route(async (api) => {
    const session = await api.get();
    return { id: session.id, createdAt: session.createdAt, data: session.data };
  }, 'event'),

  /** A function update that mutates and returns nothing. */
  '/inc': route(async (api) => {
    const manager = await api.use();
    await api.update((data) => {
      data.count = (typeof data.count === 'number' ? data.count : 0) + 1;
      return undefined;
    });
    return view(manager);
  }),

  /** An object update (shallow merge) from `?patch=<json>`. */
  '/update': route(async (api) => {
    const manager = await api.use();
    await api.update(patchOf(api));
    return view(manager);
  }),

  /** A function update that returns a partial without mutating. */
  '/update-fn-return': route(async (api) => {
    const manager = await api.use();
    await api.update((data) => ({ doubled: Number(data.n) * 2 }));
    return view(manager);
  }),

  /** A function update that mutates and also returns a partial. */
  '/update-fn-both': route(async (api) => {
    const manager = await api.use();
    await api.update((data) => {
      data.touched = true;
      return { n: Number(data.n) + 1 };
    });
    return view(manager);
  }),

  /** Four updates in one request: still exactly one Set-Cookie. */
  '/update-twice': route(async (api) => {
    const manager = await api.use();
    await api.update({ a: 1 });
    await api.update({ b: 2 });
    await api.update((data) => {
      data.c = 3;
      return undefined;
    });
    await api.update(() => ({ d: 4 }));
    return view(manager);
  }),

  /** Updates started together: one Set-Cookie, every patch applied. */
  '/update-parallel': route(async (api) => {
    const manager = await api.use();
    await Promise.all([api.update({ p1: 1 }), api.update({ p2: 2 }), api.update({ p3: 3 })]);
    return view(manager);
  }),

  '/clear-then-read': route(async (api) => {
    const before = view(await api.use());
    await api.clear();
    const after = await read(api);
    return { before, after };
  }),

  '/clear-then-update': route(async (api) => {
    const before = view(await api.use());
    await api.clear();
    await api.update(patchOf(api));
    const after = await read(api);
    return { before, after };
  }),

  /** The manager's own view through clear() and a later update(). */
  '/manager-clear': route(async (api) => {
    const manager = await api.use();
    const before = view(manager);
    await manager.clear();
    const cleared = { id: manager.id ?? null, data: { ...manager.data } };
    await manager.update({ afterClear: true });
    return { before, cleared, after: view(manager) };
  }),

  /** Five getSession calls at once: one unseal, one object. */
  '/concurrent': route(async (api) => {
    const sessions = await Promise.all([api.get(), api.get(), api.get(), api.get(), api.get()]);
    const first = sessions[0];
    return {
      same: sessions.every((session) => session === first),
      ids: sessions.map((session) => session.id),
    };
  }, 'event'),

  /** useSession and getSession at once: one session. */
  '/concurrent-mixed': route(async (api) => {
    const [a, b, c, d] = await Promise.all([api.use(), api.get(), api.use(), api.get()]);
    return { ids: [a.id, b.id, c.id, d.id], sameObject: b === d };
  }, 'event'),

  '/regenerate': route(async (api) => {
    const manager = await api.use();
    const before = view(manager);
    await api.regenerate();
    return { before, after: view(manager) };
  }),

  /** regenerate then update: one Set-Cookie, under the new id. */
  '/regenerate-update': route(async (api) => {
    const manager = await api.use();
    const before = view(manager);
    await api.regenerate();
    await api.update({ afterRegenerate: true });
    return { before, after: view(manager) };
  }),

  '/seal': route(async (api) => {
    const session = await api.get();
    const token = await api.seal();
    return { token, type: typeof token, id: session.id };
  }, 'event'),

  /** unsealSession of the `x-token` header; the outcome, or the error's name and code. */
  '/unseal': route(async (api) => {
    const token = api.header('x-token') ?? '';
    try {
      const session = await unsealSession(api.event, api.config, token);
      return { ok: true, session };
    } catch (error) {
      return {
        ok: false,
        isSessionError: isSessionError(error),
        name: error instanceof Error ? error.name : typeof error,
        code: codeOf(error),
      };
    }
  }),

  /**
   * An update after the response went out: must be a rejection with ERR_HEADERS_SENT that
   * the handler catches, never an unhandled error. The outcome goes to expectLate(tag).
   */
  '/late-update': route(async (api) => {
    const tag = api.url.searchParams.get('tag') ?? '';
    await api.use();
    await api.afterResponse(async () => {
      try {
        await api.update({ late: true });
        recordLate(tag, 'resolved');
      } catch (error) {
        recordLate(tag, codeOf(error));
      }
    });
    return { scheduled: true };
  }),

  /** Every function called with a password under 32 characters, one outcome each. */
  '/short-direct': route(async (api) => {
    const event = api.event!;
    const config = SHORT_PASSWORD_CONFIG;
    return {
      useSession: await direct(() => useSession(event, config)),
      getSession: await direct(() => getSession(event, config)),
      updateSession: await direct(() => updateSession(event, config, { a: 1 })),
      clearSession: await direct(() => clearSession(event, config)),
      regenerateSession: await direct(() => regenerateSession(event, config)),
      sealSession: await direct(() => sealSession(event, config)),
      unsealSession: await direct(() => unsealSession(event, config, 'Fe26.2**x*y*z**a*b')),
    };
  }, 'event'),
};

/**
 * Handler return values, for the hosts whose adapter converts them itself (node, fetch).
 * Each first creates a session, so its cookie must be on the response too.
 */
export const returnRoutes: Routes = {
  '/ret-string': route(async (api) => {
    await api.use();
    return '<p>hello</p>';
  }),
  '/ret-object': route(async (api) => {
    await api.use();
    return { hello: 'world' };
  }),
  '/ret-response': route(async (api) => {
    await api.use();
    return new Response('made by hand', {
      status: 201,
      headers: { 'content-type': 'text/plain', 'x-own': 'kept', 'set-cookie': 'own=1; Path=/' },
    });
  }),
  '/ret-bytes': route(async (api) => {
    await api.use();
    return new Uint8Array([0, 1, 2, 250]);
  }),
  '/ret-undefined': route(async (api) => {
    await api.use();
    return undefined;
  }),
};
