/**
 * Races of the session engine in store mode, explored with fast-check's scheduler, as
 * races.test.ts does in cookie mode. The sessions live in a real `memoryStore`, wrapped so
 * that every store call reaches the store and answers when the scheduler says (two steps:
 * a call may be sent and not yet applied, or applied and not yet answered), while the
 * behaviour stays the real store's; iron's seals (and, in some runs, unseals) are
 * scheduled too. Every store call is logged in the order the store applied it, so a
 * property can ask whether a record existed at any moment of the store's history.
 *
 * Within one request: updates (object, function, failing), sign-in and sign-out under
 * `userKey` (a new id), clear, regenerate, setFlash, takeFlash, getSession, useSession and
 * sealSession, awaited or not. Across requests: several requests carrying one cookie,
 * sharing the store, in parallel, with a revocation running beside them.
 *
 * Reproducible: every run draws from one seed, printed at the start; set
 * STORE_RACES_SEED=<n> (and STORE_RACES_PATH=<path> from a failure report) to replay it,
 * and STORE_RACES_RUNS=<n> to change the number of runs per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replaceSetCookie } from '../../src/cookie/set-cookie.js';
import { memoryStore } from '../../src/index.js';
import { iron as sharedIron } from '../../src/iron/instance.js';
import {
  createRequestContext,
  type RequestContext,
  type SessionState,
} from '../../src/session/request-state.js';
import { createSessionEngine, type SessionEngine } from '../../src/session/session-engine.js';
import type { SessionConfig } from '../../src/session/types.js';
import type { SessionStore, StoreChange } from '../../src/store/store.js';
import {
  CookieJar,
  NAME,
  NOW,
  PASSWORD,
  plainEngine,
  reasonOf,
  scheduledIron,
  sessionCookieIn,
  tamper,
  within,
} from './race-harness.js';

const SEED = Number(process.env['STORE_RACES_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));
const RUNS = Number(process.env['STORE_RACES_RUNS'] ?? 200);
const PATH = process.env['STORE_RACES_PATH'];
console.info(
  `[store-races] seed ${SEED}, ${RUNS} runs per property (replay with STORE_RACES_SEED=${SEED})`,
);

const PARAMETERS: fc.Parameters<unknown> = {
  seed: SEED,
  numRuns: RUNS,
  ...(PATH === undefined ? {} : { path: PATH }),
};

/** Longest a run may take to settle before it counts as a hang. */
const HANG_MS = 5_000;
/** Sessions end an hour after they start: nothing ends during a run (the clock is fixed). */
const MAX_AGE_S = 3600;
/** The user of the sessions that have one. */
const USER = 'ada@example.com';
/** A value only the initial session holds: seeing it is seeing that session's data. */
const SECRET = 'initial-secret';

type Data = Record<string, unknown>;
type Flash = Record<string, unknown>;

// ---------------------------------------------------------------------------------------
// The store, scheduled and logged.

/** Store methods whose first argument is a user tag; every other one's is a session id. */
const TAG_METHODS: ReadonlySet<string> = new Set(['list', 'deleteUser']);

/** One call of a store method, as the store saw it. */
interface StoreCall {
  /** The request (or the revoker) that made it. */
  readonly who: string;
  readonly method: string;
  /** The first argument: the session id, or the user tag for `list` and `deleteUser`. */
  readonly key: string;
  readonly args: readonly unknown[];
  /** Its place in the order the store applied the calls; undefined until applied. */
  applied: number | undefined;
  /** What the store answered. */
  result: unknown;
  /** Whether the record of each id the log knew existed right after this call applied. */
  readonly after: Map<string, boolean>;
}

/**
 * Every store call of a run, in the order they were made and in the order the store
 * applied them, and which records existed after each: right after a call is applied, the
 * record of every id known so far is read from the store in the same turn. A memory store
 * does each call's work before it returns the call's promise, so those reads see exactly
 * the state the call left, whatever the store's contract says a call does.
 */
class StoreLog {
  readonly calls: StoreCall[] = [];
  readonly applied: StoreCall[] = [];
  /** The session ids known: the initial records' and every call's. */
  readonly #ids: Set<string>;
  readonly #reads: Promise<void>[] = [];

  constructor(
    private readonly raw: SessionStore,
    private readonly initial: ReadonlySet<string>,
  ) {
    this.#ids = new Set(initial);
  }

  /** A moment of the store's history: how many calls it had applied. */
  moment(): number {
    return this.applied.length;
  }

  /** Marks `entry` applied now, and runs `perform` (the real call). */
  apply(entry: StoreCall, perform: () => Promise<unknown>): Promise<unknown> {
    entry.applied = this.applied.push(entry) - 1;
    if (!TAG_METHODS.has(entry.method)) this.#ids.add(entry.key);
    let answer: Promise<unknown>;
    try {
      answer = perform();
    } catch (error) {
      answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    for (const id of this.#ids) {
      this.#reads.push(
        this.raw.get(id).then((record) => {
          entry.after.set(id, record !== undefined);
        }),
      );
    }
    return answer;
  }

