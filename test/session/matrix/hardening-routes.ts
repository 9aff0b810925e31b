/**
 * Routes and fixtures of the session hardening suite (hardening.test.ts): host-neutral
 * routes, written once against {@link SessionApi} like those of routes.ts, that drive the
 * write ordering, staging, un-awaited failures and session-header rules over real HTTP, and
 * the configurations every session function must refuse.
 *
 * Inputs come from the query string. Values JSON cannot carry (a bigint) are made here, on
 * the server, from a query flag.
 */
import {
  clearSession,
  getSession,
  regenerateSession,
  sealSession,
  unsealSession,
  updateSession,
  useSession,
  isSessionError,
  type SessionConfig,
  type SessionDataT,
  type SessionManager,
  type SessionUpdate,
} from '../../../src/index.js';
import type { Route, Routes, SessionApi } from './hosts.js';
import { secret } from './helpers.js';
import { codeOf } from './routes.js';

/** The session as a handler sees it; `id` is absent when the manager has none (cleared). */
export interface Seen {
  readonly id?: string;
  readonly data: SessionDataT;
}

/**
 * JSON-safe copy: a bigint would make the host fail to serialize the response, and a case
 * must report what the handler saw, not a 500 (a bigint shows as "<n>n").
 */
function safe<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, entry: unknown) =>
      typeof entry === 'bigint' ? `${entry.toString()}n` : entry,
    ),
  ) as T;
}

function seen(manager: SessionManager): Seen {
  return safe({
    ...(manager.id === undefined ? {} : { id: manager.id }),
    data: manager.data,
  });
}

/** About 40 KB: the sealed token passes the 32 KB a session may take, even in chunks. */
const LARGE_VALUE = 'x'.repeat(40_000);

export type Failure = 'data' | 'large';
export type UpdateForm = 'object' | 'fn';

/**
 * An update that changes `user` (and, for a function, a nested value) and fails when
 * written: 'data' holds a bigint (ERR_DATA_INVALID), 'large' about 5 KB (ERR_COOKIE_TOO_LARGE).
 * The session it runs on holds `{ user, profile: { theme } }`.
 */
function failingUpdate(failure: Failure, form: UpdateForm): SessionUpdate {
  const bad: unknown = failure === 'data' ? 10n : LARGE_VALUE;
  if (form === 'object') return { user: 'mallory', bad };
  return (data) => {
    data.user = 'mallory';
    (data.profile as Record<string, unknown>).theme = bad;
    return undefined;
  };
}

/** Outcomes of work done after the response went out, by tag. */
const outcomes = new Map<string, (outcome: unknown) => void>();

