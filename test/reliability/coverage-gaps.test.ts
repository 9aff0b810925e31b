/**
 * Branches of src/ no other suite reaches, each reached here through the public API where
 * one leads to it (what cannot be reached, or is not worth it, is listed with its reason
 * in UNCOVERED.md). Grouped by what they are about, not by file.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it, vi } from 'vitest';
import { toWebHandler } from '../../src/adapters/fetch.js';
import { sessionOf } from '../../src/adapters/express.js';
import { eventHandler, toNodeListener } from '../../src/adapters/node.js';
import { headersTransport, nodeTransport, setCookiesOf } from '../../src/host/transports.js';
import {
  clearSession,
  getSession,
  unsealSession,
  updateSession,
  type SessionConfig,
} from '../../src/index.js';
import { decodeBase64url } from '../../src/internal/base64url.js';
import { toPromise } from '../../src/internal/maybe-promise.js';
import { webBackend } from '../../src/iron/backend/web.js';
import { createIron, defaultLimits, type Iron } from '../../src/iron/create-iron.js';
import { seal, unseal } from '../../src/iron/index.js';
import { iron } from '../../src/iron/instance.js';
import { resolveConfig } from '../../src/session/config.js';
import { createRequestContext } from '../../src/session/request-state.js';
import { createSessionEngine } from '../../src/session/session-engine.js';
import { sessionEnd } from '../../src/session/token-codec.js';
import { cli } from './cli-in-process.js';
import { browserWith, gatedIron, memoryRequest, PASSWORD as JAR_PASSWORD } from './race-harness.js';

const PASSWORD = 'coverage-gaps-password-that-is-long-enough-0123';
const WITH_PASSWORD = { env: { SEALED_SESSION_PASSWORD: PASSWORD } };

/** One line on stderr, nothing on stdout, and the exit code. */
function expectFailure(
  result: { code: number; stdout: string; stderr: string },
  code: number,
  text: RegExp,
): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^sealed-session: [^\n]+\n$/);
  expect(result.stderr).toMatch(text);
}

