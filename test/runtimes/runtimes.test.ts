/**
 * Runtime conformance: the built package, imported by name under Bun, Deno and workerd
 * (and Node as the baseline), and bundled for the browser into headless Chromium (iron
 * only), passes the same iron checks, picks the expected crypto backend, and exchanges
 * tokens with Node in both directions.
 *
 * Needs dist/ (`npm test` builds first). Runs one runtime at a time: each is a process.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend as nodeBackend, seal, unseal } from '../../src/iron/index.js';
import { unsealSession } from '../../src/index.js';
import { assertBuilt, runners, type RuntimeName } from './runners.js';

const IRON_CONFORMANCE = fileURLToPath(new URL('./conformance/iron.js', import.meta.url));
const IRON_SUBJECT = 'sealed-session/iron';

/**
 * Checks conformance/iron.js runs when given Node's fixtures. Pinned, so a conformance
 * module that silently stops running some checks fails here.
 */
const EXPECTED_IRON_CHECKS = 26;

const RUNTIME_TIMEOUT_MS = 60_000;

/** The backend each runtime must resolve through the package's `#crypto-backend` import. */
const expectedBackend: Readonly<Record<RuntimeName, 'node' | 'web'>> = {
  node: 'node',
  bun: 'node', // the `node` condition; Bun implements node:crypto natively
  deno: 'node', // the `node` condition (Deno has no `deno` entry to match); node:crypto is native
  workerd: 'web', // the `workerd` condition
  chromium: 'web', // the `browser` condition, as a front-end bundler resolves it
};

/** What every conformance module reports (see conformance/checks.js). */
interface ConformanceResult {
  passed: number;
  failed: number;
  failures: string[];
  skipped: string[];
  details: Record<string, string>;
  backend: string;
  runtime: string;
  runtimeToken: string;
}

/**
 * Narrows what a runtime returned, failing with the whole value when it has another shape;
 * `extra` matches the fields a module adds to the common ones.
 */
function asConformanceResult<T extends ConformanceResult>(
  value: unknown,
  extra: Record<Exclude<keyof T, keyof ConformanceResult>, unknown>,
): T {
  expect(value).toMatchObject({
    ...extra,
    passed: expect.any(Number) as unknown,
    failed: expect.any(Number) as unknown,
    failures: expect.any(Array) as unknown,
    backend: expect.any(String) as unknown,
    runtimeToken: expect.any(String) as unknown,
  });
  return value as T;
}

/** No check failed or was skipped; `details` names each failure's reason, so it is printed. */
function expectEveryCheckPassed(result: ConformanceResult): void {
  expect({ failures: result.failures, details: result.details }).toEqual({
    failures: [],
    details: {},
  });
  expect(result.failed).toBe(0);
  expect(result.skipped).toEqual([]);
}

interface IronConformanceResult extends ConformanceResult {
  runtimeObject: unknown;
}

interface NodeFixture {
  password: string;
  object: unknown;
  token: string;
  fixed: { object: unknown; salt: string; hmacSalt: string; iv: number[]; token: string };
}

let fixture: NodeFixture;

beforeAll(async () => {
  assertBuilt(IRON_SUBJECT);
  expect(nodeBackend).toBe('node');
  const password = 'password_sealed_by_node_for_the_runtimes_0123456789';
  const object = { sealedBy: 'node', when: Date.now(), data: { text: 'ünïcödé 😀', n: [1, 2, 3] } };
  const fixed = {
    object: { id: 'fixed', createdAt: 1700000000000, data: { a: 1 } },
    salt: 'a1'.repeat(32),
    hmacSalt: 'b2'.repeat(32),
    iv: Array.from({ length: 16 }, (_, i) => i * 13),
  };
  const fixedToken = await seal(fixed.object, password, {
    encryption: { salt: fixed.salt, iv: Uint8Array.from(fixed.iv) },
    integrity: { salt: fixed.hmacSalt },
  });
  fixture = {
    password,
    object,
    token: await seal(object, password),
    fixed: { ...fixed, token: fixedToken },
  };
});

