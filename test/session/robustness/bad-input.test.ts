/**
 * Bad input over real HTTP: a node:http server on 127.0.0.1 (our node adapter) whose handler
 * calls useSession gets well over a thousand requests with random and mutated `cookie` and
 * `x-h3-session` headers (random strings, a valid token with flipped characters,
 * truncations, extensions, `*` insertions, 20 KB values, unicode, percent-encodings,
 * duplicate cookies, empty and whitespace-only values, authentic tokens that hold no
 * session). Each must give a 200 with a fresh session (or the original one, when the
 * mutation left the very token the server issued), `onInvalidToken` once per refused
 * token, and nothing unhandled anywhere in the process.
 *
 * Reproducible: every random choice comes from one seed, printed at the start; set
 * BAD_INPUT_SEED=<n> to replay a run.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Buffer } from 'node:buffer';
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { parseCookie } from 'cookie';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventHandler,
  isSessionError,
  unsealSession,
  useSession,
  type SessionConfig,
  type SessionErrorCode,
} from '../../../src/index.js';
import { toNodeListener } from '../../../src/adapters/node.js';
import { seal } from '../../../src/iron/index.js';
import { listen, type RunningServer } from '../interop/harness.js';

const SEED = Number(process.env['BAD_INPUT_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));
const REQUESTS = 1_200;
const CONCURRENCY = 16;
const PASSWORD = 'robustness_password_of_at_least_32_characters_0123';
const OTHER_PASSWORD = 'a_different_password_also_32_characters_or_more';
const NAME = 'h3';
const HEADER = 'x-h3-session';
const VALID_DATA = { user: 'valid', n: 42, text: 'ünïcödé' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BASE64URL: readonly string[] = Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
);

/** The codes that mean "not a usable session token" (what onInvalidToken may report). */
const TOKEN_CODES: ReadonlySet<SessionErrorCode> = new Set<SessionErrorCode>([
  'ERR_SEAL_INVALID',
  'ERR_SEAL_UNSEAL_FAILED',
  'ERR_SEAL_EXPIRED',
  'ERR_PASSWORD_NOT_FOUND',
  'ERR_DATA_INVALID',
  'ERR_SESSION_EXPIRED',
  'ERR_COOKIE_INVALID',
  'ERR_COOKIE_TOO_LARGE',
  'ERR_COOKIE_DUPLICATE',
  'ERR_PURPOSE_MISMATCH',
  'ERR_PURPOSE_MISSING',
  'ERR_DERIVATION_LIMIT',
]);

console.info(`[bad-input] seed ${SEED} (replay with BAD_INPUT_SEED=${SEED})`);

/** mulberry32: a tiny seeded PRNG, so every mutation is replayable from SEED. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rejected {
  readonly source: string;
  readonly code: string;
  readonly branded: boolean;
}

interface Answer {
  readonly id: string | undefined;
  readonly data: Record<string, unknown>;
  readonly rejections: Rejected[];
}

/** Per request: where onInvalidToken reports go (the callback has no event argument). */
const requestRejections = new AsyncLocalStorage<Rejected[]>();
const strayRejections: unknown[] = [];

const config: SessionConfig = {
  password: PASSWORD,
  name: NAME,
  onInvalidToken: ({ error, source }) => {
    const list = requestRejections.getStore();
    const entry = { source, code: error.code, branded: isSessionError(error) };
    if (list === undefined) strayRejections.push(entry);
    else list.push(entry);
  },
};

const handlerErrors: unknown[] = [];
const clientErrors: unknown[] = [];
const unhandledRejections: unknown[] = [];
const uncaughtExceptions: unknown[] = [];
const onUnhandledRejection = (reason: unknown): void => {
  unhandledRejections.push(reason);
};
const onUncaughtException = (error: unknown): void => {
  uncaughtExceptions.push(error);
};

let server: RunningServer;
let agent: Agent;
let validToken = '';
let validId = '';

/** The request headers of one case, as written on the wire (latin1 strings of bytes). */
interface Case {
  readonly kind: string;
  /** One value, or several `cookie` header lines. */
  readonly cookie?: string | readonly string[];
  readonly header?: string;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly setCookie: readonly string[];
}