describe('the bin, run in-process: usage errors name positions and options, never what was typed', () => {
  const usage: [string, readonly string[], RegExp][] = [
    ['no command', [], /no command given/],
    [
      'a word that is no command, far from any',
      ['frobnicate'],
      /unknown command in argument 1: one of/,
    ],
    ['a misspelt command', ['unsael'], /did you mean unseal\?/],
    ['help for an unknown topic', ['help', 'nope'], /unknown command in argument 2/],
    ['--help with a value', ['--help=yes'], /option --help takes no value/],
    ['--version with a value', ['--version=1'], /option --version takes no value/],
    ['an option before any command', ['--verbose'], /unknown option in argument 1/],
    ['a misspelt option before any command', ['--versoin'], /did you mean --version\?/],
    [
      'a password as an option',
      ['seal', '--password=hunter2'],
      /never taken as an argument \(argument 2\)/,
    ],
    ['a near-password option', ['seal', '--pasword'], /never taken as an argument/],
    ['a secret-like option', ['seal', '--secrt'], /never taken as an argument/],
    [
      'an unknown option of a command',
      ['unseal', '--jsno'],
      /unknown option in argument 2.*sealed-session unseal --help/,
    ],
    ['a flag given a value', ['inspect', '--json=yes'], /option --json takes no value/],
    ['a string option at the end', ['seal', '{}', '--ttl'], /option --ttl needs a value/],
    [
      'a string option followed by an option',
      ['seal', '--ttl', '--purpose', 'x'],
      /option --ttl needs a value/,
    ],
    ['a bad --ttl', ['seal', '{}', '--ttl=-5'], /--ttl takes a whole number/],
    [
      '--require-purpose alone',
      ['unseal', 'x', '--require-purpose'],
      /--require-purpose needs --purpose/,
    ],
    ['a bad --purpose', ['seal', '{}', '--purpose', ''], /ERR_CONFIG_INVALID/],
    ['two DATA arguments', ['seal', '{"a":', '1}'], /seal takes one DATA argument/],
    ['two TOKEN arguments', ['unseal', 'Fe26.2', 'x'], /unseal takes one TOKEN argument/],
    ['a bad --name for inspect', ['inspect', 'x', '--name', 'a b'], /--name takes a cookie name/],
    ['password with a bad --bytes', ['password', '--bytes', '8'], /--bytes takes a whole number/],
    ['password with an argument', ['password', 'extra'], /password takes no arguments/],
    [
      'both password sources',
      ['seal', '{}', '--password-env', 'A', '--password-file', 'f'],
      /either --password-env or --password-file/,
    ],
    [
      'a --password-env that is no variable name',
      ['seal', '{}', '--password-env', '1-A'],
      /takes the name of an environment variable/,
    ],
  ];
  it.each(usage)('%s: exit 2', async (_, argv, text) => {
    expectFailure(await cli(argv, WITH_PASSWORD), 2, text);
  });

  it('no password anywhere, or an empty or unreadable password file: exit 2', async () => {
    expectFailure(await cli(['seal', '{}']), 2, /no password: set SEALED_SESSION_PASSWORD/);
    expectFailure(
      await cli(['seal', '{}', '--password-env', 'MY_KEY']),
      2,
      /environment variable given to --password-env is not set/,
    );
    expectFailure(
      await cli(['seal', '{}', '--password-file', 'missing.key']),
      2,
      /cannot read the file given to --password-file \(ENOENT\)/,
    );
    expectFailure(
      await cli(['seal', '{}', '--password-file', 'odd.key'], { unreadable: ['odd.key'] }),
      2,
      /cannot read the file given to --password-file$/m,
    );
    expectFailure(
      await cli(['seal', '{}', '--password-file', 'empty.key'], { files: { 'empty.key': '\n' } }),
      2,
      /is empty/,
    );
  });

  it('nothing to read from an interactive stdin: exit 2, for DATA and for TOKEN', async () => {
    expectFailure(await cli(['seal'], { ...WITH_PASSWORD, terminal: true }), 2, /no DATA given/);
    expectFailure(await cli(['unseal'], { ...WITH_PASSWORD, terminal: true }), 2, /no TOKEN given/);
  });

  it('help and version go to stdout with exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['help', 'seal'], ['seal', '--help']]) {
      const result = await cli(argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: sealed-session/);
    }
    expect((await cli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('the bin, run in-process: seal, unseal, inspect and password', () => {
  it('seals from an argument and from stdin, unseals from stdin, with a password file', async () => {
    const files = { 'session.key': `${PASSWORD}\r\n` };
    const sealed = await cli(['seal', '{"user":"ada"}', '--password-file', 'session.key'], {
      files,
    });
    expect(sealed.code, sealed.stderr).toBe(0);
    const piped = await cli(['seal', '-', '--ttl', '60'], { ...WITH_PASSWORD, stdin: '[1,2]' });
    expect(piped.code, piped.stderr).toBe(0);

    const opened = await cli(['unseal', '--password-file', 'session.key'], {
      files,
      stdin: sealed.stdout,
    });
    expect(opened.code, opened.stderr).toBe(0);
    expect(JSON.parse(opened.stdout)).toEqual({ user: 'ada' });
    const list = await cli(['unseal', '-'], { ...WITH_PASSWORD, stdin: piped.stdout });
    expect(JSON.parse(list.stdout)).toEqual([1, 2]);
  });

  it('a rotation map, a --password-id and a password that only looks like JSON', async () => {
    const map = JSON.stringify({ 2: `${PASSWORD}-new`, 1: PASSWORD });
    const withMap = await cli(['seal', '{"n":1}'], { env: { SEALED_SESSION_PASSWORD: map } });
    expect(withMap.code, withMap.stderr).toBe(0);
    expect(withMap.stdout).toMatch(/^Fe26\.2\*2\*/);
    expectFailure(
      await cli(['seal', '{}', '--password-id', '3'], { env: { SEALED_SESSION_PASSWORD: map } }),
      2,
      /--password-id needs a plain password/,
    );
    const withId = await cli(['seal', '{}', '--password-id', 'k1'], WITH_PASSWORD);
    expect(withId.stdout).toMatch(/^Fe26\.2\*k1\*/);

    // Starts with "{" but is no JSON object: the text itself is the password.
    for (const text of [`{not json ${PASSWORD}`, `{"a":1}`.replace('}', `, ${PASSWORD}`)]) {
      const env = { SEALED_SESSION_PASSWORD: text };
      const token = await cli(['seal', '1'], { env });
      expect(token.code, token.stderr).toBe(0);
      expect((await cli(['unseal'], { env, stdin: token.stdout })).stdout.trim()).toBe('1');
    }
    // A JSON array is not a map either.
    const array = JSON.stringify([PASSWORD]);
    const sealedWithArray = await cli(['seal', '2'], { env: { SEALED_SESSION_PASSWORD: array } });
    expect(sealedWithArray.code, sealedWithArray.stderr).toBe(0);
  });

  it('purposes: bound on seal, checked on unseal, refused when absent if required', async () => {
    const bound = await cli(['seal', '{"a":1}', '--purpose', 'reset'], WITH_PASSWORD);
    expect(bound.code, bound.stderr).toBe(0);
    const again = await cli(
      ['seal', '{"a":1,"purpose":"reset"}', '--purpose', 'reset'],
      WITH_PASSWORD,
    );
    expect(again.code, again.stderr).toBe(0);
    expectFailure(
      await cli(['seal', '{"purpose":"other"}', '--purpose', 'reset'], WITH_PASSWORD),
      1,
      /ERR_PURPOSE_MISMATCH/,
    );
    expectFailure(
      await cli(['seal', '[1]', '--purpose', 'reset'], WITH_PASSWORD),
      1,
      /ERR_DATA_INVALID/,
    );
    expectFailure(
      await cli(['seal', '{oops'], WITH_PASSWORD),
      1,
      /ERR_DATA_INVALID: the data is not valid JSON/,
    );

    const ok = await cli(['unseal', '--purpose', 'reset'], {
      ...WITH_PASSWORD,
      stdin: bound.stdout,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expectFailure(
      await cli(['unseal', '--purpose', 'login'], { ...WITH_PASSWORD, stdin: bound.stdout }),
      1,
      /ERR_PURPOSE_MISMATCH/,
    );
    const plain = await cli(['seal', '7'], WITH_PASSWORD);
    const unbound = await cli(['unseal', '--purpose', 'reset'], {
      ...WITH_PASSWORD,
      stdin: plain.stdout,
    });
    expect(unbound.code, unbound.stderr).toBe(0);
    expectFailure(
      await cli(['unseal', '--purpose', 'reset', '--require-purpose'], {
        ...WITH_PASSWORD,
        stdin: plain.stdout,
      }),
      1,
      /ERR_PURPOSE_MISSING/,
    );
  });

  it('a token that does not open is exit 1 with the library code', async () => {
    expectFailure(await cli(['unseal', 'not-a-token'], WITH_PASSWORD), 1, /ERR_SEAL_INVALID/);
    expectFailure(await cli(['inspect', 'not-a-token']), 1, /ERR_SEAL_INVALID/);
  });

  it('inspect: text and JSON, salts present and absent, expirations past, future, none and beyond dates, cookies that fit and that do not', async () => {
    const now = Date.now();
    const withTtl = await seal({ a: 1 }, PASSWORD, { ttl: 60_000 });
    const text = await cli(['inspect', withTtl], { now });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/in the future/);
    expect(text.stdout).toMatch(/integrity salt\s+present/);
    expect(text.stdout).toMatch(/fits: /);
    const past = await cli(['inspect', withTtl, '--name', 'sid'], { now: now + 3_600_000 });
    expect(past.stdout).toMatch(/past: expired/);

    const bytes = await seal({ a: 1 }, new Uint8Array(32).fill(1));
    const noSalt = await cli(['inspect', '--json'], { stdin: `${bytes}\n` });
    const fields = JSON.parse(noSalt.stdout) as { expiration: unknown; encryptionSalt: unknown };
    expect(fields.expiration).toBeNull();
    expect(fields.encryptionSalt).toEqual({ present: false, length: 0 });
    expect((await cli(['inspect', bytes])).stdout).toMatch(/expiration\s+never/);
    expect((await cli(['inspect', bytes])).stdout).toMatch(/absent \(byte password/);

    const big = await seal({ big: 'x'.repeat(5000) }, PASSWORD);
    expect((await cli(['inspect', big])).stdout).toMatch(/does not fit/);

    // An expiration past what a Date can hold is shown in milliseconds.
    const parts = withTtl.split('*');
    parts[5] = '9000000000000000';
    const far = await cli(['inspect', parts.join('*')]);
    expect(far.code, far.stderr).toBe(0);
    expect(far.stdout).toMatch(/ms since the epoch/);
  });

  it("a failure that is neither the CLI's nor the library's is named, never quoted", async () => {
    expectFailure(
      await cli(['unseal'], { ...WITH_PASSWORD, stdinFailure: new TypeError('secret text') }),
      1,
      /^sealed-session: unexpected TypeError\n$/,
    );
    expectFailure(
      await cli(['unseal'], { ...WITH_PASSWORD, stdinFailure: 'secret text' }),
      1,
      /^sealed-session: unexpected failure\n$/,
    );
  });

  it('password: a --bytes that is no number is a usage error', async () => {
    expectFailure(await cli(['password', '--bytes', 'lots']), 2, /--bytes takes a whole number/);
  });

  it('password: the default size and a given one', async () => {
    expect((await cli(['password'])).stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await cli(['password', '--bytes', '64'])).stdout.trim()).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });
});

/** A Node-style response good enough for the node adapter and h3 1.x events. */
function fakeResponse(init: { headersSent?: boolean; writableEnded?: boolean } = {}) {
  const headers = new Map<string, unknown>();
  const res = {
    statusCode: 200,
    headersSent: init.headersSent ?? false,
    writableEnded: init.writableEnded ?? false,
    ended: false,
    body: undefined as unknown,
    setHeader(name: string, value: unknown) {
      headers.set(name.toLowerCase(), value);
      return res;
    },
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    hasHeader: (name: string) => headers.has(name.toLowerCase()),
    end(body?: unknown) {
      res.ended = true;
      res.body = body;
      return res;
    },
  };
  return res;
}

/** An h3 1.x-shaped event over a fake request and response. */
function h3v1Event(headers: Record<string, string | string[]> = {}, context?: unknown) {
  const res = fakeResponse();
  const event: Record<string, unknown> = { node: { req: { headers }, res } };
  if (context !== undefined) event['context'] = context;
  return { event, res };
}

const CONFIG: SessionConfig = { password: PASSWORD };

describe('configurations refused at the first call, each rule on its own', () => {
  const bad: [string, unknown][] = [
    ['no password', { password: '' }],
    ['a config that is no object', 'h3'],
    ['a seal that is no object', { password: PASSWORD, seal: 5 }],
    ['a chunkMaxLength of zero', { password: PASSWORD, cookie: { chunkMaxLength: 0 } }],
    ['an encode that is no function', { password: PASSWORD, cookie: { encode: 'base64' } }],
    ['a cookie that is no object', { password: PASSWORD, cookie: 'yes' }],
    ['an unknown sameSite', { password: PASSWORD, cookie: { sameSite: 'sometimes' } }],
    [
      'sameSite none without secure',
      { password: PASSWORD, cookie: { sameSite: 'none', secure: false } },
    ],
    ['a path with a space', { password: PASSWORD, cookie: { path: '/a b' } }],
    ['a domain with a semicolon', { password: PASSWORD, cookie: { domain: 'a;b' } }],
    ['a bad cookie name', { password: PASSWORD, name: 'a b' }],
    ['a legacySealFallback that is no boolean', { password: PASSWORD, legacySealFallback: 1 }],
    ['a sessionHeader that is no header name', { password: PASSWORD, sessionHeader: 'x y' }],
    ['a generateId that is no function', { password: PASSWORD, generateId: 'uuid' }],
    ['an onInvalidToken that is no function', { password: PASSWORD, onInvalidToken: true }],
    [
      'an acceptUnboundTokens that is no boolean',
      { password: PASSWORD, acceptUnboundTokens: 'no' },
    ],
    ['an onUnawaitedError that is no function', { password: PASSWORD, onUnawaitedError: 1 }],
    ['an empty purpose', { password: PASSWORD, purpose: '' }],
  ];
  it.each(bad)('%s', async (_, config) => {
    await expect(unsealSession(config as SessionConfig, 'x')).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_(CONFIG|PASSWORD)_INVALID$/) as unknown,
    });
  });

  it('sameSite none with secure, and a sessionHeader by name, are accepted', async () => {
    const config = {
      password: PASSWORD,
      cookie: { sameSite: 'none' as const, secure: true },
      sessionHeader: 'X-Session',
    };
    const { event } = h3v1Event();
    await expect(getSession(event as never, config)).resolves.toMatchObject({ data: {} });
  });

  it('a __Host- name with Secure, Path=/ and no Domain, and cookie options left undefined, are accepted', async () => {
    const config: SessionConfig = {
      password: PASSWORD,
      name: '__Host-sid',
      cookie: { domain: undefined, maxAge: undefined },
      seal: { ttl: undefined },
    };
    const { event, res } = h3v1Event();
    await updateSession(event as never, config, { a: 1 });
    expect(String((res.getHeader('set-cookie') as string[])[0])).toMatch(/^__Host-sid=/);
  });

  it('iron takes a key option left undefined as its default', async () => {
    // The types forbid it (exact optional properties); JavaScript callers may still do it.
    const options = { encryption: { iterations: undefined } } as never;
    const token = await seal({ a: 1 }, PASSWORD, options);
    expect(token).toMatch(/^Fe26\.2\*/);
  });

  it('iron refuses a minPasswordlength below 32', async () => {
    await expect(
      seal({ a: 1 }, PASSWORD, { encryption: { minPasswordlength: 8 } }),
    ).rejects.toMatchObject({ code: 'ERR_OPTIONS_INVALID' });
  });
});

describe('calls whose arguments throw something that is not an Error', () => {
  // A configuration proxy whose traps throw a string: the rejection is still an Error.
  const hostile = new Proxy(
    {},
    {
      has() {
        throw 'has trap'; // eslint-disable-line @typescript-eslint/only-throw-error
      },
      get() {
        throw 'get trap'; // eslint-disable-line @typescript-eslint/only-throw-error
      },
    },
  );

  it('an event-less call rejects with an Error', async () => {
    await expect(getSession(hostile as SessionConfig)).rejects.toThrow('has trap');
  });

  it('a configuration resolved in the engine rejects with an Error', async () => {
    const { event } = h3v1Event();
    await expect(getSession(event as never, hostile as SessionConfig)).rejects.toThrow('get trap');
  });

  it('toPromise turns a thrown string into an Error', async () => {
    await expect(
      toPromise(() => {
        throw 'plain'; // eslint-disable-line @typescript-eslint/only-throw-error
      }),
    ).rejects.toThrow('plain');
  });
});

describe('events: h3 1.x shapes, wrapped events and event-less calls', () => {
  it('an h3 1.x event without a context object still gets its session', async () => {
    const { event } = h3v1Event({}, 'not an object');
    const session = await getSession(event as never, CONFIG);
    expect(session.data).toEqual({});
  });

  it('a wrapped event: unrelated symbols are skipped, a $HTTPEvent that is no object is refused', async () => {
    const { event } = h3v1Event();
    const wrapped = { [Symbol('other')]: 1, [Symbol('$HTTPEvent')]: event };
    await expect(getSession(wrapped as never, CONFIG)).resolves.toMatchObject({ data: {} });
    const broken = { [Symbol('$HTTPEvent')]: 'no event' };
    await expect(getSession(broken as never, CONFIG)).rejects.toMatchObject({
      code: 'ERR_EVENT_UNSUPPORTED',
    });
  });

  it("an event-less call finds the framework's event through unctx, and refuses a non-object one", async () => {
    const runtime = globalThis as { __unctx__?: unknown; AsyncLocalStorage?: unknown };
    const { event } = h3v1Event();
    let current: unknown = event;
    runtime.__unctx__ = { get: () => ({ tryUse: () => ({ event: current }) }) };
    // A global AsyncLocalStorage (workerd's nodejs_als) is found before node:async_hooks.
    runtime.AsyncLocalStorage = AsyncLocalStorage;
    try {
      await expect(getSession(CONFIG)).resolves.toMatchObject({ data: {} });
      current = 'not an event';
      await expect(getSession(CONFIG)).rejects.toMatchObject({ code: 'ERR_EVENT_MISSING' });
    } finally {
      delete runtime.__unctx__;
      delete runtime.AsyncLocalStorage;
    }
  });

  it("a second copy of the package shares the first copy's request scope", async () => {
    const first = await import('../../src/host/request-scope.js');
    const request = createRequestContext(headersTransport(new Headers(), new Headers()));
    first.runInRequestScope(request, () => undefined);
    vi.resetModules();
    const second = await import('../../src/host/request-scope.js');
    expect(second).not.toBe(first);
    expect(second.runInRequestScope(request, () => second.scopedRequest())).toBe(request);
  });
});

describe('transports', () => {
  it("node: repeated request headers are joined, cookies with '; '", () => {
    const transport = nodeTransport(
      { headers: { cookie: ['a=1', 'b=2'], 'x-list': ['1', '2'] } },
      fakeResponse() as never,
    );
    expect(transport.getRequestHeader('cookie')).toBe('a=1; b=2');
    expect(transport.getRequestHeader('x-list')).toBe('1, 2');
  });

  it('node: a Set-Cookie the response holds as one string is kept', () => {
    const res = fakeResponse();
    res.setHeader('set-cookie', 'other=1; Path=/');
    expect(setCookiesOf(res as never)).toEqual(['other=1; Path=/']);
  });

  it('fetch headers: the response head counts as not sent unless told', () => {
    expect(headersTransport(new Headers(), new Headers()).headersSent()).toBe(false);
  });
});

describe('the node adapter', () => {
  function run(
    handler: Parameters<typeof toNodeListener>[0],
    init: { method?: string; url?: string; headersSent?: boolean; writableEnded?: boolean } = {},
    onError?: (error: unknown) => void,
  ) {
    const res = fakeResponse(init);
    const req = { headers: {}, method: init.method, url: init.url };
    const listener = toNodeListener(handler, onError === undefined ? {} : { onError });
    listener(req as never, res as never);
    return res;
  }

  it("an event's method and path, with Node's defaults when the request lacks them", async () => {
    const seen: string[] = [];
    const handler = eventHandler((event) => {
      seen.push(`${event.method} ${event.path}`);
      return 'ok';
    });
    run(handler);
    run(handler, { method: 'POST', url: '/x' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['GET /', 'POST /x']);
  });

  it('a failure after the head went out ends the response, or leaves an ended one alone', async () => {
    const errors: unknown[] = [];
    const fail = eventHandler(() => Promise.reject(new Error('late')));
    const open = run(fail, { headersSent: true }, (error) => errors.push(error));
    const ended = run(fail, { headersSent: true, writableEnded: true }, (error) =>
      errors.push(error),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(2);
    expect(open.ended).toBe(true);
    expect(ended.ended).toBe(false);
  });

  it('a synchronous handler that throws goes to console.error by default', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = run(
        eventHandler(() => {
          throw new Error('sync');
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(res.statusCode).toBe(500);
      expect(spy).toHaveBeenCalledOnce();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the fetch adapter', () => {
  it('a request header the event reads, and one it lacks', async () => {
    const handle = toWebHandler(
      eventHandler((event) => [
        event.getRequestHeader('x-a'),
        event.getRequestHeader('x-b') ?? null,
      ]),
    );
    const response = await handle(new Request('http://127.0.0.1/', { headers: { 'x-a': '1' } }));
    expect(await response.json()).toEqual(['1', null]);
  });

  it("a Response returned as is when the event set no header, and merged with the event's headers otherwise", async () => {
    const plain = new Response('plain');
    expect(await toWebHandler(eventHandler(() => plain))(new Request('http://127.0.0.1/'))).toBe(
      plain,
    );
    const handle = toWebHandler(
      eventHandler(async (event) => {
        event.setResponseHeader('x-extra', 'yes');
        await updateSession(event, CONFIG, { n: 1 });
        return new Response('merged', { headers: { 'set-cookie': 'other=1' } });
      }),
    );
    const merged = await handle(new Request('http://127.0.0.1/'));
    expect(merged.headers.get('x-extra')).toBe('yes');
    const names = merged.headers.getSetCookie().map((header) => header.split('=')[0]);
    expect(names.sort()).toEqual(['h3', 'other']);
  });

  it('an ArrayBuffer body, and a thrown error reported on console.error by default', async () => {
    const bytes = await toWebHandler(eventHandler(() => new Uint8Array([1, 2]).buffer))(
      new Request('http://127.0.0.1/'),
    );
    expect(new Uint8Array(await bytes.arrayBuffer())).toEqual(new Uint8Array([1, 2]));
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const failed = await toWebHandler(
        eventHandler(() => {
          throw new Error('boom');
        }),
      )(new Request('http://127.0.0.1/'));
      expect(failed.status).toBe(500);
      expect(spy).toHaveBeenCalledOnce();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('express: sessionOf outside the middleware', () => {
  it('is a clear error', () => {
    expect(() => sessionOf({ headers: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_EVENT_UNSUPPORTED' }) as Error,
    );
  });
});

describe('internal helpers the token grammar already guards', () => {
  it('base64url refuses a length of 4k+1 and characters outside its alphabet', () => {
    expect(decodeBase64url('abcde')).toBeUndefined();
    expect(decodeBase64url('ab*d')).toBeUndefined();
    expect(decodeBase64url('abé')).toBeUndefined();
  });
});

/** A request over an in-memory transport, for the engine's own API. */
function engineRequest(cookie?: string) {
  const request = memoryRequest(cookie);
  return { ...request, req: request.request };
}

/** `iron` whose seal fails with `error` while `failing()` says so. */
function failingSealIron(failing: () => Error | undefined, gate?: Promise<void>): Iron {
  const wrap =
    <A extends unknown[]>(seal: (...args: A) => Promise<string>) =>
    async (...args: A): Promise<string> => {
      await gate;
      const error = failing();
      if (error !== undefined) throw error;
      return seal(...args);
    };
  return {
    ...iron,
    seal: wrap((object: unknown, password, options) => iron.seal(object, password, options)),
    sealUntil: wrap((object: unknown, password, options, expiresAt: number) =>
      iron.sealUntil(object, password, options, expiresAt),
    ),
  };
}

describe('the session engine: data, failures and clears', () => {
  // The password of the sessions browserWith makes.
  const config: SessionConfig = { password: JAR_PASSWORD };

  it('an update with an own __proto__ key changes no prototype, and is refused as data', async () => {
    const engine = createSessionEngine({ iron, now: () => Date.now() });
    const { req } = engineRequest();
    const patch = JSON.parse('{"__proto__":{"admin":true},"n":1}') as Record<string, unknown>;
    await expect(engine.updateSession(req, config, patch)).rejects.toMatchObject({
      code: 'ERR_DATA_INVALID',
    });
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
    expect((await engine.getSession(req, config)).data).toEqual({});
  });

  it('a function update that deletes a key removes it from the data', async () => {
    const engine = createSessionEngine({ iron, now: () => Date.now() });
    const { req } = engineRequest();
    await engine.updateSession(req, config, { a: 1, b: 2 });
    const session = await engine.updateSession(req, config, (data) => {
      delete data['a'];
      return undefined;
    });
    expect(session.data).toEqual({ b: 2 });
  });

  it('an unseal failure that is not about the token fails the read, also after a clear', async () => {
    const token = (await browserWith({ data: { a: 1 }, flash: {} })).get('h3')!;
    const broken: Iron = {
      ...iron,
      unsealEager: () => {
        throw new Error('backend down');
      },
    };
    const engine = createSessionEngine({ iron: broken, now: () => Date.now() });
    await expect(engine.getSession(engineRequest(`h3=${token}`).req, config)).rejects.toThrow(
      'backend down',
    );

    const gated = gatedIron(broken);
    const later = createSessionEngine({ iron: gated.iron, now: () => Date.now() });
    const { req } = engineRequest(`h3=${token}`);
    const first = later.getSession(req, config);
    await later.clearSession(req, config);
    gated.open();
    await expect(first).rejects.toThrow('backend down');
    await expect(later.getSession(req, config)).resolves.toMatchObject({ data: {} });
  });

  it('an asynchronous unseal failure that is not about the token fails the read', async () => {
    const token = (await browserWith({ data: { a: 1 }, flash: {} })).get('h3')!;
    const gated = gatedIron({
      ...iron,
      unsealEager: () => {
        throw new Error('backend down');
      },
    });
    const engine = createSessionEngine({ iron: gated.iron, now: () => Date.now() });
    const { req } = engineRequest(`h3=${token}`);
    const reading = engine.getSession(req, config);
    gated.open();
    await expect(reading).rejects.toThrow('backend down');
  });

  it('a clear while a new session is being written: the read gives the session it loaded', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const engine = createSessionEngine({
      iron: failingSealIron(() => undefined, gate),
      now: () => Date.now(),
    });
    const { req } = engineRequest();
    const reading = engine.useSession(req, config);
    await new Promise((resolve) => setImmediate(resolve));
    const cleared = engine.clearSession(req, config);
    open();
    const [manager] = await Promise.all([reading, cleared]);
    expect(manager.id).toBeUndefined();
  });

  it('a regenerate that a clear overtakes while it seals keeps the session it had', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const engine = createSessionEngine({
      iron: failingSealIron(() => undefined, gate),
      now: () => Date.now(),
    });
    const { req } = engineRequest();
    const before = await engine.getSession(req, config);
    const regenerating = engine.regenerateSession(req, config);
    await new Promise((resolve) => setImmediate(resolve));
    const cleared = engine.clearSession(req, config);
    open();
    expect((await regenerating).id).toBe(before.id);
    await cleared;
  });

  it('a renewal that fails for another reason than a sent head is reported, and the read goes on', async () => {
    const oldToken = await seal(
      { id: 'old', createdAt: Date.now(), data: { a: 1 } },
      { id: '1', secret: PASSWORD },
    );
    const unawaited: unknown[] = [];
    const rotated: SessionConfig = {
      password: { 2: `${PASSWORD}-next`, 1: PASSWORD },
      onUnawaitedError: (error) => unawaited.push(error),
    };
    const engine = createSessionEngine({
      iron: failingSealIron(() => new Error('seal down')),
      now: () => Date.now(),
    });
    const session = await engine.getSession(engineRequest(`h3=${oldToken}`).req, rotated);
    expect(session.data).toEqual({ a: 1 });
    expect(unawaited).toEqual([new Error('seal down')]);
  });

  it('takeFlash whose write fails: the value leaves the request, unless a clear came meanwhile', async () => {
    const token = (await browserWith({ data: {}, flash: { notice: 'hi' } })).get('h3')!;
    let fail = true;
    const engine = createSessionEngine({
      iron: failingSealIron(() => (fail ? new Error('seal down') : undefined)),
      now: () => Date.now(),
    });
    const { req } = engineRequest(`h3=${token}`);
    await expect(engine.takeFlash(req, config, 'notice')).rejects.toThrow('seal down');
    fail = false;
    expect(await engine.takeFlash(req, config, 'notice')).toBeUndefined();

    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const clearing = createSessionEngine({
      iron: failingSealIron(() => new Error('seal down'), gate),
      now: () => Date.now(),
    });
    const second = engineRequest(`h3=${token}`);
    const taking = clearing.takeFlash(second.req, config, 'notice');
    // The clear comes while the takeFlash's seal waits at the gate.
    await new Promise((resolve) => setImmediate(resolve));
    const cleared = clearing.clearSession(second.req, config);
    open();
    await expect(taking).rejects.toThrow('seal down');
    await cleared;
    expect(second.req.sessions?.get('h3')?.flash).toBeUndefined();
  });
});

describe('tokens: sessions h3 sealed, legacy seals, cookies past the bounds', () => {
  it('a token without lastSeenAt (as h3 1.x seals it) counts idleness from createdAt', async () => {
    const token = await seal({ id: 'h3', createdAt: Date.now() - 1000, data: { a: 1 } }, PASSWORD);
    const { event } = h3v1Event({ cookie: `h3=${token}` });
    const session = await getSession(event as never, { password: PASSWORD, idleTimeout: 3600 });
    expect(session).toMatchObject({ id: 'h3', data: { a: 1 } });
    expect(sessionEnd(resolveConfig({ password: PASSWORD, idleTimeout: 10 }), session)).toBe(
      session.createdAt + 10_000,
    );
  });

  it('a legacy 1-iteration token opens twice, the second time from the cache of legacy tokens', async () => {
    const token = await seal({ id: 'old', createdAt: Date.now(), data: { a: 1 } }, PASSWORD);
    const config: SessionConfig = {
      password: PASSWORD,
      seal: { encryption: { iterations: 2 }, integrity: { iterations: 2 } },
    };
    await expect(unsealSession(config, token)).resolves.toMatchObject({ id: 'old' });
    await expect(unsealSession(config, token)).resolves.toMatchObject({ id: 'old' });
  });

  it('a session that needs more than 100 chunks, or a cookie whose attributes leave no room, is too large', async () => {
    const small: SessionConfig = { password: PASSWORD, cookie: { chunkMaxLength: 20 } };
    const { event } = h3v1Event();
    await expect(
      updateSession(event as never, small, { big: 'x'.repeat(3000) }),
    ).rejects.toMatchObject({ code: 'ERR_COOKIE_TOO_LARGE' });
    const longPath: SessionConfig = {
      password: PASSWORD,
      cookie: { path: `/${'p'.repeat(4090)}` },
    };
    const second = h3v1Event();
    await expect(updateSession(second.event as never, longPath, { a: 1 })).rejects.toMatchObject({
      code: 'ERR_COOKIE_TOO_LARGE',
    });
  });

  it('a clear deletes chunk cookies the request carries without their main cookie', async () => {
    const { event, res } = h3v1Event({ cookie: 'h3.1=abc; h3.2=def' });
    await clearSession(event as never, CONFIG);
    const names = (res.getHeader('set-cookie') as string[]).map((header) => header.split('=')[0]);
    expect(names).toEqual(['h3', 'h3.1', 'h3.2']);
  });

  it('a clear before any read deletes the cookie when the session header holds no valid token', async () => {
    const cookie = (await browserWith({ data: { a: 1 }, flash: {} })).get('h3')!;
    const { event, res } = h3v1Event({ cookie: `h3=${cookie}`, 'x-h3-session': 'not-a-token' });
    await clearSession(event as never, { password: JAR_PASSWORD });
    expect(String((res.getHeader('set-cookie') as string[])[0])).toMatch(/^h3=; Max-Age=0/);
  });

  it('two cookies of one name and no Path, from the event and from the Response, keep the later', async () => {
    const handle = toWebHandler(
      eventHandler((event) => {
        event.setResponseHeader('set-cookie', 'pref=1');
        return new Response('ok', { headers: { 'set-cookie': 'pref=2' } });
      }),
    );
    const response = await handle(new Request('http://127.0.0.1/'));
    expect(response.headers.getSetCookie()).toEqual(['pref=2']);
  });
});

describe('iron: byte secrets and many derivations at once', () => {
  it('a verified token unsealed again with a byte secret of another length is refused', async () => {
    const key = new Uint8Array(32).fill(3);
    const token = await seal({ a: 1 }, key);
    await expect(unseal(token, key)).resolves.toEqual({ a: 1 });
    await expect(unseal(token, key)).resolves.toEqual({ a: 1 });
    await expect(unseal(token, new Uint8Array(16).fill(3))).rejects.toMatchObject({
      code: 'ERR_PASSWORD_INVALID',
    });
  });

  it('past the derivations shared per secret, a derivation runs unshared (no clock: WebCrypto)', async () => {
    // Forged tokens with fresh MAC salts each need an asynchronous derivation (8192
    // iterations); with the limit raised, more run at once than are shared per secret (64).
    // A backend with a clock shares them all (the share of time bounds them instead).
    const derived = new Map<string, number>();
    const counted: typeof webBackend = {
      ...webBackend,
      deriveKey(...args) {
        derived.set(args[1], (derived.get(args[1]) ?? 0) + 1);
        return webBackend.deriveKey(...args);
      },
    };
    const web = createIron(counted, { ...defaultLimits, unverifiedDerivations: 128 });
    const options = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
    const fields = (await seal({ a: 1 }, PASSWORD, options)).split('*');
    const forged = Array.from({ length: 80 }, (_, index) => {
      const copy = [...fields];
      copy[6] = index.toString(16).padStart(64, '0');
      return copy.join('*');
    });
    // Each token twice at once: the second request joins the first one's derivation while
    // it is shared (the first 64), and derives again once past the map's bound.
    const results = await Promise.allSettled(
      [...forged, ...forged].map((token) => web.unseal(token, PASSWORD, options)),
    );
    for (const result of results) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { code: 'ERR_SEAL_UNSEAL_FAILED' },
      });
    }
    const perSalt = forged.map((token) => derived.get(token.split('*')[6]!));
    expect(perSalt).toEqual([
      ...Array<number>(defaultLimits.sharedDerivations).fill(1),
      ...Array<number>(80 - defaultLimits.sharedDerivations).fill(2),
    ]);
  });
});
