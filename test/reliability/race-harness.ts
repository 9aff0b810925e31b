/**
 * The harness of races.test.ts: a session engine whose asynchronous steps (iron's seal and
 * unseal) resolve when fast-check's scheduler says, in-memory requests and a "browser"
 * cookie jar, the operations a handler may call on a session, and the model those
 * operations are checked against.
 *
 * Transports set cookies synchronously (the engine's port has no asynchronous write), so a
 * cookie write is delayed by delaying the seal that precedes it. Every scheduled promise is
 * made from work started at once, and only its settling waits for the scheduler: no real
 * thread-pool timing leaks into the order, so a seed replays the same interleaving.
 */
import fc from 'fast-check';
import { parseSetCookie } from 'cookie';
import { replaceSetCookie, type CookieIdentity } from '../../src/cookie/set-cookie.js';
import type { Iron } from '../../src/iron/create-iron.js';
import { iron as sharedIron } from '../../src/iron/instance.js';
import type { MaybePromise } from '../../src/internal/maybe-promise.js';
import { createRequestContext, type RequestContext } from '../../src/session/request-state.js';
import { createSessionEngine, type SessionEngine } from '../../src/session/session-engine.js';
import type { SessionConfig } from '../../src/session/types.js';

export const PASSWORD = 'races-property-test-password-0123456789-abcdef';
/** The cookie (and session) name: the default. */
export const NAME = 'h3';
/** The engines' clock: fixed, so nothing here depends on how long a run takes. */
export const NOW = Date.now();

/** Keeps a promise that settles only when the scheduler picks it, without unhandled rejections. */
function scheduled<T>(s: fc.Scheduler, work: Promise<T>, label: string): Promise<T> {
  // The work may reject before the scheduler attaches to it: mark it handled now.
  work.catch(() => undefined);
  return s.schedule(work, label);
}

/**
 * `base` with `seal` and `sealUntil` settling when the scheduler says, and, when
 * `delayUnseal`, `unsealEager` too (as on a backend whose unseal is always asynchronous,
 * WebCrypto). Everything else is `base`'s.
 */