  /** Waits for the reads made after each call: before asking what existed when. */
  async settled(): Promise<void> {
    await Promise.all(this.#reads);
  }

  /** Whether the record of `id` existed once the store had applied its first `moment` calls. */
  existsAt(id: string, moment: number): boolean {
    if (moment === 0) return this.initial.has(id);
    return this.applied[moment - 1]!.after.get(id) ?? false;
  }

  /**
   * The first call from `moment` on after which the record of `id` existed, as
   * `who method`, or undefined when it never did.
   */
  existingFrom(id: string, moment: number): string | undefined {
    for (let at = moment; at <= this.applied.length; at++) {
      if (!this.existsAt(id, at)) continue;
      const entry = at === 0 ? undefined : this.applied[at - 1]!;
      return entry === undefined ? 'at the start' : `after ${entry.who} ${entry.method}`;
    }
    return undefined;
  }
}

/**
 * `raw` with every call sent, applied and answered when the scheduler says: the call
 * reaches the store at one scheduled step (where the real store applies it, at once, as
 * a memory store does), and its answer comes back at another. Each step is scheduled only
 * once the one before it ran, so no scheduled task waits for another. Every method of
 * `raw` is wrapped, whatever the contract holds.
 */
function scheduledStore(
  raw: SessionStore,
  s: fc.Scheduler,
  log: StoreLog,
  who: string,
): SessionStore {
  const methods = raw as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const wrapped: Record<string, unknown> = { kind: raw.kind, timeout: undefined };
  for (const method of methodsOf(raw)) {
    wrapped[method] = (...args: unknown[]): Promise<unknown> => {
      const entry: StoreCall = {
        who,
        method,
        key: typeof args[0] === 'string' ? args[0] : '',
        args,
        applied: undefined,
        result: undefined,
        after: new Map(),
      };
      log.calls.push(entry);
      return s.schedule(Promise.resolve(), `${who} store.${method} reaches the store`).then(() => {
        const answer = log
          .apply(entry, () => methods[method]!.apply(raw, args))
          .then((result) => {
            entry.result = result;
            return result;
          });
        // Handled now: the scheduler attaches to it only when it picks the answer.
        answer.catch(() => undefined);
        return s.schedule(answer, `${who} store.${method} answers`);
      });
    };
  }
  return wrapped as unknown as SessionStore;
}

/** The methods of a store object: its own functions and its class's, but the constructor. */
function methodsOf(store: SessionStore): string[] {
  const names = new Set<string>();
  for (
    let object: object | null = store;
    object !== null && object !== Object.prototype;
    object = Object.getPrototypeOf(object) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(object)) {
      if (name !== 'constructor' && typeof Reflect.get(store, name) === 'function') names.add(name);
    }
  }
  return [...names];
}

/** The record of `id` in `raw` as plain data and flash, or undefined. */
async function recordIn(
  raw: SessionStore,
  id: string | undefined,
): Promise<{ data: Data; flash: Flash } | undefined> {
  if (id === undefined) return undefined;
  const record = await raw.get(id);
  if (record === undefined) return undefined;
  const parse = (fields: Readonly<Record<string, string>>): Data =>
    Object.fromEntries(Object.entries(fields).map(([key, text]) => [key, JSON.parse(text)]));
  return { data: parse(record.data), flash: parse(record.flash) };
}

// ---------------------------------------------------------------------------------------
// Requests, cookies and configurations.

/** One request over an in-memory transport, remembering every session token it set. */
interface StoreRequest {
  readonly request: RequestContext;
  /** The Set-Cookie headers the response carries, one per cookie. */
  readonly setCookies: () => readonly string[];
  /** Every session token set during the request, in order, replaced ones included. */
  readonly tokensSet: string[];
  readonly send: () => void;
}

function storeRequest(cookieHeader: string | undefined): StoreRequest {
  let cookies: string[] = [];
  let sent = false;
  const tokensSet: string[] = [];
  return {
    request: createRequestContext({
      getRequestHeader: (name) => (name === 'cookie' ? cookieHeader : undefined),
      setCookie(header, identity) {
        cookies = replaceSetCookie(cookies, header, identity);
        const outcome = sessionCookieIn([header]);
        if (outcome.kind === 'token') tokensSet.push(outcome.token);
      },
      headersSent: () => sent,
    }),
    setCookies: () => cookies,
    tokensSet,
    send: () => {
      sent = true;
    },
  };
}

/** What a store reference holds: the session id, and whether its record was written. */
async function referenceIn(token: string): Promise<{ ref: string; stored: boolean }> {
  return (await sharedIron.unseal(token, PASSWORD)) as { ref: string; stored: boolean };
}

/** A configuration of one request (or the revoker), with what it reported. */
interface RunConfig {
  readonly config: SessionConfig;
  readonly unawaited: unknown[];
  readonly invalid: string[];
  /** The ids this configuration made, in order. */
  readonly made: string[];
}

/** The user of the data, under the configurations' `userKey`. */
const userOf = (data: Data): unknown => data['user'];

/** A configuration over `store`, whose ids are `<label>-1`, `<label>-2`... */
function runConfig(label: string, store: SessionStore): RunConfig {
  const unawaited: unknown[] = [];
  const invalid: string[] = [];
  const made: string[] = [];
  return {
    config: {
      password: PASSWORD,
      maxAge: MAX_AGE_S,
      store,
      userKey: userOf,
      generateId: () => {
        const id = `${label}-${made.length + 1}`;
        made.push(id);
        return id;
      },
      onUnawaitedError: (error) => unawaited.push(error),
      onInvalidToken: ({ error, source }) => invalid.push(`${source} ${error.code}`),
    },
    unawaited,
    invalid,
    made,
  };
}

/** How a browser starts: no session, a session with a record, a reference to none, or tampered. */
type Start = 'none' | 'stored' | 'unstored' | 'tampered';

interface Initial {
  readonly start: Start;
  readonly data: Data;
  readonly flash: Flash;
}

/** The browser's jar, the id its cookie refers to, and the ids whose records exist. */
interface Browser {
  readonly jar: CookieJar;
  readonly id: string | undefined;
  /** What a request carrying the jar starts from. */
  readonly session: { data: Data; flash: Flash };
  readonly records: Set<string>;
}

/**
 * A browser whose cookie refers to a session made as `initial.start` says, in `raw`, by an
 * unscheduled engine (the session's random part is `initial`).
 */
async function browserWith(raw: SessionStore, initial: Initial): Promise<Browser> {
  const jar = new CookieJar();
  const records = new Set<string>();
  const empty = { data: {}, flash: {} };
  if (initial.start === 'none') return { jar, id: undefined, session: empty, records };
  const config: SessionConfig = {
    password: PASSWORD,
    maxAge: MAX_AGE_S,
    store: raw,
    userKey: userOf,
    generateId: () => 'initial',
  };
  const request = storeRequest(undefined);
  if (initial.start === 'unstored') {
    // A new session whose cookie went out, never changed: a reference and no record.
    await plainEngine.useSession(request.request, config);
  } else {
    await plainEngine.updateSession(request.request, config, initial.data);
    for (const [key, value] of Object.entries(initial.flash)) {
      await plainEngine.setFlash(request.request, config, key, value);
    }
  }
  jar.apply(request.setCookies());
  const token = jar.get(NAME)!;
  const { ref, stored } = await referenceIn(token);
  if (stored) records.add(ref);
  if (initial.start === 'tampered') {
    jar.apply([`${NAME}=${tamper(token)}; Path=/`]);
    return { jar, id: undefined, session: empty, records };
  }
  const session =
    initial.start === 'unstored' ? empty : { data: initial.data, flash: initial.flash };
  return { jar, id: ref, session, records };
}