function send(path: string, headers: OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.origin}${path}`,
      { method: 'GET', agent, headers, maxHeaderSize: 64 * 1024 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            setCookie: res.headers['set-cookie'] ?? [],
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A string as header bytes: UTF-8 encoded, then read back as latin1 so node:http writes
 * those very bytes; bytes HTTP forbids in a field value (controls but tab, DEL) become '?'.
 */
function wire(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += (byte < 0x20 && byte !== 0x09) || byte === 0x7f ? '?' : String.fromCharCode(byte);
  }
  return out;
}

/** What the server sees of a field value: HTTP strips leading and trailing spaces and tabs. */
function seen(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The rejections and outcome the engine must produce for `c` (header first, then cookie). */
function expectationOf(c: Case): { valid: boolean; rejections: string[] } {
  const rejections: string[] = [];
  if (c.header !== undefined) {
    const header = seen(c.header);
    if (header === validToken) return { valid: true, rejections };
    if (header !== '') rejections.push('header');
  }
  if (c.cookie !== undefined) {
    // Node joins repeated Cookie lines with "; "; the first `h3` pair counts (RFC 6265 §5.4).
    const lines = typeof c.cookie === 'string' ? [c.cookie] : c.cookie;
    const joined = lines.map(seen).join('; ');
    const value = parseCookie(joined)[NAME];
    // A second `h3` pair is reported (a planted cookie may stand in front, even behind an
    // empty one), then the first is used.
    const pairs = joined
      .split(';')
      .filter((pair) => pair.includes('=') && pair.split('=')[0]!.trim() === NAME);
    if (pairs.length > 1) rejections.push('cookie');
    if (value === validToken) return { valid: true, rejections };
    if (value !== undefined && value !== '') rejections.push('cookie');
  }
  return { valid: false, rejections };
}

describe('bad cookies and session headers over HTTP (node adapter)', () => {
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandledRejection);
    process.on('uncaughtException', onUncaughtException);
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    server = await listen(
      toNodeListener(
        eventHandler((event) =>
          requestRejections.run([], async () => {
            const session = await useSession(event, config);
            if (event.path === '/init') await session.update(VALID_DATA);
            return {
              id: session.id,
              data: session.data,
              rejections: requestRejections.getStore(),
            };
          }),
        ),
        {
          onError: (error) => {
            handlerErrors.push(error);
          },
        },
      ),
      // Room for two 40 KB values: the engine, not node's 16 KB header limit, must refuse them.
      { maxHeaderSize: 128 * 1024 },
    );
    server.server.on('clientError', (error) => clientErrors.push(error));

    const init = await send('/init', {});
    expect(init.status).toBe(200);
    const cookie = init.setCookie.find((line) => line.startsWith(`${NAME}=`));
    expect(cookie).toBeDefined();
    validToken = decodeURIComponent(cookie!.slice(NAME.length + 1).split(';')[0]!);
    validId = (JSON.parse(init.body) as Answer).id!;
    expect(validId).toMatch(UUID);
  });

  afterAll(async () => {
    agent.destroy();
    await server.close();
    process.off('unhandledRejection', onUnhandledRejection);
    process.off('uncaughtException', onUncaughtException);
  });

  it(`${REQUESTS} random and mutated cookies and headers: all 200, fresh sessions, every refusal reported`, async () => {
    const random = prng(SEED);
    const int = (n: number): number => Math.floor(random() * n);
    const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;

    // fast-check draws the random strings, from the same seed.
    const strings = (arbitrary: fc.Arbitrary<string>, offset: number): string[] =>
      fc.sample(arbitrary, { seed: SEED + offset, numRuns: 200 });
    const pools = {
      printable: strings(fc.string({ maxLength: 300 }), 1),
      binary: strings(fc.string({ unit: 'binary', maxLength: 200 }), 2),
      grapheme: strings(fc.string({ unit: 'grapheme', maxLength: 60 }), 3),
      tokenish: strings(
        fc
          .array(fc.stringMatching(/^[\w\-.%*]{0,50}$/), { minLength: 7, maxLength: 9 })
          .map((fields) => ['Fe26.2', ...fields.slice(1)].join('*')),
        4,
      ),
    };
    const poolList = [pools.printable, pools.binary, pools.grapheme, pools.tokenish];
    const randomString = (): string => pick(pick(poolList));

    // Authentic Fe26.2 tokens under the right password that are not sessions, or expired,
    // or under another password: they pass the format check and fail later.
    const now = Date.now();
    const sealedJunk = await Promise.all([
      seal([1, 2, 3], PASSWORD),
      seal('a string', PASSWORD),
      seal(null, PASSWORD),
      seal({ id: '', createdAt: now, data: {} }, PASSWORD),
      seal({ id: 'x', createdAt: 'yesterday', data: {} }, PASSWORD),
      seal({ id: 'x', createdAt: now, data: [1] }, PASSWORD),
      seal({ id: 'x', createdAt: now }, PASSWORD),
      seal({ id: 7, createdAt: now, data: {} }, PASSWORD),
      seal({ id: 'x', createdAt: now, data: {} }, PASSWORD, {
        ttl: 1000,
        localtimeOffsetMsec: -120_000,
      }),
      seal({ id: 'x', createdAt: now, data: {} }, OTHER_PASSWORD),
      seal({ id: 'x', createdAt: now, data: {} }, { id: 'other', secret: OTHER_PASSWORD }),
      // (A token under the right secret with any password id is a valid session here: a
      // string password ignores the token's id, as in @hapi/iron. Not junk, so not listed.)
    ]);

    const T = validToken;
    const at = (): number => int(T.length + 1);
    const unicode = ['é', 'ü', '€', '😀', '\u2028', '\u0000', '\ud800', 'ℌ', '\u00a0', '𝔉'];

    /** A mutated token (sometimes, by chance, the token itself). */
    const mutations: readonly (readonly [string, () => string])[] = [
      [
        'flip',
        () => {
          const i = int(T.length);
          return T.slice(0, i) + pick([...BASE64URL, '*', '.']) + T.slice(i + 1);
        },
      ],
      [
        'flip-mac-end',
        () => T.slice(0, -1) + pick(BASE64URL), // the MAC's last character
      ],
      ['truncate', () => T.slice(0, int(T.length))],
      [
        'extend',
        () => T + Array.from({ length: 1 + int(40) }, () => pick([...BASE64URL, '*'])).join(''),
      ],
      [
        'star',
        () => {
          const i = at();
          return `${T.slice(0, i)}*${T.slice(i)}`;
        },
      ],
      [
        'huge',
        () =>
          pick([
            () => T + 'A'.repeat(40 * 1024 - T.length),
            () => 'x'.repeat(40 * 1024),
            () => `${T.slice(0, 100)}${'*'.repeat(40 * 1024)}`,
            () => (T + '*').repeat(Math.ceil((40 * 1024) / T.length)),
          ])(),
      ],
      [
        'unicode',
        () => {
          const i = at();
          return T.slice(0, i) + pick(unicode) + T.slice(i);
        },
      ],
      [
        'percent-encoded',
        () => {
          // Cookie values are URI-decoded: this decodes back to the token in a cookie.
          let out = '';
          for (const char of T) {
            out += random() < 0.1 ? `%${char.charCodeAt(0).toString(16).toUpperCase()}` : char;
          }
          return out;
        },
      ],
      [
        'bad-percent',
        () => {
          const i = at();
          return T.slice(0, i) + pick(['%', '%Z1', '%E0%A4%A', '%ED%A0%80', '%00']) + T.slice(i);
        },
      ],
      ['sealed-junk', () => pick(sealedJunk)],
      ['random', randomString],
      ['unchanged', () => T],
    ];
    const mutate = (): [string, string] => {
      const [kind, make] = pick(mutations);
      return [kind, make()];
    };

    /** Whole cases: where the mutated value goes, and what surrounds it. */
    const makers: readonly (() => Case)[] = [
      () => {
        const [kind, value] = mutate();
        return { kind: `cookie:${kind}`, cookie: wire(`${NAME}=${value}`) };
      },
      () => {
        const [kind, value] = mutate();
        return {
          kind: `cookie-among-others:${kind}`,
          cookie: wire(`a=1; ${randomString().replace(/[;=]/g, '')}=x; ${NAME}=${value}; b=2`),
        };
      },
      () => {
        const [kind, value] = mutate();
        return { kind: `header:${kind}`, header: wire(value) };
      },
      () => {
        const [kind, value] = mutate();
        // An invalid header must fall back to a valid cookie.
        return { kind: `header+valid-cookie:${kind}`, header: wire(value), cookie: `${NAME}=${T}` };
      },
      () => {
        const [kind, value] = mutate();
        return {
          kind: `header+cookie:${kind}`,
          header: wire(mutate()[1]),
          cookie: wire(`${NAME}=${value}`),
        };
      },
      () => {
        const [kind, value] = mutate();
        // Duplicate names: the first occurrence counts.
        return pick<Case>([
          { kind: `dup-first:${kind}`, cookie: wire(`${NAME}=${value}; ${NAME}=${T}`) },
          { kind: `dup-second:${kind}`, cookie: wire(`${NAME}=${T}; ${NAME}=${value}`) },
          { kind: `dup-lines:${kind}`, cookie: [wire(`${NAME}=${value}`), `${NAME}=${T}`] },
        ]);
      },
      () =>
        pick<Case>([
          { kind: 'empty:cookie-value', cookie: `${NAME}=` },
          { kind: 'empty:cookie-header', cookie: '' },
          { kind: 'empty:name-only', cookie: NAME },
          { kind: 'empty:equals', cookie: '=' },
          { kind: 'empty:semicolons', cookie: ';;; ;' },
          { kind: 'empty:header', header: '' },
          { kind: 'whitespace:cookie', cookie: `${NAME}=${' \t'.repeat(1 + int(5))}` },
          { kind: 'whitespace:cookie-then-valid', cookie: `${NAME}=   ; ${NAME}=${T}` },
          { kind: 'whitespace:header', header: '   \t ' },
          { kind: 'quoted', cookie: `${NAME}="${T}"` },
          { kind: 'spaces-around', cookie: `  ${NAME}  =  ${T}  ` },
        ]),
      () => ({ kind: 'random-cookie-header', cookie: wire(randomString()) }),
      () => ({ kind: 'random-both', cookie: wire(randomString()), header: wire(randomString()) }),
    ];

    // Every authentic-but-unusable token once in each place, then random cases: each
    // refusal stage is reached whatever the seed draws.
    const fixed: Case[] = sealedJunk.flatMap((token, i) => [
      { kind: `cookie:sealed-junk-${i}`, cookie: `${NAME}=${token}` },
      { kind: `header+valid-cookie:sealed-junk-${i}`, header: token, cookie: `${NAME}=${T}` },
    ]);
    for (const [kind, make] of mutations) {
      fixed.push({ kind: `cookie:${kind}`, cookie: wire(`${NAME}=${make()}`) });
      fixed.push({ kind: `header:${kind}`, header: wire(make()) });
    }
    const cases: Case[] = [
      ...fixed,
      ...Array.from({ length: REQUESTS - fixed.length }, () => pick(makers)()),
    ];
    const kinds = new Map<string, number>();
    for (const c of cases) {
      const family = c.kind.split(':')[0]!;
      kinds.set(family, (kinds.get(family) ?? 0) + 1);
    }

    const failures: string[] = [];
    const freshIds = new Set<string>();
    let validCount = 0;
    let rejectionCount = 0;
    const codes = new Map<string, number>();
    let next = 0;
    const started = performance.now();

    async function worker(): Promise<void> {
      while (next < cases.length) {
        const index = next++;
        const c = cases[index]!;
        const headers: OutgoingHttpHeaders = {};
        if (c.cookie !== undefined) headers['cookie'] = c.cookie as string | string[];
        if (c.header !== undefined) headers[HEADER] = c.header;
        const where = `case #${index} (${c.kind}, seed ${SEED})`;
        let reply: Reply;
        try {
          reply = await send('/', headers);
        } catch (error) {
          failures.push(`${where}: request failed: ${String(error)}`);
          continue;
        }
        if (reply.status !== 200) {
          failures.push(`${where}: status ${reply.status}: ${reply.body.slice(0, 200)}`);
          continue;
        }
        const answer = JSON.parse(reply.body) as Answer;
        const expected = expectationOf(c);
        const sources = answer.rejections.map((r) => r.source);
        if (JSON.stringify(sources) !== JSON.stringify(expected.rejections)) {
          failures.push(
            `${where}: onInvalidToken sources ${JSON.stringify(sources)}, expected ${JSON.stringify(expected.rejections)}`,
          );
        }
        for (const r of answer.rejections) {
          rejectionCount++;
          codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
          if (!r.branded || !TOKEN_CODES.has(r.code as SessionErrorCode)) {
            failures.push(`${where}: rejection ${JSON.stringify(r)} is not a token SessionError`);
          }
        }
        const cookieWritten = reply.setCookie.some((line) => line.startsWith(`${NAME}=`));
        if (expected.valid) {
          validCount++;
          if (answer.id !== validId || JSON.stringify(answer.data) !== JSON.stringify(VALID_DATA)) {
            failures.push(
              `${where}: the valid token was not honoured: ${reply.body.slice(0, 200)}`,
            );
          }
          if (cookieWritten) failures.push(`${where}: an unchanged session wrote a cookie`);
        } else {
          if (answer.id === validId || !UUID.test(answer.id ?? '')) {
            failures.push(`${where}: not a fresh session id: ${String(answer.id)}`);
          } else if (freshIds.has(answer.id!)) {
            failures.push(`${where}: fresh session id ${answer.id!} given twice`);
          } else {
            freshIds.add(answer.id!);
          }
          if (JSON.stringify(answer.data) !== '{}') {
            failures.push(`${where}: fresh session has data ${JSON.stringify(answer.data)}`);
          }
          if (!cookieWritten) failures.push(`${where}: the fresh session wrote no cookie`);
        }
      }
    }

    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    const elapsed = performance.now() - started;
    // Let any stray rejection surface before counting.
    await new Promise((resolve) => setTimeout(resolve, 50));

    console.info(
      `[bad-input] seed ${SEED}: ${cases.length} requests in ${Math.round(elapsed)} ms; ` +
        `${validCount} kept the valid session, ${freshIds.size} fresh, ` +
        `${rejectionCount} refusals reported ${JSON.stringify(Object.fromEntries(codes))}; ` +
        `by family ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
    expect(failures.slice(0, 20)).toEqual([]);
    expect(failures).toHaveLength(0);
    expect(freshIds.size + validCount).toBe(REQUESTS);
    // The mix really exercised both outcomes and many refusals.
    expect(validCount).toBeGreaterThan(0);
    expect(freshIds.size).toBeGreaterThan(REQUESTS / 2);
    expect(rejectionCount).toBeGreaterThan(REQUESTS / 2);
    // Every stage of the check refused something: duplicates, format, MAC, expiry, size, shape.
    expect([...codes.keys()].sort()).toEqual(
      expect.arrayContaining([
        'ERR_COOKIE_DUPLICATE',
        'ERR_COOKIE_INVALID',
        'ERR_COOKIE_TOO_LARGE',
        'ERR_SEAL_EXPIRED',
        'ERR_SEAL_INVALID',
        'ERR_SEAL_UNSEAL_FAILED',
      ]),
    );
    expect(handlerErrors).toEqual([]);
    expect(clientErrors).toEqual([]);
    expect(strayRejections).toEqual([]);
    expect(unhandledRejections).toEqual([]);
    expect(uncaughtExceptions).toEqual([]);
  }, 120_000);
});

describe('unsealSession on arbitrary strings', () => {
  const property = { seed: SEED, numRuns: 1_000 };

  it('only ever rejects, with a SessionError of a token code', async () => {
    const token = await seal({ id: 'the-id', createdAt: Date.now(), data: { a: 1 } }, PASSWORD);
    const mutated = fc
      .tuple(fc.nat({ max: token.length }), fc.nat({ max: token.length }), fc.string())
      .map(([from, to, insert]) =>
        from === 0 && to === token.length && insert === ''
          ? `${token}x`
          : token.slice(0, Math.min(from, to)) + insert + token.slice(Math.max(from, to)),
      );
    const arbitrary = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc
        .array(fc.string({ unit: 'binary', maxLength: 60 }), { minLength: 1, maxLength: 10 })
        .map((fields) => ['Fe26.2', ...fields].join('*')),
      mutated,
    );
    await fc.assert(
      fc.asyncProperty(arbitrary, async (text) => {
        fc.pre(text !== token);
        let error: unknown;
        try {
          await unsealSession(undefined, config, text);
        } catch (caught) {
          error = caught;
        }
        expect(error, `resolved for ${JSON.stringify(text.slice(0, 120))}`).toBeDefined();
        expect(isSessionError(error)).toBe(true);
        expect(TOKEN_CODES.has((error as { code: SessionErrorCode }).code)).toBe(true);
        expect((error as Error).name).toBe('SessionError');
      }),
      property,
    );
    // JavaScript callers can pass anything: still a SessionError, never a TypeError.
    const notStrings: unknown[] = [null, undefined, 123, {}, ['Fe26.2'], true];
    for (const value of notStrings) {
      await expect(
        unsealSession(undefined, config, value as string),
        `unsealSession(${value === undefined ? 'undefined' : JSON.stringify(value)})`,
      ).rejects.toMatchObject({ name: 'SessionError', code: 'ERR_SEAL_INVALID' });
    }
    // The unchanged token, for contrast, opens.
    await expect(unsealSession(undefined, config, token)).resolves.toMatchObject({
      id: 'the-id',
      data: { a: 1 },
    });
  });
});