export function scheduledIron(base: Iron, s: fc.Scheduler, delayUnseal: boolean): Iron {
  return {
    backend: base.backend,
    seal: (object, password, options) =>
      scheduled(s, base.seal(object, password, options), 'iron.seal'),
    sealUntil: (object, password, options, expiresAt) =>
      scheduled(s, base.sealUntil(object, password, options, expiresAt), 'iron.seal'),
    unseal: (token, password, options) => base.unseal(token, password, options),
    unsealEager(token, password, options): MaybePromise<unknown> {
      if (!delayUnseal) return base.unsealEager(token, password, options);
      let work: Promise<unknown>;
      try {
        work = Promise.resolve(base.unsealEager(token, password, options));
      } catch (error) {
        work = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return scheduled(s, work, 'iron.unseal');
    },
    setDerivationLimit: (limit) => {
      base.setDerivationLimit(limit);
    },
    randomBytes: (size) => base.randomBytes(size),
  };
}

/** An engine over the scheduled iron and the fixed clock. */
export function scheduledEngine(s: fc.Scheduler, delayUnseal: boolean): SessionEngine {
  return createSessionEngine({ iron: scheduledIron(sharedIron, s, delayUnseal), now: () => NOW });
}

/** An engine that waits for nobody: it prepares the browser's cookie and reads it back. */
export const plainEngine: SessionEngine = createSessionEngine({
  iron: sharedIron,
  now: () => NOW,
});

/** What `onUnawaitedError` and `onInvalidToken` reported, and the ids `generateId` made. */
export interface RunConfig {
  readonly config: SessionConfig;
  readonly unawaited: unknown[];
  readonly invalid: unknown[];
  /** How many ids this configuration made so far. */
  idsMade(): number;
}

/**
 * A configuration whose ids are `<label>/id-1`, `<label>/id-2`... in the order they are
 * made, so a test can tell which request made an id, and whether before a given moment.
 */
export function runConfig(label: string): RunConfig {
  let made = 0;
  const unawaited: unknown[] = [];
  const invalid: unknown[] = [];
  return {
    config: {
      password: PASSWORD,
      generateId: () => `${label}/id-${++made}`,
      onUnawaitedError: (error) => unawaited.push(error),
      onInvalidToken: (rejection) => invalid.push(rejection),
    },
    unawaited,
    invalid,
    idsMade: () => made,
  };
}

/** Who made an id with {@link runConfig}'s generator, and its number; undefined otherwise. */
export function idOrigin(id: string | undefined): { label: string; number: number } | undefined {
  const match = id === undefined ? null : /^(.*)\/id-(\d+)$/.exec(id);
  return match === null ? undefined : { label: match[1]!, number: Number(match[2]) };
}

/** One request over an in-memory transport: its cookie header in, its Set-Cookie headers out. */
export interface MemoryRequest {
  readonly request: RequestContext;
  /** The Set-Cookie headers so far, one per cookie. */
  readonly setCookies: () => readonly string[];
  /** Sends the response head: later cookie writes fail with ERR_HEADERS_SENT. */
  readonly send: () => void;
}

/** The default session header of the `h3` session. */
export const SESSION_HEADER = 'x-h3-session';

/** A request carrying `cookieHeader` and, when given, `sessionToken` in the session header. */
export function memoryRequest(
  cookieHeader: string | undefined,
  sessionToken?: string,
): MemoryRequest {
  let cookies: string[] = [];
  let sent = false;
  const headers: Record<string, string | undefined> = {
    cookie: cookieHeader,
    [SESSION_HEADER]: sessionToken,
  };
  return {
    request: createRequestContext({
      getRequestHeader: (name) => headers[name],
      setCookie(header: string, identity: CookieIdentity) {
        cookies = replaceSetCookie(cookies, header, identity);
      },
      headersSent: () => sent,
    }),
    setCookies: () => cookies,
    send: () => {
      sent = true;
    },
  };
}

/** What a response says about the session cookie: a token, a deletion, or nothing. */
export type CookieOutcome =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'deleted' }
  | { readonly kind: 'none' };

export function sessionCookieIn(setCookies: readonly string[]): CookieOutcome {
  for (const header of setCookies) {
    const parsed = parseSetCookie(header);
    if (parsed.name !== NAME) continue;
    const { maxAge, value } = parsed;
    return maxAge === 0 || value === undefined || value === ''
      ? { kind: 'deleted' }
      : { kind: 'token', token: value };
  }
  return { kind: 'none' };
}

/**
 * The browser's cookies of this site: each response's Set-Cookie headers applied in the
 * order the responses arrive, a later one replacing an earlier one (a deletion removes it).
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  apply(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      const { name, value, maxAge } = parseSetCookie(header);
      if (maxAge !== undefined && maxAge <= 0) this.#cookies.delete(name);
      else this.#cookies.set(name, value ?? '');
    }
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

/** What a session token holds, as read with the raw iron unseal. */
export interface TokenContent {
  readonly id: string;
  readonly data: Data;
  readonly flash: Flash;
}

export async function openToken(token: string): Promise<TokenContent> {
  const payload = (await sharedIron.unseal(token, PASSWORD)) as {
    id: string;
    data: Data;
    flash?: Flash;
  };
  return { id: payload.id, data: payload.data, flash: payload.flash ?? {} };
}

/**
 * The session the browser's jar holds, as the next request sees it: the token's content,
 * or an empty session (id undefined) when the jar holds none.
 */
export async function sessionInJar(
  jar: CookieJar,
): Promise<{ id: string | undefined; data: Data; flash: Flash }> {
  const token = jar.get(NAME);
  const none = { id: undefined, data: {}, flash: {} };
  if (token === undefined) return none;
  // As the next request would: a token that does not open (one a test tampered with)
  // starts a new session.
  return openToken(token).catch(() => none);
}

