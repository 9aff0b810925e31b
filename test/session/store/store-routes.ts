/**
 * The host-neutral routes of the store-mode suites, written once against the matrix's
 * {@link SessionApi} and served by every host, plus what the suites drive them with: a
 * cookie jar per simulated browser, a reader of the sealed reference a cookie holds, and
 * gates that hold a request after it loaded its session until the test lets it go (so a
 * race is arranged, never hoped for). Inputs come from the query string: `patch` (JSON to
 * merge), `user`, `key`, `value`, `gate`, `except`.
 */
import { randomUUID } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { unseal } from '../../../src/iron/index.js';
import {
  revokeSession,
  revokeUserSessions,
  type SessionConfig,
  type SessionDataT,
  type SessionManager,
} from '../../../src/index.js';
import type { HostResponse, Route, Routes, SessionApi } from '../matrix/hosts.js';
import { codeOf } from '../matrix/routes.js';

export { codeOf };

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

function patchOf(api: SessionApi): SessionDataT {
  const raw = api.url.searchParams.get('patch');
  return raw === null ? {} : (JSON.parse(raw) as SessionDataT);
}

function param(api: SessionApi, name: string): string {
  const value = api.url.searchParams.get(name);
  if (value === null) throw new Error(`missing query parameter ${name}`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Gates: a request waits at one after it loaded its session, until the test opens it.

const GATE_WAIT_MS = 10_000;

/** A barrier requests arrive at; the test waits for the arrivals, then opens it. */
export class Gate {
  readonly key: string = randomUUID();
  #arrived = 0;
  #watchers: { count: number; resolve: () => void }[] = [];
  #open!: () => void;
  readonly #opened: Promise<void>;

  constructor() {
    this.#opened = new Promise<void>((resolve) => {
      this.#open = resolve;
    });
  }

  /** A request is here; resolves once the gate is opened (rejects after 10 s). */
  arrive(): Promise<void> {
    this.#arrived++;
    for (const watcher of this.#watchers) if (this.#arrived >= watcher.count) watcher.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the gate was never opened'));
      }, GATE_WAIT_MS);
      void this.#opened.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Resolves once `count` requests arrived (rejects after `timeoutMs`). */
  arrivals(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.#arrived >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.#arrived} of ${count} requests reached the gate`));
      }, timeoutMs);
      this.#watchers.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  open(): void {
    this.#open();
    gates.delete(this.key);
  }
}

const gates = new Map<string, Gate>();

/** A new gate, for the `gate` query parameter of the slow routes. */
export function newGate(): Gate {
  const gate = new Gate();
  gates.set(gate.key, gate);
  return gate;
}

async function waitAtGate(api: SessionApi): Promise<void> {
  const gate = gates.get(param(api, 'gate'));
  if (gate === undefined) throw new Error('no such gate');
  await gate.arrive();
}

// ---------------------------------------------------------------------------------------
// Routes.

const route = (run: Route['run'], needs?: 'event'): Route =>
  needs === undefined ? { run } : { run, needs };

/** The user a session belongs to in these suites: `userKey: (data) => data.userId`. */
export const userKey = (data: SessionDataT): unknown => data.userId;