/** Registers `tag`; settles with what the route's after-response task reported. */
export function expectOutcome(tag: string, timeoutMs = 5_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no outcome for ${tag}`));
    }, timeoutMs);
    outcomes.set(tag, (outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

function settle(tag: string, outcome: unknown): void {
  const resolve = outcomes.get(tag);
  outcomes.delete(tag);
  resolve?.(outcome);
}

/** A configuration every session function must refuse, and words its message must hold. */
export interface BadConfig {
  readonly label: string;
  readonly config: SessionConfig;
  readonly rule: readonly string[];
}

const BAD_PASSWORD = secret();

/**
 * Cookie prefixes browsers enforce (a cookie breaking them is dropped), and seal options
 * that make every token share a salt or IV.
 */
export const BAD_CONFIGS = {
  hostDomain: {
    label: 'a __Host- name with a domain',
    config: { password: BAD_PASSWORD, name: '__Host-h3', cookie: { domain: 'example.test' } },
    rule: ['__Host-', 'cookie.domain'],
  },
  hostPath: {
    label: 'a __Host- name with a path other than /',
    config: { password: BAD_PASSWORD, name: '__Host-h3', cookie: { path: '/app' } },
    rule: ['__Host-', 'cookie.path'],
  },
  hostInsecure: {
    label: 'a __Host- name with secure: false',
    config: { password: BAD_PASSWORD, name: '__Host-h3', cookie: { secure: false } },
    rule: ['__Host-', 'cookie.secure'],
  },
  secureInsecure: {
    label: 'a __Secure- name with secure: false',
    config: { password: BAD_PASSWORD, name: '__Secure-h3', cookie: { secure: false } },
    rule: ['__Secure-', 'cookie.secure'],
  },
  encryptionIv: {
    label: 'a fixed encryption IV',
    config: { password: BAD_PASSWORD, seal: { encryption: { iv: new Uint8Array(16).fill(7) } } },
    rule: ['seal.encryption.iv'],
  },
  encryptionSalt: {
    label: 'a fixed encryption salt',
    config: { password: BAD_PASSWORD, seal: { encryption: { salt: 'ab'.repeat(16) } } },
    rule: ['seal.encryption.salt'],
  },
  integritySalt: {
    label: 'a fixed integrity salt',
    config: { password: BAD_PASSWORD, seal: { integrity: { salt: 'cd'.repeat(16) } } },
    rule: ['seal.integrity.salt'],
  },
} as const satisfies Record<string, BadConfig>;

export type BadConfigName = keyof typeof BAD_CONFIGS;

/** The message of the SessionError in `error`'s cause chain (h3 wraps handler errors). */
export function messageOf(error: unknown): string {
  if (isSessionError(error)) return error.message;
  if (typeof error === 'object' && error !== null && 'cause' in error) {
    return messageOf(error.cause);
  }
  return String(error);
}

/** How one direct call ended. */
export interface CallOutcome {
  /** It threw synchronously instead of returning a rejected promise. */
  readonly sync: boolean;
  readonly code: string;
  readonly message: string;
}

async function call(run: () => Promise<unknown>): Promise<CallOutcome> {
  let promise: Promise<unknown>;
  try {
    promise = run();
  } catch (error) {
    return { sync: true, code: codeOf(error), message: messageOf(error) };
  }
  try {
    await promise;
    return { sync: false, code: 'resolved', message: '' };
  } catch (error) {
    return { sync: false, code: codeOf(error), message: messageOf(error) };
  }
}

function param<T extends string>(api: SessionApi, name: string, fallback: T): T {
  return (api.url.searchParams.get(name) ?? fallback) as T;
}

const route = (run: Route['run'], needs?: 'event'): Route =>
  needs === undefined ? { run } : { run, needs };

/** How a route calls the session: through the manager, or the root functions with the event. */
export type CallForm = 'manager' | 'event';
export type Pending = 'update' | 'regenerate' | 'update,regenerate';
export type AfterClear = 'none' | 'one' | 'parallel';

export const hardeningRoutes: Routes = {
  /**
   * Writes started and not awaited (`pending`: a middleware's `update({ lastSeen })`, a
   * `regenerate()`), then `await clear()` in the manager or event `form`, then (`after`)
   * nothing, one update, or three parallel updates.
   */
  '/pending-then-clear': route(async (api) => {
    const pending = param<Pending>(api, 'pending', 'update').split(',');
    const manager = await api.use();
    const before = seen(manager);
    if (param<CallForm>(api, 'form', 'manager') === 'event') {
      const event = api.event!;
      for (const operation of pending) {
        if (operation === 'update') void updateSession(event, api.config, { lastSeen: Date.now() });
        else void regenerateSession(event, api.config);
      }
      await clearSession(event, api.config);
    } else {
      for (const operation of pending) {
        if (operation === 'update') void manager.update({ lastSeen: Date.now() });
        else void manager.regenerate();
      }
      await manager.clear();
    }
    const cleared = seen(manager);
    const after = param<AfterClear>(api, 'after', 'none');
    if (after === 'one') await api.update({ after: true });
    if (after === 'parallel') {
      await Promise.all([api.update({ p1: 1 }), api.update({ p2: 2 }), api.update({ p3: 3 })]);
    }
    return { before, cleared, after: seen(manager) };
  }),

  /**
   * An update that fails (`failure`, `form`), caught; what the handler then sees; then an
   * update that succeeds, so the cookie shows what the failed one left behind.
   */
  '/staged': route(async (api) => {
    const manager = await api.use();
    let code = 'resolved';
    try {
      await api.update(failingUpdate(param(api, 'failure', 'data'), param(api, 'form', 'object')));
    } catch (error) {
      code = codeOf(error);
    }
    const afterFailure = seen(manager);
    let next = 'resolved';
    try {
      await api.update({ ok: true });
    } catch (error) {
      next = codeOf(error);
    }
    return { code, afterFailure, next, final: seen(manager) };
  }),

  /** An awaited update after the response went out; the outcome goes to expectOutcome(tag). */
  '/staged-late': route(async (api) => {
    const tag = param(api, 'tag', '');
    const form = param<UpdateForm>(api, 'form', 'object');
    const manager = await api.use();
    await api.afterResponse(async () => {
      let code = 'resolved';
      try {
        await api.update(
          form === 'object'
            ? { user: 'mallory' }
            : (data) => {
                data.user = 'mallory';
                (data.profile as Record<string, unknown>).theme = 'light';
                return undefined;
              },
        );
      } catch (error) {
        code = codeOf(error);
      }
      const got = api.event === undefined ? undefined : safe((await api.get()).data);
      settle(tag, { code, data: safe(manager.data), getSession: got });
    });
    return { scheduled: true };
  }),

  /**
   * An awaited update that fails (a bigint), caught; then a failing update (`failure`) that
   * nobody awaits, in the manager or event `form`; then an awaited update, which the write
   * queue runs after the un-awaited one has failed.
   */
  '/unawaited': route(async (api) => {
    const manager = await api.use();
    let awaited = 'resolved';
    try {
      await api.update({ bad: 10n });
    } catch (error) {
      awaited = codeOf(error);
    }
    const failing = failingUpdate(param(api, 'failure', 'large'), 'object');
    if (param<CallForm>(api, 'form', 'manager') === 'event') {
      void updateSession(api.event!, api.config, failing);
    } else {
      void manager.update(failing);
    }
    await api.update({ ok: true });
    return { awaited, final: seen(manager) };
  }),

  /**
   * A write (`op`) nobody awaits, started after the response went out (`form` as above).
   * Reports 'started', or how the call threw: a write must fail as a promise, never throw.
   */
  '/unawaited-late': route(async (api) => {
    const tag = param(api, 'tag', '');
    const op = param<'update' | 'clear' | 'regenerate'>(api, 'op', 'update');
    const manager = await api.use();
    await api.afterResponse(() => {
      try {
        if (param<CallForm>(api, 'form', 'manager') === 'event') {
          const event = api.event!;
          if (op === 'update') void updateSession(event, api.config, { late: true });
          else if (op === 'clear') void clearSession(event, api.config);
          else void regenerateSession(event, api.config);
        } else if (op === 'update') void manager.update({ late: true });
        else if (op === 'clear') void manager.clear();
        else void manager.regenerate();
        settle(tag, 'started');
      } catch (error) {
        settle(tag, `threw ${codeOf(error)}`);
      }
      return Promise.resolve();
    });
    return { scheduled: true };
  }),

  /** An update, then (event hosts) sealSession: for a request whose token came in the header. */
  '/header-write': route(async (api) => {
    const manager = await api.use();
    await api.update({ via: 'header' });
    const token = api.event === undefined ? null : await api.seal();
    return { seen: seen(manager), token };
  }),

  /** Every session function called with BAD_CONFIGS[`bad`]: one outcome each. */
  '/config-direct': route(async (api) => {
    const { config } = BAD_CONFIGS[param<BadConfigName>(api, 'bad', 'hostDomain')];
    const event = api.event!;
    return {
      useSession: await call(() => useSession(event, config)),
      getSession: await call(() => getSession(event, config)),
      updateSession: await call(() => updateSession(event, config, { a: 1 })),
      clearSession: await call(() => clearSession(event, config)),
      regenerateSession: await call(() => regenerateSession(event, config)),
      sealSession: await call(() => sealSession(event, config)),
      unsealSession: await call(() => unsealSession(event, config, 'Fe26.2**x*y*z**a*b')),
    };
  }, 'event'),
};