/** Session data in these tests: a few keys holding numbers (big strings only in failures). */
export type Data = Record<string, unknown>;
/** Flash values by key: unique strings, so a value read twice is a value read twice. */
export type Flash = Record<string, unknown>;

/** Keys the operations touch: few, so operations collide on them. */
export const KEYS = ['a', 'b', 'c'] as const;
export const FLASH_KEYS = ['notice', 'error'] as const;

/** One session call a handler makes. `awaited`: the handler waits for it before going on. */
export type Op = { readonly awaited: boolean } & (
  | { readonly kind: 'update-object'; readonly patch: Readonly<Record<string, number>> }
  /** `data[key] += add`, by mutating the copy (`mutate`) or by returning a patch. */
  | {
      readonly kind: 'update-function';
      readonly key: string;
      readonly add: number;
      readonly mutate: boolean;
    }
  /** An update function that throws: nothing is written. */
  | { readonly kind: 'update-throws' }
  /** A Date in the data: iron refuses to seal it (ERR_DATA_INVALID). */
  | { readonly kind: 'update-unsealable' }
  /** A value that seals into a token past the size bound (ERR_COOKIE_TOO_LARGE). */
  | { readonly kind: 'update-too-large' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'regenerate' }
  | { readonly kind: 'flash'; readonly key: string }
  | { readonly kind: 'take-flash'; readonly key: string }
  | { readonly kind: 'get-session' }
  | { readonly kind: 'use-session' }
  | { readonly kind: 'seal-session' }
);

export type OpKind = Op['kind'];

/** Updates that must fail, and the error each fails with. */
export const FAILING: Partial<Record<OpKind, string>> = {
  'update-throws': 'update refused by the handler',
  'update-unsealable': 'ERR_DATA_INVALID',
  'update-too-large': 'ERR_COOKIE_TOO_LARGE',
};

/** The weights of each kind of operation in a generated request. */
export type OpWeights = Readonly<Partial<Record<OpKind, number>>>;

export function opArbitrary(weights: OpWeights): fc.Arbitrary<Op> {
  const key = fc.constantFrom(...KEYS);
  const flashKey = fc.constantFrom(...FLASH_KEYS);
  const awaited = fc.boolean();
  const byKind: Record<OpKind, fc.Arbitrary<Op>> = {
    'update-object': fc.record({
      kind: fc.constant('update-object' as const),
      patch: fc.dictionary(key, fc.integer({ min: 0, max: 99 }), { minKeys: 1, maxKeys: 2 }),
      awaited,
    }),
    'update-function': fc.record({
      kind: fc.constant('update-function' as const),
      key,
      add: fc.integer({ min: 1, max: 9 }),
      mutate: fc.boolean(),
      awaited,
    }),
    'update-throws': fc.record({ kind: fc.constant('update-throws' as const), awaited }),
    'update-unsealable': fc.record({ kind: fc.constant('update-unsealable' as const), awaited }),
    'update-too-large': fc.record({ kind: fc.constant('update-too-large' as const), awaited }),
    clear: fc.record({ kind: fc.constant('clear' as const), awaited }),
    regenerate: fc.record({ kind: fc.constant('regenerate' as const), awaited }),
    flash: fc.record({ kind: fc.constant('flash' as const), key: flashKey, awaited }),
    'take-flash': fc.record({ kind: fc.constant('take-flash' as const), key: flashKey, awaited }),
    'get-session': fc.record({ kind: fc.constant('get-session' as const), awaited }),
    'use-session': fc.record({ kind: fc.constant('use-session' as const), awaited }),
    'seal-session': fc.record({ kind: fc.constant('seal-session' as const), awaited }),
  };
  const entries = Object.entries(weights) as [OpKind, number][];
  return fc.oneof(
    ...entries
      .filter(([, weight]) => weight > 0)
      .map(([kind, weight]) => ({ arbitrary: byKind[kind], weight })),
  );
}