/** The session a request carrying `cookie` reads now, from the store itself. */
async function nextRequestReads(
  raw: SessionStore,
  cookie: string | undefined,
): Promise<{ id: string; data: Data; flash: Flash | undefined }> {
  const config: SessionConfig = {
    password: PASSWORD,
    maxAge: MAX_AGE_S,
    store: raw,
    userKey: userOf,
  };
  const { request } = storeRequest(cookie);
  const session = await plainEngine.getSession(request, config);
  const state = request.sessions?.get(NAME);
  return { id: session.id, data: { ...session.data }, flash: state?.flash };
}

// ---------------------------------------------------------------------------------------
// Operations, the model of one request, and the handler that runs them.

type Op = { readonly awaited: boolean } & (
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
  /** A Date in the data: JSON would change it (ERR_DATA_INVALID). */
  | { readonly kind: 'update-invalid' }
  /** `user` set: under `userKey`, the session moves to a new id of that user. */
  | { readonly kind: 'sign-in' }
  /** `user` removed: the session moves to a new id of no user. */
  | { readonly kind: 'sign-out' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'regenerate' }
  | { readonly kind: 'flash'; readonly key: string }
  | { readonly kind: 'take-flash'; readonly key: string }
  | { readonly kind: 'get-session' }
  | { readonly kind: 'use-session' }
  | { readonly kind: 'seal-session' }
);

type OpKind = Op['kind'];
type OpWeights = Readonly<Partial<Record<OpKind, number>>>;

/** Updates that must fail, and the error each fails with. */
const FAILING: Partial<Record<OpKind, string>> = {
  'update-throws': 'update refused by the handler',
  'update-invalid': 'ERR_DATA_INVALID',
};

/** Operations that go through the session's write queue. */
const QUEUED: ReadonlySet<OpKind> = new Set<OpKind>([
  'update-object',
  'update-function',
  'update-throws',
  'update-invalid',
  'sign-in',
  'sign-out',
  'clear',
  'regenerate',
  'flash',
  'take-flash',
  'seal-session',
]);

/** The keys and flash keys one request's operations use. */
interface Keys {
  readonly data: readonly string[];
  readonly flash: readonly string[];
}

const SHARED_KEYS: Keys = { data: ['a', 'b', 'c'], flash: ['notice', 'error'] };

/** Request `index`'s own keys, which no other request of a run touches. */
const ownKeys = (index: number): Keys => ({
  data: [`k${index}a`, `k${index}b`],
  flash: [`f${index}`],
});

function opArbitrary(weights: OpWeights, keys: Keys): fc.Arbitrary<Op> {
  const key = fc.constantFrom(...keys.data);
  const flashKey = fc.constantFrom(...keys.flash);
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
    'update-invalid': fc.record({ kind: fc.constant('update-invalid' as const), awaited }),
    'sign-in': fc.record({ kind: fc.constant('sign-in' as const), awaited }),
    'sign-out': fc.record({ kind: fc.constant('sign-out' as const), awaited }),
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

const opsOf = (weights: OpWeights, keys: Keys, maxLength: number): fc.Arbitrary<Op[]> =>
  fc.array(opArbitrary(weights, keys), { minLength: 1, maxLength });

/** The session before one operation, and what a takeFlash reads at its turn. */
interface ModelStep {
  readonly dataBefore: Data;
  readonly flashBefore: Flash;
  readonly taken?: unknown;
}

interface Model {
  readonly steps: readonly ModelStep[];
  readonly data: Data;
  readonly flash: Flash;
}

/** The value operation `index` of request `label` flashes: unique within a run. */
const flashValueOf = (label: string, index: number): string => `${label}:${index}`;

/** `ops` applied in call order to `start`: the engine's queue, a clear taking effect at its call. */
function model(label: string, ops: readonly Op[], start: { data: Data; flash: Flash }): Model {
  let data: Data = { ...start.data };
  let flash: Flash = { ...start.flash };
  const steps: ModelStep[] = [];
  for (const [index, op] of ops.entries()) {
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
      case 'sign-in':
        data = { ...data, user: USER };
        break;
      case 'sign-out': {
        data = { ...data };
        Reflect.deleteProperty(data, 'user');
        break;
      }
      case 'clear':
        data = {};
        flash = {};
        break;
      case 'flash':
        flash = { ...flash, [op.key]: flashValueOf(label, index) };
        break;
      case 'take-flash':
        step.taken = flash[op.key];
        flash = { ...flash };
        Reflect.deleteProperty(flash, op.key);
        break;
      case 'update-throws':
      case 'update-invalid':
      case 'regenerate':
      case 'get-session':
      case 'use-session':
      case 'seal-session':
        break;
    }
    steps.push(step);
  }
  return { steps, data, flash };
}

/** What became of one operation. */
interface OpOutcome {
  status: 'pending' | 'resolved' | 'rejected';
  error?: unknown;
  /** take-flash: the value read; seal-session: the token. */
  value?: unknown;
  /** Reads: the session when the promise resolved, and how many calls the handler had made. */
  snapshot?: { readonly id: string | undefined; readonly data: Data; readonly called: number };
  /** update-function: the data the function was given. */
  seen?: Data;
  /** A failed update: the request's data when the failure arrived. */
  dataAtFailure?: Data;
  /**
   * clear: when it was called, how many store calls the run had made and how many session
   * tokens this request had set, and the tokens its seals had given out.
   */
  atCall?: { readonly storeCalls: number; readonly tokensSet: number; readonly sealed: string[] };
  /** clear: the store's moment when it resolved. */
  resolvedAt?: number;
}

interface HandlerRun {
  readonly outcomes: readonly OpOutcome[];
  readonly done: Promise<void>;
}

const copy = (data: Data): Data => structuredClone(data);

/** The request's session state, as the engine keeps it. */
function stateIn(request: StoreRequest): SessionState | undefined {
  return request.request.sessions?.get(NAME);
}

/**
 * Runs `ops` in one request as a handler would: before each call it yields to the
 * scheduler, and it waits for the calls marked `awaited`. Nothing here rejects.
 */