export const storeRoutes: Routes = {
  /** useSession, then the session. */
  '/read': route(async (api) => view(await api.use())),

  /** getSession alone: reads, never writes a new session. */
  '/get-only': route(async (api) => {
    const session = await api.get();
    return { id: session.id, createdAt: session.createdAt, data: session.data };
  }, 'event'),

  /** An object update from `?patch=<json>`. */
  '/update': route(async (api) => {
    const manager = await api.use();
    await api.update(patchOf(api));
    return view(manager);
  }),

  /** Deletes data key `?key=` (a function update). */
  '/unset': route(async (api) => {
    const manager = await api.use();
    const key = param(api, 'key');
    await api.update((data) => {
      Reflect.deleteProperty(data, key);
      return undefined;
    });
    return view(manager);
  }),

  /** Sign-in by update: `userId` becomes `?user=`. */
  '/sign-in': route(async (api) => {
    const manager = await api.use();
    await api.update({ userId: param(api, 'user') });
    return view(manager);
  }),

  /** Sign-out by update: `userId` goes, the rest of the data stays. */
  '/sign-out': route(async (api) => {
    const manager = await api.use();
    await api.update({ userId: undefined });
    return view(manager);
  }),

  /** clear(). */
  '/logout': route(async (api) => {
    await api.clear();
    return { cleared: true };
  }),

  /** regenerate(), then the session under its new id. */
  '/regenerate': route(async (api) => {
    const manager = await api.use();
    await api.regenerate();
    return view(manager);
  }),

  /** "Sign out everywhere" (`?except=1`: everywhere else) for the session's user. */
  '/revoke-everywhere': route(async (api) => {
    const manager = await api.use();
    const user = manager.data.userId as string;
    const options =
      api.url.searchParams.get('except') === null || manager.id === undefined
        ? undefined
        : { except: manager.id };
    const revoked = await revokeUserSessions(api.config, user, options);
    return { revoked, id: manager.id };
  }),

  /** Revokes its own session, then updates it: the update must be refused. */
  '/revoke-self-then-update': route(async (api) => {
    const manager = await api.use();
    await revokeSession(api.config, manager.id!);
    try {
      await api.update({ late: true });
      return { code: 'resolved' };
    } catch (error) {
      return { code: codeOf(error) };
    }
  }),

  /** Updates with `?patch=`, then seals the session (event hosts). */
  '/seal': route(async (api) => {
    const manager = await api.use();
    await api.update(patchOf(api));
    return { id: manager.id, createdAt: manager.createdAt, token: await api.seal() };
  }, 'event'),

  /** A flash message `?value=` under key `msg`. */
  '/flash-set': route(async (api) => {
    const manager = await api.use();
    await manager.flash('msg', param(api, 'value'));
    return view(manager);
  }),

  /** Takes flash `msg`: `{ value }`, or `{}` when none was there. */
  '/flash-take': route(async (api) => {
    const manager = await api.use();
    return { value: (await manager.takeFlash('msg')) as unknown };
  }),

  /** Loads the session, waits at `?gate=`, then updates with `?patch=` (errors propagate). */
  '/slow-update': route(async (api) => {
    const manager = await api.use();
    await waitAtGate(api);
    await api.update(patchOf(api));
    return view(manager);
  }),

  /** Loads the session, waits at `?gate=`, then signs in as `?user=` (errors propagate). */
  '/slow-sign-in': route(async (api) => {
    const manager = await api.use();
    await waitAtGate(api);
    await api.update({ userId: param(api, 'user') });
    return view(manager);
  }),

  /** Loads the session, waits at `?gate=`, then signs out by update (errors propagate). */
  '/slow-sign-out': route(async (api) => {
    const manager = await api.use();
    await waitAtGate(api);
    await api.update({ userId: undefined });
    return view(manager);
  }),

  /** Loads the session, waits at `?gate=`, then regenerates it (errors propagate). */
  '/slow-regenerate': route(async (api) => {
    const manager = await api.use();
    await waitAtGate(api);
    await api.regenerate();
    return view(manager);
  }),

  /** Loads the session (its flash with it), waits at `?gate=`, then takes flash `msg`. */
  '/slow-take': route(async (api) => {
    const manager = await api.use();
    await waitAtGate(api);
    return { value: (await manager.takeFlash('msg')) as unknown };
  }),
};

/** The routes a host serves: middleware hosts get those that need no event. */
export function routesFor(kind: 'event' | 'manager'): Routes {
  if (kind === 'event') return storeRoutes;
  return Object.fromEntries(
    Object.entries(storeRoutes).filter(([, entry]) => entry.needs !== 'event'),
  );
}

// ---------------------------------------------------------------------------------------
// Cookies.

/** The parsed Set-Cookie headers of the response for cookie `name`. */
export function setCookiesFor(
  response: HostResponse,
  name = 'h3',
): ReturnType<typeof parseSetCookie>[] {
  return response.setCookies.map((header) => parseSetCookie(header)).filter((c) => c.name === name);
}

/** A Set-Cookie that deletes its cookie. */
export function isDeletion(cookie: ReturnType<typeof parseSetCookie>): boolean {
  return (
    cookie.maxAge === 0 ||
    (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) ||
    cookie.value === ''
  );
}

/** One browser: keeps the session cookie the responses set, sends it with each request. */
export class Browser {
  token: string | undefined;
  readonly name: string;

  constructor(name = 'h3', token?: string) {
    this.name = name;
    this.token = token;
  }

  /** The request headers: the cookie, when the browser has one. */
  headers(): Record<string, string> {
    return this.token === undefined ? {} : { cookie: `${this.name}=${this.token}` };
  }

  /** Applies the response's Set-Cookie for the session cookie; gives how many there were. */
  take(response: HostResponse): number {
    const cookies = setCookiesFor(response, this.name);
    for (const cookie of cookies) this.token = isDeletion(cookie) ? undefined : cookie.value;
    return cookies.length;
  }

  /** A second browser with a copy of this one's cookie (another tab, or a stolen copy). */
  copy(): Browser {
    return new Browser(this.name, this.token);
  }
}

/** What a store-mode cookie holds, opened with the config's password. */
export interface Reference {
  readonly ref?: unknown;
  readonly id?: unknown;
  readonly createdAt?: unknown;
  readonly lastSeenAt?: unknown;
  readonly stored?: unknown;
  readonly data?: unknown;
  readonly purpose?: unknown;
}

/** Opens a session token with `config`'s password, whatever it holds. */
export async function referenceOf(config: SessionConfig, token: string): Promise<Reference> {
  return (await unseal(token, config.password)) as Reference;
}