/** The session a request's operations should leave, step by step, in call order. */
export interface ModelStep {
  /** Data and flash before the operation. */
  readonly dataBefore: Data;
  readonly flashBefore: Flash;
  /** What `take-flash` reads when its turn is not superseded by a clear. */
  readonly taken?: unknown;
}

export interface Model {
  readonly steps: readonly ModelStep[];
  /** Data and flash once every operation ran. */
  readonly data: Data;
  readonly flash: Flash;
}

/**
 * Applies `ops` in call order to `initial`: the engine's queue semantics. A clear takes
 * effect at its call; failing updates change nothing; `flash` sets the value
 * `flashValue(i)` of operation `i`.
 */
export function model(
  ops: readonly Op[],
  initial: { data: Data; flash: Flash },
  flashValue: (index: number) => string,
): Model {
  let data: Data = { ...initial.data };
  let flash: Flash = { ...initial.flash };
  const steps: ModelStep[] = [];
  ops.forEach((op, index) => {
    const step: { dataBefore: Data; flashBefore: Flash; taken?: unknown } = {
      dataBefore: { ...data },
      flashBefore: { ...flash },
    };
    switch (op.kind) {
      case 'update-object':
        data = { ...data, ...op.patch };
        break;
      case 'update-function':
        data = { ...data, [op.key]: Number(data[op.key] ?? 0) + op.add };
        break;
      case 'clear':
        data = {};
        flash = {};
        break;
      case 'flash':
        flash = { ...flash, [op.key]: flashValue(index) };
        break;
      case 'take-flash':
        step.taken = flash[op.key];
        if (Object.hasOwn(flash, op.key)) {
          flash = { ...flash };
          Reflect.deleteProperty(flash, op.key);
        }
        break;
      case 'update-throws':
      case 'update-unsealable':
      case 'update-too-large':
      case 'regenerate':
      case 'get-session':
      case 'use-session':
      case 'seal-session':
        break;
    }
    steps.push(step);
  });
  return { steps, data, flash };
}

/** What became of one operation. */
export interface OpOutcome {
  status: 'pending' | 'resolved' | 'rejected';
  error?: unknown;
  /** take-flash: the value read. seal-session: the token. */
  value?: unknown;
  /**
   * Reads: the session as the promise resolved (data copied then: it is live), and how
   * many operations the handler had called by then.
   */
  snapshot?: { readonly id: string | undefined; readonly data: Data; readonly called: number };
  /** update-function: the data the function was given, copied when it was given. */
  seen?: Data;
  /** A failed update: the request's session data when the failure arrived. */
  dataAtFailure?: Data;
  /** clear: how many ids were made when it was called. */
  idsMadeAtCall?: number;
}

/** One request's operations, run as a handler would run them, with what became of each. */
export interface HandlerRun {
  readonly outcomes: readonly OpOutcome[];
  /** Resolves once every operation settled (none ever rejects this). */
  readonly done: Promise<void>;
}

/** The value operation `index` of request `label` flashes: unique within a run. */
export const flashValueOf =
  (label: string) =>
  (index: number): string =>
    `${label}:${index}`;

const copy = (data: Data): Data => structuredClone(data);

/**
 * Runs `ops` in one request, in call order, as a handler would: before each call the
 * handler yields to the scheduler (so writes already called may seal and land first), and
 * waits for the calls marked `awaited`. Outcomes are recorded; nothing here rejects.
 */