function runHandler(
  s: fc.Scheduler,
  engine: SessionEngine,
  run: RunConfig,
  log: StoreLog,
  request: StoreRequest,
  label: string,
  ops: readonly Op[],
): HandlerRun {
  const { config } = run;
  const req = request.request;
  const outcomes: OpOutcome[] = ops.map(() => ({ status: 'pending' }));
  const sealed: string[] = [];
  let called = 0;
  const liveData = (): Data => copy(stateIn(request)?.session?.data ?? {});

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
      case 'update-invalid':
        return engine.updateSession(req, config, { when: new Date(0) });
      case 'sign-in':
        return engine.updateSession(req, config, { user: USER });
      case 'sign-out':
        return engine.updateSession(req, config, (data) => {
          delete data['user'];
        });
      case 'clear':
        outcome.atCall = {
          storeCalls: log.calls.length,
          tokensSet: request.tokensSet.length,
          sealed: [...sealed],
        };
        return engine.clearSession(req, config).then(() => {
          outcome.resolvedAt = log.moment();
        });
      case 'regenerate':
        return engine.regenerateSession(req, config);
      case 'flash':
        return engine.setFlash(req, config, op.key, flashValueOf(label, index));
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
        return engine.sealSession(req, config).then((token) => {
          sealed.push(token);
          return token;
        });
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

/**
 * Whether operation `index` may find a later clear already called when its turn comes
 * (and so do nothing): only when no awaited queued call from it up to that clear made the
 * handler wait for it first.
 */
function mayBeSuperseded(ops: readonly Op[], index: number): boolean {
  for (let at = index; at < ops.length; at++) {
    const op = ops[at]!;
    if (at > index && op.kind === 'clear') return true;
    if (op.awaited && QUEUED.has(op.kind)) return false;
  }
  return false;
}

function dataAfter(expected: Model, count: number): Data {
  return count < expected.steps.length ? expected.steps[count]!.dataBefore : expected.data;
}

/**
 * The data states a read called at `index` may see: from what the handler made sure had
 * landed (its last awaited queued call, or its last clear) up to everything it had called
 * by the time the read resolved.
 */
function readableStates(
  ops: readonly Op[],
  expected: Model,
  index: number,
  called: number,
): Data[] {
  let from = 0;
  for (let at = 0; at < index; at++) {
    const op = ops[at]!;
    if (op.kind === 'clear' || (op.awaited && QUEUED.has(op.kind))) from = at + 1;
  }
  const states: Data[] = [];
  for (let count = from; count <= called; count++) states.push(dataAfter(expected, count));
  return states;
}

/** `data` restricted to `keys`. */
function pick(data: Data, keys: readonly string[]): Data {
  return Object.fromEntries(Object.entries(data).filter(([key]) => keys.includes(key)));
}

/** One request of a run. */
interface RequestRun {
  readonly label: string;
  readonly ops: readonly Op[];
  readonly run: RunConfig;
  readonly request: StoreRequest;
  readonly handler: HandlerRun;
  readonly expected: Model;
}

/** Starts request `label` carrying `cookie`, from `start`, its store calls logged. */
function startRequest(
  s: fc.Scheduler,
  engine: SessionEngine,
  raw: SessionStore,
  log: StoreLog,
  label: string,
  ops: readonly Op[],
  cookie: string | undefined,
  start: { data: Data; flash: Flash },
): RequestRun {
  const run = runConfig(label, scheduledStore(raw, s, log, label));
  const request = storeRequest(cookie);
  const handler = runHandler(s, engine, run, log, request, label, ops);
  return { label, ops, run, request, handler, expected: model(label, ops, start) };
}

/**
 * Each operation's outcome against the model, on the `keys` the request owns (all when
 * undefined): non-failing
 * calls resolve (or, when `revocable`, may fail with ERR_SESSION_REVOKED), failing updates
 * reject with their error and change nothing, a function update sees every earlier write,
 * takeFlash reads what the model holds, a read sees a state that existed. Operations a
 * later clear may overtake may instead do nothing.
 */
function expectOutcomesMatch(
  request: RequestRun,
  keys: readonly string[] | undefined,
  revocable: boolean,
): void {
  const { label, ops, handler, expected } = request;
  const own = (data: Data | undefined): Data | undefined =>
    data === undefined || keys === undefined ? data : pick(data, keys);
  const revoked = (outcome: OpOutcome): boolean =>
    revocable && outcome.status === 'rejected' && reasonOf(outcome.error) === 'ERR_SESSION_REVOKED';
  for (const [index, op] of ops.entries()) {
    const outcome = handler.outcomes[index]!;
    const step = expected.steps[index]!;
    const at = `${label} #${index} ${op.kind}`;
    const superseded = mayBeSuperseded(ops, index);
    expect(outcome.status, at).not.toBe('pending');
    if (revoked(outcome)) continue;
    const failure = FAILING[op.kind];
    if (failure === undefined) {
      expect(outcome.status, `${at}: ${reasonOf(outcome.error)}`).toBe('resolved');
    } else {
      if (!superseded) expect(outcome.status, at).toBe('rejected');
      if (outcome.status === 'rejected') {
        expect(reasonOf(outcome.error), at).toBe(failure);
        if (!superseded) expect(own(outcome.dataAtFailure), at).toEqual(own(step.dataBefore));
      }
    }
    switch (op.kind) {
      case 'update-function':
        if (!superseded && !revocable) expect(outcome.seen, `${at} was not called`).toBeDefined();
        if (outcome.seen !== undefined) expect(own(outcome.seen), at).toEqual(own(step.dataBefore));
        break;
      case 'take-flash':
        if (superseded || revocable)
          expect([step.taken, undefined], at).toContainEqual(outcome.value);
        else expect(outcome.value, at).toEqual(step.taken);
        break;
      case 'get-session':
      case 'use-session': {
        const states = readableStates(ops, expected, index, outcome.snapshot!.called);
        expect(
          states.map((state) => own(state)),
          at,
        ).toContainEqual(own(outcome.snapshot!.data));
        break;
      }
      case 'update-object':
      case 'update-throws':
      case 'update-invalid':
      case 'sign-in':
      case 'sign-out':
      case 'clear':
      case 'regenerate':
      case 'flash':
      case 'seal-session':
        break;
    }
  }
}

/** Operations that give the session a new id. */
const RENEWING: ReadonlySet<OpKind> = new Set<OpKind>(['clear', 'sign-in', 'sign-out']);

/** No unawaited error, no refused token but those `allowed`, no more ids than renewals. */
function expectNothingReported(request: RequestRun, freshStart: boolean, allowed: string[]): void {
  const { label, run, ops } = request;
  expect(run.unawaited.map(reasonOf), `${label}: unawaited errors`).toEqual([]);
  for (const refusal of run.invalid) expect(allowed, `${label}: refused tokens`).toContain(refusal);
  // A regenerate takes two ids for a user's session: the engine's new id names no user, and
  // the write gives it one of the user's (a wasted id, nothing worse).
  const renewals = ops
    .map((op) => (op.kind === 'regenerate' ? 2 : RENEWING.has(op.kind) ? 1 : 0))
    .reduce((sum: number, n) => sum + n, 0);
  expect(run.made.length, `${label}: ids made`).toBeLessThanOrEqual(
    (freshStart ? 1 : 0) + renewals,
  );
}

/**
 * The property of a clear, for every clear of `request` that resolved: every session the
 * request had, or had made, or had handed out a token of, before the clear was called
 * (its cookie's, the ids of its store calls, the references it set or sealed) has no
 * record once the clear resolved, and no write of the store recreates one later.
 */
async function expectNoWriteAfterClear(
  request: RequestRun,
  log: StoreLog,
  cookieId: string | undefined,
): Promise<void> {
  const { label, ops, handler } = request;
  for (const [index, op] of ops.entries()) {
    const outcome = handler.outcomes[index]!;
    if (op.kind !== 'clear' || outcome.resolvedAt === undefined) continue;
    const { storeCalls, tokensSet, sealed } = outcome.atCall!;
    const ended = new Set<string>(cookieId === undefined ? [] : [cookieId]);
    for (const entry of log.calls.slice(0, storeCalls)) {
      if (entry.who === label && !TAG_METHODS.has(entry.method)) ended.add(entry.key);
    }
    for (const token of [...request.request.tokensSet.slice(0, tokensSet), ...sealed]) {
      ended.add((await referenceIn(token)).ref);
    }
    for (const id of ended) {
      expect(
        log.existingFrom(id, outcome.resolvedAt),
        `${label} #${index} clear: the record of ${id} exists once the clear resolved`,
      ).toBeUndefined();
    }
  }
}

// ---------------------------------------------------------------------------------------
// One request.

/** Every kind, none rare. */
const MIX: OpWeights = {
  'update-object': 4,
  'update-function': 4,
  'update-throws': 1,
  'update-invalid': 1,
  'sign-in': 1,
  'sign-out': 1,
  clear: 2,
  regenerate: 1,
  flash: 2,
  'take-flash': 2,
  'get-session': 2,
  'use-session': 1,
  'seal-session': 1,
};

const initialArbitrary: fc.Arbitrary<Initial> = fc.record({
  start: fc.constantFrom<Start>('none', 'stored', 'unstored', 'tampered'),
  data: fc
    .record({
      a: fc.integer({ min: 0, max: 99 }),
      user: fc.option(fc.constant(USER), { nil: undefined }),
    })
    .map(({ a, user }) => (user === undefined ? { a } : { a, user })),
  flash: fc
    .subarray([...SHARED_KEYS.flash])
    .map((keys) => Object.fromEntries(keys.map((key) => [key, `initial:${key}`]))),
});

interface OneRequestScenario {
  readonly initial: Initial;
  readonly ops: Op[];
  readonly delayUnseal: boolean;
}

/** Runs one request over a fresh store, checks what every request must satisfy. */
async function runOneRequest(
  s: fc.Scheduler,
  scenario: OneRequestScenario,
): Promise<{ run: RequestRun; log: StoreLog; browser: Browser }> {
  const raw = memoryStore({ now: () => NOW });
  const browser = await browserWith(raw, scenario.initial);
  const log = new StoreLog(raw, browser.records);
  const engine = createSessionEngine({
    iron: scheduledIron(sharedIron, s, scenario.delayUnseal),
    now: () => NOW,
  });
  const run = startRequest(
    s,
    engine,
    raw,
    log,
    'r1',
    scenario.ops,
    browser.jar.header(),
    browser.session,
  );
  await within(s.waitFor(run.handler.done), HANG_MS, 'the request');
  await s.waitIdle();
  run.request.send();
  browser.jar.apply(run.request.setCookies());
  await log.settled();

  const { expected } = run;
  const final = { data: expected.data, flash: expected.flash };
  expectOutcomesMatch(run, undefined, false);
  // The request's session, its record, and what the next request reads all hold the model.
  const state = stateIn(run.request);
  expect(
    { data: state?.session?.data ?? {}, flash: state?.flash ?? {} },
    'the request ends with',
  ).toEqual(final);
  const record = (await recordIn(raw, state?.session?.id)) ?? { data: {}, flash: {} };
  expect(record, 'the record of the session the request ends with').toEqual(final);
  const next = await nextRequestReads(raw, browser.jar.header());
  expect({ data: next.data, flash: next.flash ?? {} }, 'what the next request reads').toEqual(
    final,
  );
  const tampered = scenario.initial.start === 'tampered';
  expectNothingReported(
    run,
    browser.id === undefined,
    tampered ? ['cookie ERR_SEAL_UNSEAL_FAILED'] : [],
  );
  return { run, log, browser };
}

describe('store-mode races within one request (fast-check scheduler, store calls scheduled)', () => {
  it('no write after a clear: once a clear resolved, no session the request had, made or handed out before it has a record, and no write in flight recreates one', async () => {
    const withClear = fc
      .tuple(opsOf(MIX, SHARED_KEYS, 5), fc.boolean(), opsOf(MIX, SHARED_KEYS, 4), fc.boolean())
      .map(([before, awaited, after, keepAfter]) => [
        ...before,
        { kind: 'clear' as const, awaited },
        ...(keepAfter ? after : []),
      ]);
    const scenario = fc.record({
      initial: initialArbitrary,
      ops: withClear,
      delayUnseal: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenario, async (s, input) => {
        const { run, log, browser } = await runOneRequest(s, input);
        await expectNoWriteAfterClear(run, log, browser.id);
      }),
      PARAMETERS,
    );
  });

  it('the calls apply in call order: the session, its record and what the next request reads hold the model; a failed update changes nothing', async () => {
    const scenario = fc.record({
      initial: initialArbitrary,
      ops: opsOf(MIX, SHARED_KEYS, 10),
      delayUnseal: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenario, async (s, input) => {
        await runOneRequest(s, input);
      }),
      PARAMETERS,
    );
  });
});

// ---------------------------------------------------------------------------------------
// Parallel requests of one session.

/** What each parallel request does: its own keys, and a few calls that touch the session. */
const PARALLEL: OpWeights = {
  'update-object': 4,
  'update-function': 3,
  'update-throws': 1,
  flash: 1,
  'take-flash': 1,
  'get-session': 2,
  'use-session': 1,
  'seal-session': 1,
};

/** The initial session of the parallel runs: stored, of a user, with a secret and a flash. */
const SHARED_INITIAL: Initial = {
  start: 'stored',
  data: { user: USER, a: 1, secret: SECRET },
  flash: { notice: 'initial:notice' },
};

interface ParallelRun {
  readonly raw: SessionStore;
  readonly log: StoreLog;
  readonly browser: Browser;
  readonly requests: readonly RequestRun[];
  /** The labels of the requests in the order their responses reached the browser. */
  readonly arrived: readonly string[];
}

/**
 * Runs `requests` (the operations of each) in parallel, each carrying the browser's
 * cookie, one engine and one store between them; `beside` runs alongside (a revocation).
 */
async function runParallel(
  s: fc.Scheduler,
  requests: readonly (readonly Op[])[],
  delayUnseal: boolean,
  beside?: (raw: SessionStore, log: StoreLog, browser: Browser) => Promise<void>,
): Promise<ParallelRun> {
  const raw = memoryStore({ now: () => NOW });
  const browser = await browserWith(raw, SHARED_INITIAL);
  const log = new StoreLog(raw, browser.records);
  const engine = createSessionEngine({
    iron: scheduledIron(sharedIron, s, delayUnseal),
    now: () => NOW,
  });
  const cookie = browser.jar.header();
  const arrived: string[] = [];
  const runs = requests.map((ops, at) =>
    startRequest(s, engine, raw, log, `r${at + 1}`, ops, cookie, browser.session),
  );
  const responses = runs.map(async (run) => {
    await run.handler.done;
    await s.schedule(Promise.resolve(), `${run.label} responds`);
    run.request.send();
    browser.jar.apply(run.request.setCookies());
    arrived.push(run.label);
  });
  const all = Promise.all([...responses, beside?.(raw, log, browser)]);
  await within(s.waitFor(all), HANG_MS, 'the parallel requests');
  await s.waitIdle();
  await log.settled();
  return { raw, log, browser, requests: runs, arrived };
}

/** The tokens a run's responses left, each response's own (none when it set none). */
function responseTokens(run: ParallelRun): string[] {
  const tokens: string[] = [];
  for (const request of run.requests) {
    const outcome = sessionCookieIn(request.request.setCookies());
    if (outcome.kind === 'token') tokens.push(outcome.token);
  }
  return tokens;
}

/** Whether any request's calls ended the initial session's id (clear, regenerate, id change). */
const endsSession = (op: Op): boolean =>
  op.kind === 'clear' || op.kind === 'regenerate' || op.kind === 'sign-out';

describe('store-mode races across parallel requests of one session (fast-check scheduler, store calls scheduled)', () => {
  const requestsOf = (weights: OpWeights) =>
    fc
      .integer({ min: 2, max: 4 })
      .chain((count) =>
        fc.tuple(...Array.from({ length: count }, (_, at) => opsOf(weights, ownKeys(at + 1), 6))),
      );

  it('no write after a clear: once a clear of any request resolved, no session that request had or handed out has a record, and no parallel write recreates one', async () => {
    const weights: OpWeights = { ...PARALLEL, clear: 2, regenerate: 1 };
    const scenario = fc.record({ requests: requestsOf(weights), delayUnseal: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenario, async (s, { requests, delayUnseal }) => {
        const run = await runParallel(s, requests, delayUnseal);
        for (const request of run.requests) {
          await expectNoWriteAfterClear(request, run.log, run.browser.id);
        }
        // The initial session's record, once gone, never comes back.
        const id = run.browser.id!;
        let gone = 0;
        while (gone <= run.log.moment() && run.log.existsAt(id, gone)) gone++;
        expect(
          run.log.existingFrom(id, gone),
          'the initial session, once its record was gone',
        ).toBeUndefined();
      }),
      PARAMETERS,
    );
  });

  it('no lost key: parallel requests changing different top-level keys each keep every key their successful updates wrote, in the final record', async () => {
    const weights: OpWeights = { ...PARALLEL, clear: 1, regenerate: 1 };
    const scenario = fc.record({ requests: requestsOf(weights), delayUnseal: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenario, async (s, { requests, delayUnseal }) => {
        const run = await runParallel(s, requests, delayUnseal);
        const id = run.browser.id!;
        const ended = run.requests.some((request) => request.ops.some(endsSession));
        const record = await recordIn(run.raw, id);
        if (ended) {
          // A clear or a regenerate ended the session: the keys go with it ("a revocation
          // came after"), and its record is gone for good.
          expect(record, 'the record of the ended session').toBeUndefined();
          return;
        }
        let data: Data = { ...SHARED_INITIAL.data };
        let flash: Flash = { ...SHARED_INITIAL.flash };
        for (const [at, request] of run.requests.entries()) {
          const keys = ownKeys(at + 1);
          expectOutcomesMatch(request, [...keys.data, ...keys.flash], false);
          expectNothingReported(request, false, []);
          data = { ...data, ...pick(request.expected.data, keys.data) };
          flash = { ...flash, ...pick(request.expected.flash, keys.flash) };
        }
        expect(record, 'the final record').toEqual({ data, flash });
        const next = await nextRequestReads(run.raw, run.browser.jar.header());
        expect({ id: next.id, data: next.data }, 'what the next request reads').toEqual({
          id,
          data,
        });
      }),
      PARAMETERS,
    );
  });

  it('a flash set once is taken once: of parallel requests (and the requests that follow each response), exactly one takeFlash returns it', async () => {
    const weights: OpWeights = {
      'take-flash': 4,
      'update-object': 2,
      'update-function': 1,
      regenerate: 1,
      flash: 1,
      'get-session': 1,
      'use-session': 1,
    };
    // Each request takes the initial `notice` and its own flash key, and sets only its own:
    // a value set over another under the same key replaces it, which is no double read.
    const requestOps = (at: number): fc.Arbitrary<Op[]> => {
      const own = ownKeys(at + 1);
      return opsOf(weights, { data: own.data, flash: ['notice', ...own.flash] }, 5).map((ops) => [
        ...ops.map((op) => (op.kind === 'flash' ? { ...op, key: own.flash[0]! } : op)),
        { kind: 'take-flash' as const, key: 'notice', awaited: false },
      ]);
    };
    const scenario = fc.record({
      requests: fc
        .integer({ min: 2, max: 4 })
        .chain((count) => fc.tuple(...Array.from({ length: count }, (_, at) => requestOps(at)))),
      delayUnseal: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenario, async (s, { requests, delayUnseal }) => {
        const run = await runParallel(s, requests, delayUnseal);
        const reads: string[] = [];
        for (const request of run.requests) {
          for (const [index, op] of request.ops.entries()) {
            const value = request.handler.outcomes[index]!.value;
            if (op.kind === 'take-flash' && typeof value === 'string')
              reads.push(`${request.label}: ${value}`);
          }
        }
        // The browser may keep any response's cookie: a request after each takes what is left.
        const cookies = [
          run.browser.jar.header(),
          ...responseTokens(run).map((t) => `${NAME}=${t}`),
        ];
        const config: SessionConfig = {
          password: PASSWORD,
          maxAge: MAX_AGE_S,
          store: run.raw,
          userKey: userOf,
        };
        for (const [at, cookie] of cookies.entries()) {
          const { request } = storeRequest(cookie);
          for (const key of ['notice', 'f1', 'f2', 'f3', 'f4']) {
            const value = await plainEngine.takeFlash(request, config, key);
            if (typeof value === 'string') reads.push(`next request ${at}: ${value}`);
          }
        }
        const values = reads.map((read) => read.slice(read.indexOf(': ') + 2));
        expect(values.length, `flash values read: ${reads.join(', ')}`).toBe(new Set(values).size);
        expect(
          reads.filter((read) => read.endsWith(': initial:notice')),
          'the initial flash',
        ).toHaveLength(1);
      }),
      PARAMETERS,
    );
  });

  it('a revoked session is never readable again: once revokeSession or revokeUserSessions resolved, its record never comes back, no request started after sees its data, and no session holding its data is made', async () => {
    const weights: OpWeights = { ...PARALLEL, regenerate: 1 };
    const scenario = fc.record({
      requests: requestsOf(weights),
      everywhere: fc.boolean(),
      late: opsOf(weights, ownKeys(9), 3),
      delayUnseal: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        scenario,
        async (s, { requests, everywhere, late, delayUnseal }) => {
          let revokedAt = -1;
          let appliedAt = -1;
          let lateRun: RequestRun | undefined;
          const run = await runParallel(s, requests, delayUnseal, async (raw, log, browser) => {
            const id = browser.id!;
            // Read before any response arrived: the cookie of the revoked session.
            const revokedCookie = browser.jar.header();
            const revoker = runConfig('revoker', scheduledStore(raw, s, log, 'revoker'));
            await s.schedule(Promise.resolve(), 'the revocation starts');
            if (everywhere) await plainEngine.revokeUserSessions(revoker.config, USER);
            else await plainEngine.revokeSession(revoker.config, id);
            revokedAt = log.moment();
            appliedAt = log.applied.findIndex((entry) => entry.who === 'revoker');
            // A request that starts once the revocation resolved, carrying the revoked session's cookie.
            const engine = createSessionEngine({
              iron: scheduledIron(sharedIron, s, delayUnseal),
              now: () => NOW,
            });
            lateRun = startRequest(s, engine, raw, log, 'late', late, revokedCookie, {
              data: {},
              flash: {},
            });
            await lateRun.handler.done;
          });
          const id = run.browser.id!;
          expect(revokedAt, 'the revocation resolved').toBeGreaterThanOrEqual(0);
          expect(
            run.log.existingFrom(id, revokedAt),
            'the record of the revoked session, once the revocation resolved',
          ).toBeUndefined();
          // A record holding the session's data made once the revocation applied (a request
          // that had read it, moving it to a new id) does not outlive the run, and no request
          // after any response reads the data from it.
          const copies = run.log.applied
            .slice(appliedAt)
            .filter(
              (e) =>
                e.method === 'write' &&
                e.result === true &&
                (e.args[1] as StoreChange).set['secret'] !== undefined,
            );
          for (const copy of copies) {
            expect(
              await recordIn(run.raw, copy.key),
              `${copy.who} made ${copy.key} with the data of the revoked session`,
            ).toBeUndefined();
          }
          // The late request never saw the session.
          for (const outcome of lateRun!.handler.outcomes) {
            if (outcome.snapshot !== undefined)
              expect(outcome.snapshot.data['secret'], 'the late request').toBeUndefined();
          }
          // A request after each response: none reads the data, unless (revoking one session)
          // the response's session moved off the revoked id before the revocation applied.
          const movedBefore = new Set(
            run.log.applied
              .slice(0, appliedAt)
              .filter((e) => e.method === 'write' && e.result === true && e.key !== id)
              .map((e) => e.key),
          );
          for (const token of responseTokens(run)) {
            const { ref } = await referenceIn(token);
            if (!everywhere && movedBefore.has(ref)) continue;
            const next = await nextRequestReads(run.raw, `${NAME}=${token}`);
            expect(
              next.data['secret'],
              `a request after the revocation, carrying ${ref}`,
            ).toBeUndefined();
          }
        },
      ),
      PARAMETERS,
    );
  });
});

// ---------------------------------------------------------------------------------------
// The smallest cases of the races the properties found, replayed without the scheduler.

/**
 * `raw` whose calls of `method` wait until `open()` is called (each then applied and
 * answered by the real store): a test holds a call in flight while the request goes on.
 */
function gatedStore(raw: SessionStore, gated: string): { store: SessionStore; open: () => void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const methods = raw as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const store: Record<string, unknown> = { kind: raw.kind, timeout: undefined };
  for (const method of methodsOf(raw)) {
    store[method] = (...args: unknown[]): Promise<unknown> =>
      method === gated
        ? gate.then(() => methods[method]!.apply(raw, args))
        : methods[method]!.apply(raw, args);
  }
  return {
    store: store as unknown as SessionStore,
    open: () => {
      open();
    },
  };
}

/** A few turns of the event loop: whatever was started gets as far as it can. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('store-mode races: the cases the properties found', () => {
  const engine = createSessionEngine({ iron: sharedIron, now: () => NOW });
  const configOver = (store: SessionStore, extra: Partial<SessionConfig> = {}): SessionConfig => ({
    password: PASSWORD,
    maxAge: MAX_AGE_S,
    store,
    userKey: userOf,
    ...extra,
  });
  /** A stored session of `data` (and `flash`) in `raw`, and the cookie a browser holds for it. */
  async function storedSession(
    raw: SessionStore,
    data: Data,
    flash: Flash = {},
  ): Promise<{ id: string; cookie: string }> {
    const browser = await browserWith(raw, { start: 'stored', data, flash });
    return { id: browser.id!, cookie: browser.jar.header()! };
  }
  const outcomeOf = (work: Promise<unknown>): Promise<string> =>
    work.then(
      () => 'resolved',
      (error: unknown) => reasonOf(error),
    );

  it("a clear called while the first write of a new session is in flight leaves no record of it (the write's token must not open its data)", async () => {
    const raw = memoryStore({ now: () => NOW });
    const gated = gatedStore(raw, 'write');
    const config = configOver(gated.store, { generateId: () => 'first' });
    const { request } = storeRequest(undefined);
    // A token of the session handed out first (sealSession), as a client of the header would get.
    const token = await engine.sealSession(request, config);
    const updating = engine.updateSession(request, config, { secret: 'before the clear' });
    await settle();
    const clearing = engine.clearSession(request, config);
    gated.open();
    await Promise.all([updating, clearing]);

    expect(await recordIn(raw, 'first'), 'the record once the clear resolved').toBeUndefined();
    const opened = await engine.unsealSession(configOver(raw), token);
    expect(opened.data, 'what the token handed out before the clear opens').toEqual({});
  });

  it('a session revoked while a request that read it runs is not made again by its regenerate', async () => {
    const raw = memoryStore({ now: () => NOW });
    const config = configOver(raw);
    const { cookie } = await storedSession(raw, { user: USER, secret: SECRET });
    const request = storeRequest(cookie);
    await engine.getSession(request.request, config);

    await engine.revokeUserSessions(config, USER);
    const regenerated = await outcomeOf(engine.regenerateSession(request.request, config));

    expect(regenerated, 'the regenerate of a revoked session').toBe('ERR_SESSION_REVOKED');
    const left = sessionCookieIn(request.setCookies());
    const next = await nextRequestReads(
      raw,
      left.kind === 'token' ? `${NAME}=${left.token}` : cookie,
    );
    expect(next.data, 'what the next request reads after "sign out everywhere"').toEqual({});
  });

  it('a session revoked while a request that read it runs is not made again by a sign-in (a new id)', async () => {
    const raw = memoryStore({ now: () => NOW });
    const config = configOver(raw);
    const { id, cookie } = await storedSession(raw, { secret: SECRET });
    const request = storeRequest(cookie);
    await engine.getSession(request.request, config);

    await engine.revokeSession(config, id);
    const signedIn = await outcomeOf(engine.updateSession(request.request, config, { user: USER }));

    expect(signedIn, 'the sign-in of a revoked session').toBe('ERR_SESSION_REVOKED');
    expect(await engine.listSessions(config, USER), "the user's sessions").toEqual([]);
  });

  it('a flash taken by a parallel request is not copied into the record a regenerate makes', async () => {
    const raw = memoryStore({ now: () => NOW });
    const config = configOver(raw);
    const { cookie } = await storedSession(raw, { a: 1 }, { notice: 'initial:notice' });
    const first = storeRequest(cookie);
    const second = storeRequest(cookie);
    await engine.getSession(first.request, config);

    expect(await engine.takeFlash(second.request, config, 'notice')).toBe('initial:notice');
    await engine.regenerateSession(first.request, config);

    expect(
      await engine.takeFlash(first.request, config, 'notice'),
      'taken a second time',
    ).toBeUndefined();
  });

  it('a flash taken by a parallel request while a regenerate moves the record is not in the moved record', async () => {
    const raw = memoryStore({ now: () => NOW });
    const gated = gatedStore(raw, 'write');
    const { cookie } = await storedSession(raw, { a: 1 }, { notice: 'initial:notice' });
    const first = storeRequest(cookie);
    const second = storeRequest(cookie);
    await engine.getSession(first.request, configOver(gated.store));

    // The regenerate reads the record to move, and its write of the new id is in flight.
    const regenerating = engine.regenerateSession(first.request, configOver(gated.store));
    await settle();
    expect(await engine.takeFlash(second.request, configOver(raw), 'notice')).toBe(
      'initial:notice',
    );
    gated.open();
    await regenerating;

    expect(
      await engine.takeFlash(first.request, configOver(raw), 'notice'),
      'taken a second time, from the moved record',
    ).toBeUndefined();
  });

  it("a clear while the request's first read is loading does not report the request's own cookie as revoked", async () => {
    const raw = memoryStore({ now: () => NOW });
    const gated = gatedStore(raw, 'get');
    const invalid: string[] = [];
    const config = configOver(gated.store, {
      onInvalidToken: ({ error, source }) => invalid.push(`${source} ${error.code}`),
    });
    const { cookie } = await storedSession(raw, { a: 1 });
    const { request } = storeRequest(cookie);
    const reading = engine.getSession(request, config);
    await settle();
    const clearing = engine.clearSession(request, config);
    await settle();
    gated.open();
    await Promise.all([reading, clearing]);

    expect(invalid, 'refusals reported to onInvalidToken').toEqual([]);
  });
});