describe('runtime conformance of sealed-session/iron (built package)', () => {
  for (const runtime of ['node', 'bun', 'deno', 'workerd', 'chromium'] as const) {
    it(
      `${runtime}: passes the iron checks with the ${expectedBackend[runtime]} backend and exchanges tokens with Node`,
      async () => {
        const run = await runners[runtime]({
          conformance: IRON_CONFORMANCE,
          subject: IRON_SUBJECT,
          input: { node: fixture },
        });
        const result = asConformanceResult<IronConformanceResult>(run.result, {
          runtimeObject: expect.any(Object) as unknown,
        });
        console.info(
          `[runtimes] ${runtime} (${result.runtime}): backend ${result.backend}, ` +
            `${result.passed} passed, ${result.failed} failed, ${Math.round(run.durationMs)} ms`,
        );

        expectEveryCheckPassed(result);
        expect(result.passed).toBeGreaterThanOrEqual(EXPECTED_IRON_CHECKS);
        expect(result.backend).toBe(expectedBackend[runtime]);

        // A token sealed in the runtime unseals in Node (node backend, fresh process cache).
        expect(result.runtimeToken.split('*')).toHaveLength(8);
        await expect(unseal(result.runtimeToken, fixture.password)).resolves.toEqual(
          result.runtimeObject,
        );
        expect(result.runtimeObject).toMatchObject({ sealedBy: expectedBackend[runtime] });
      },
      RUNTIME_TIMEOUT_MS,
    );
  }
});

// --- sealed-session/fetch: the session API on the Fetch adapter ----------------------------

const FETCH_CONFORMANCE = fileURLToPath(new URL('./conformance/fetch.js', import.meta.url));
// The iron entry only reports which crypto backend the session functions ran on.
const FETCH_SUBJECTS = ['sealed-session', 'sealed-session/fetch', 'sealed-session/iron'] as const;

/**
 * Checks conformance/fetch.js runs when given a Node-sealed session. Pinned (exactly), so a
 * check that silently stops running fails here.
 */
const EXPECTED_FETCH_CHECKS = 11;

interface FetchConformanceResult extends ConformanceResult {
  runtimeSession: { id: string; createdAt: number; data: Record<string, unknown> };
}

interface FetchFixture {
  password: string;
  token: string;
  session: { id: string; createdAt: number; data: Record<string, unknown> };
}

let fetchFixture: FetchFixture;

beforeAll(async () => {
  for (const subject of FETCH_SUBJECTS) assertBuilt(subject);
  const password = 'fetch_session_password_sealed_by_node_0123456789';
  const session = {
    id: 'node-sealed-session-id',
    createdAt: Date.now(),
    data: { sealedBy: 'node', text: 'ünïcödé 😀', list: [1, 2, 3] },
  };
  // Exactly what the session engine seals: { id, createdAt, data }.
  fetchFixture = { password, session, token: await seal(session, password) };
});

describe('runtime conformance of sealed-session/fetch with the session API (built package)', () => {
  for (const runtime of ['node', 'bun', 'deno', 'workerd'] as const) {
    it(
      `${runtime}: toWebHandler + useSession pass the session checks and exchange sessions with Node`,
      async () => {
        const run = await runners[runtime]({
          conformance: FETCH_CONFORMANCE,
          subject: FETCH_SUBJECTS,
          input: { node: fetchFixture },
        });
        const result = asConformanceResult<FetchConformanceResult>(run.result, {
          runtimeSession: expect.any(Object) as unknown,
        });
        console.info(
          `[runtimes] fetch ${runtime} (${result.runtime}): ${result.passed} passed, ` +
            `${result.failed} failed, backend ${result.backend}, ${Math.round(run.durationMs)} ms`,
        );

        expectEveryCheckPassed(result);
        expect(result.passed).toBe(EXPECTED_FETCH_CHECKS);
        expect(result.backend).toBe(expectedBackend[runtime]);

        // A session sealed in the runtime opens in Node with the same config.
        await expect(
          unsealSession(undefined, { password: fetchFixture.password }, result.runtimeToken),
        ).resolves.toEqual(result.runtimeSession);
        expect(result.runtimeSession.data).toEqual({ count: 1 });
      },
      RUNTIME_TIMEOUT_MS,
    );
  }
});

// --- Calls without the event inside toWebHandler --------------------------------------------

const EVENTLESS_CONFORMANCE = fileURLToPath(new URL('./conformance/eventless.js', import.meta.url));
const EVENTLESS_SUBJECTS = ['sealed-session', 'sealed-session/fetch', 'sealed-session/iron'];