export function runHandler(
  s: fc.Scheduler,
  engine: SessionEngine,
  run: RunConfig,
  request: MemoryRequest,
  label: string,
  ops: readonly Op[],
): HandlerRun {
  const { config } = run;
  const req = request.request;
  const flashValue = flashValueOf(label);
  const outcomes: OpOutcome[] = ops.map(() => ({ status: 'pending' }));
  /** How many operations the handler called so far. */
  let called = 0;
  const liveData = (): Data => copy(req.sessions?.get(NAME)?.session?.data ?? {});

  function call(op: Op, index: number): Promise<unknown> {
    const outcome = outcomes[index]!;
    switch (op.kind) {
      case 'update-object':
        return engine.updateSession(req, config, op.patch);
      case 'update-function':
        return engine.updateSession(req, config, (data) => {
          outcome.seen = copy(data);
          const next = Number(data[op.key] ?? 0) + op.add;
          if (!op.mutate) return { [op.key]: next };
          data[op.key] = next;
          return undefined;
        });
      case 'update-throws':
        return engine.updateSession(req, config, () => {
          throw new Error(FAILING['update-throws']);
        });
      case 'update-unsealable':
        return engine.updateSession(req, config, { when: new Date(0) });
      case 'update-too-large':
        return engine.updateSession(req, config, { big: 'x'.repeat(40_000) });
      case 'clear':
        outcome.idsMadeAtCall = run.idsMade();
        return engine.clearSession(req, config);
      case 'regenerate':
        return engine.regenerateSession(req, config);
      case 'flash':
        return engine.setFlash(req, config, op.key, flashValue(index));
      case 'take-flash':
        return engine.takeFlash(req, config, op.key);
      case 'get-session':
        return engine.getSession(req, config).then((session) => {
          outcome.snapshot = { id: session.id, data: copy(session.data), called };
        });
      case 'use-session':
        return engine.useSession(req, config).then((manager) => {
          outcome.snapshot = { id: manager.id, data: copy(manager.data), called };
        });
      case 'seal-session':
        return engine.sealSession(req, config);
    }
  }

  function issue(op: Op, index: number): Promise<void> {
    const outcome = outcomes[index]!;
    called++;
    let result: Promise<unknown>;
    try {
      result = call(op, index);
    } catch (error) {
      result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return result.then(
      (value) => {
        outcome.status = 'resolved';
        if (op.kind === 'take-flash' || op.kind === 'seal-session') outcome.value = value;
      },
      (error: unknown) => {
        outcome.status = 'rejected';
        outcome.error = error;
        outcome.dataAtFailure = liveData();
      },
    );
  }

  async function handler(): Promise<void> {
    const settled: Promise<void>[] = [];
    for (const [index, op] of ops.entries()) {
      await s.schedule(Promise.resolve(), `${label} calls #${index} ${op.kind}`);
      const done = issue(op, index);
      settled.push(done);
      if (op.awaited) await done;
    }
    await Promise.all(settled);
  }

  return { outcomes, done: handler() };
}

/** The message or code of an error, for comparing with {@link FAILING}. */
export function reasonOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) return String(error.code);
  return error instanceof Error ? error.message : String(error);
}

/** The id of the session a browser starts with, when it starts with one. */
export const INITIAL_ID = 'initial';

/** A browser holding a session with `initial`'s data and flash (id {@link INITIAL_ID}), or none. */
export async function browserWith(
  initial: { readonly data: Data; readonly flash: Flash } | undefined,
): Promise<CookieJar> {
  const jar = new CookieJar();
  if (initial === undefined) return jar;
  const config: SessionConfig = { password: PASSWORD, generateId: () => INITIAL_ID };
  const { request, setCookies } = memoryRequest(undefined);
  await plainEngine.updateSession(request, config, initial.data);
  for (const [key, value] of Object.entries(initial.flash)) {
    await plainEngine.setFlash(request, config, key, value);
  }
  jar.apply(setCookies());
  return jar;
}

/** `token` with a character of its MAC changed: it no longer verifies. */
export function tamper(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -1)}${last}`;
}

/**
 * `base` whose `unsealEager` answers only once `open()` is called, as a WebCrypto backend
 * answers after the event loop turns: a test holds a token's opening while the handler
 * goes on.
 */
export function gatedIron(base: Iron): { iron: Iron; open: () => void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    iron: {
      ...base,
      unsealEager: (token, password, options) =>
        gate.then(() => base.unsealEager(token, password, options)),
    },
    open: () => {
      open();
    },
  };
}

/** `work`, or a rejection when it has not settled within `ms`: a hang is a counterexample too. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not settle within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