interface EventlessCase {
  readonly runtime: 'node' | 'bun' | 'deno' | 'workerd';
  /** workerd's compatibility flags. */
  readonly flags?: readonly string[];
  /** The app puts node:async_hooks' AsyncLocalStorage on globalThis before any request. */
  readonly globalAsyncLocalStorage?: boolean;
  /** Whether event-less calls find the request ('scope') or reject ('missing'). */
  readonly expect: 'scope' | 'missing';
  /** How the runtime offers AsyncLocalStorage without an import, as the package finds it. */
  readonly storage: string;
  /** Checks the conformance module runs in this case. Pinned, so none silently stops. */
  readonly checks: number;
  readonly title: string;
}

const GET_BUILTIN = "process.getBuiltinModule('node:async_hooks')";

const eventlessCases: readonly EventlessCase[] = [
  { runtime: 'node', expect: 'scope', storage: GET_BUILTIN, checks: 9, title: 'node' },
  { runtime: 'bun', expect: 'scope', storage: GET_BUILTIN, checks: 9, title: 'bun' },
  { runtime: 'deno', expect: 'scope', storage: GET_BUILTIN, checks: 9, title: 'deno' },
  {
    runtime: 'workerd',
    flags: ['nodejs_compat'],
    expect: 'scope',
    storage: GET_BUILTIN,
    checks: 9,
    title: 'workerd with nodejs_compat',
  },
  {
    // nodejs_als makes node:async_hooks importable, but offers neither a global nor
    // `process`: the package, which imports nothing, finds no AsyncLocalStorage.
    runtime: 'workerd',
    flags: ['nodejs_als'],
    expect: 'missing',
    storage: 'none',
    checks: 8,
    title: 'workerd with nodejs_als alone',
  },
  {
    runtime: 'workerd',
    flags: ['nodejs_als'],
    globalAsyncLocalStorage: true,
    expect: 'scope',
    storage: 'globalThis.AsyncLocalStorage',
    checks: 9,
    title: 'workerd with nodejs_als and AsyncLocalStorage put on globalThis by the app',
  },
  {
    runtime: 'workerd',
    flags: [],
    expect: 'missing',
    storage: 'none',
    checks: 8,
    title: 'workerd without compatibility flags',
  },
];

interface EventlessConformanceResult extends ConformanceResult {
  storage: string;
}

describe('calls without the event inside toWebHandler (built package)', () => {
  beforeAll(() => {
    for (const subject of EVENTLESS_SUBJECTS) assertBuilt(subject);
  });

  for (const testCase of eventlessCases) {
    const outcome =
      testCase.expect === 'scope'
        ? 'event-less calls write, read back and clear a session'
        : 'event-less calls reject with ERR_EVENT_MISSING while the event form works';
    it(
      `${testCase.title}: ${outcome}`,
      async () => {
        const run = await runners[testCase.runtime]({
          conformance: EVENTLESS_CONFORMANCE,
          subject: EVENTLESS_SUBJECTS,
          input: {
            expect: testCase.expect,
            globalAsyncLocalStorage: testCase.globalAsyncLocalStorage === true,
          },
          ...(testCase.flags === undefined ? {} : { compatibilityFlags: testCase.flags }),
        });
        const result = asConformanceResult<EventlessConformanceResult>(run.result, {
          storage: expect.any(String) as unknown,
        });
        console.info(
          `[runtimes] event-less ${testCase.title} (${result.runtime}): storage ${result.storage}, ` +
            `${result.passed} passed, ${result.failed} failed, ${Math.round(run.durationMs)} ms`,
        );

        expectEveryCheckPassed(result);
        expect(result.passed).toBe(testCase.checks);
        expect(result.storage).toBe(testCase.storage);
        expect(result.backend).toBe(expectedBackend[testCase.runtime]);
        if (testCase.expect === 'scope') {
          // A session sealed by an event-less call opens in Node with the same password.
          const opened = await unsealSession(
            undefined,
            { password: 'eventless_conformance_password_of_32_chars_or_more' },
            result.runtimeToken,
          );
          expect(opened.data).toEqual({ value: 'here', count: 2 });
        } else {
          expect(result.runtimeToken).toBe('');
        }
      },
      RUNTIME_TIMEOUT_MS,
    );
  }
});
