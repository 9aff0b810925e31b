/**
 * The package as a user gets it: `npm pack`, installed into a scratch project, imported by
 * plain node under the default and the workerd export conditions, typechecked, and its
 * export names snapshotted so a rename shows in review.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const TIMEOUT = 120_000;

/**
 * Export names of every subpath. Update this object when the public surface changes on
 * purpose; an unintended rename or removal then fails here and shows in review.
 */
const EXPECTED_EXPORTS: Record<string, readonly string[]> = {
  '.': [
    'DEFAULT_COOKIE',
    'DEFAULT_NAME',
    'MIN_PASSWORD_LENGTH',
    'SessionError',
    'clearSession',
    'defineEventHandler',
    'eventHandler',
    'getSession',
    'isSessionError',
    'listSessions',
    'memoryStore',
    'regenerateSession',
    'revokeSession',
    'revokeUserSessions',
    'sealSession',
    'setFlash',
    'takeFlash',
    'unsealSession',
    'updateSession',
    'useSession',
  ],
  './iron': [
    'SessionError',
    'backend',
    'defaults',
    'inspectToken',
    'isSessionError',
    'seal',
    'setDerivationLimit',
    'unseal',
  ],
  './errors': ['SessionError', 'httpStatusOf', 'isSessionError'],
  './node': ['defineEventHandler', 'eventHandler', 'toNodeListener'],
  './fetch': ['defineEventHandler', 'eventHandler', 'toWebHandler'],
  './express': ['sessionMiddleware', 'sessionOf'],
  './hono': ['sessionMiddleware'],
  './redis': ['redisStore'],
  './unstorage': ['unstorageStore'],
};

const VECTOR_TOKEN =
  'Fe26.2**0cdd607945dd1dffb7da0b0bf5f1a7daa6218cbae14cac51dcbd91fb077aeb5b*aOZLCKLhCt0D5IU1qLTtYw*g0ilNDlQ3TsdFUqJCqAm9iL7Wa60H7eYcHL_5oP136TOJREkS3BzheDC1dlxz5oJ**05b8943049af490e913bbc3a2485bee2aaf7b823f4c41d0ff0b7c168371a3772*R8yscVdTBRMdsoVbdDiFmUL8zb-c3PQLGJn4Y8C-AqI';
const VECTOR_PASSWORD = 'some_not_random_password_that_is_also_long_enough';

let workdir = '';
let app = '';
let tarball = '';
let tarEntries: string[] = [];
let packedManifest: { version: string; exports: Record<string, unknown> } = {
  version: '',
  exports: {},
};

async function node(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [...args], {
    cwd: app,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return stdout;
}

/** A script run by node in the scratch project; prints one JSON line. */
const ROUND_TRIP = `
const iron = await import('sealed-session/iron');
const password = 'p'.repeat(32);
const token = await iron.seal({ a: 1, s: 'ü' }, password, { ttl: 60000 });
const value = await iron.unseal(token, password);
const vector = await iron.unseal(process.env.VECTOR_TOKEN, process.env.VECTOR_PASSWORD);
const foreign = process.env.FOREIGN_TOKEN ? await iron.unseal(process.env.FOREIGN_TOKEN, password) : null;
let code = null, branded = false;
try { await iron.unseal('not a token', password); } catch (error) {
  code = error.code; branded = iron.isSessionError(error);
}
console.log(JSON.stringify({ backend: iron.backend, token, value, vector, foreign, code, branded }));
`;

/** Store mode from the installed package: sign in, list, revoke everywhere, over HTTP. */
const STORE_ROUND_TRIP = `
import { createServer } from 'node:http';
import { createClient } from 'redis';
import { eventHandler, listSessions, revokeUserSessions, useSession } from 'sealed-session';
import { toNodeListener } from 'sealed-session/node';
import { redisStore } from 'sealed-session/redis';
const client = createClient({ url: 'redis://127.0.0.1:6379', disableOfflineQueue: true });
await client.connect();
const prefix = 'package-test:' + Math.random().toString(36).slice(2) + ':';
const config = {
  password: 'p'.repeat(32), maxAge: 600, cookie: { secure: false },
  store: redisStore({ client, prefix }), userKey: (data) => data.user,
};
const server = createServer(toNodeListener(eventHandler(async (event) => {
  const session = await useSession(event, config);
  if (event.path === '/login') await session.update({ user: 'ada' });
  return { user: session.data.user ?? null };
})));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = 'http://127.0.0.1:' + server.address().port;
const ask = async (path, cookie) => {
  const response = await fetch(base + path, { headers: cookie ? { cookie } : {} });
  const set = response.headers.getSetCookie()[0];
  return { body: await response.json(), cookie: set ? set.split(';')[0] : cookie };
};
const first = await ask('/');
const signedIn = await ask('/login', first.cookie);
const listed = (await listSessions(config, 'ada')).length;
const revoked = await revokeUserSessions(config, 'ada');
const afterRevoke = await ask('/', signedIn.cookie);
for (const key of await client.keys(prefix + '*')) await client.del(key);
server.close();
await client.quit();
console.log(JSON.stringify({
  first: first.body, signedIn: signedIn.body, listed, revoked, afterRevoke: afterRevoke.body,
}));
`;

interface RoundTrip {
  backend: string;
  token: string;
  value: unknown;
  vector: unknown;
  foreign: unknown;
  code: string | null;
  branded: boolean;
}

async function roundTrip(conditions: readonly string[], foreign = ''): Promise<RoundTrip> {
  const stdout = await node([...conditions, '--input-type=module', '-e', ROUND_TRIP], {
    VECTOR_TOKEN,
    VECTOR_PASSWORD,
    FOREIGN_TOKEN: foreign,
  });
  return JSON.parse(stdout.trim()) as RoundTrip;
}

beforeAll(async () => {
  // npm test builds first; a bare `vitest run` on a fresh checkout has no dist yet.
  if (!existsSync(join(ROOT, 'dist', 'iron', 'index.js'))) {
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: TIMEOUT });
  }
  workdir = await mkdtemp(join(tmpdir(), 'sealed-session-pack-'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', workdir],
    { cwd: ROOT, timeout: TIMEOUT },
  );
  const [info] = JSON.parse(stdout) as { filename: string }[];
  if (info === undefined) throw new Error('npm pack reported no tarball');
  tarball = join(workdir, info.filename);
  const listing = await run('tar', ['-tzf', tarball], { timeout: 30_000 });
  tarEntries = listing.stdout.split('\n').filter((line) => line !== '');
  const manifest = await run('tar', ['-xzOf', tarball, 'package/package.json'], {
    timeout: 30_000,
  });
  packedManifest = JSON.parse(manifest.stdout) as typeof packedManifest;

  app = join(workdir, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2),
  );
  // Only the tarball and its one dependency (cookie) are fetched; the cache usually has it.
  await run(
    'npm',
    ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { cwd: app, timeout: TIMEOUT },
  );
}, TIMEOUT * 3);

afterAll(async () => {
  if (workdir !== '') await rm(workdir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it(
    'plain node imports sealed-session/iron with the node backend and round-trips',
    async () => {
      const result = await roundTrip([]);
      expect(result.backend).toBe('node');
      expect(result.token.startsWith('Fe26.2**')).toBe(true);
      expect(result.value).toEqual({ a: 1, s: 'ü' });
      expect(result.vector).toEqual({ a: 1, b: 2, c: [3, 4, 5], d: { e: 'f' } });
      expect(result.code).toBe('ERR_SEAL_INVALID');
      expect(result.branded).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'under --conditions=workerd it uses the web backend and round-trips',
    async () => {
      const fromNode = await roundTrip([]);
      const result = await roundTrip(['--conditions=workerd'], fromNode.token);
      expect(result.backend).toBe('web');
      expect(result.value).toEqual({ a: 1, s: 'ü' });
      expect(result.vector).toEqual({ a: 1, b: 2, c: [3, 4, 5], d: { e: 'f' } });
      expect(result.foreign).toEqual({ a: 1, s: 'ü' });
      expect(result.code).toBe('ERR_SEAL_INVALID');
      expect(result.branded).toBe(true);
      // And back: a token the web backend sealed opens with the node backend.
      const back = await roundTrip([], result.token);
      expect(back.foreign).toEqual({ a: 1, s: 'ü' });
    },
    TIMEOUT,
  );

  it(
    'export names of every subpath match the expected snapshot',
    async () => {
      const subpaths = Object.keys(packedManifest.exports).filter(
        (subpath) => !subpath.endsWith('.json'),
      );
      expect(subpaths.length).toBeGreaterThan(0);
      const script = `
      const out = {};
      for (const subpath of JSON.parse(process.env.SUBPATHS)) {
        const specifier = subpath === '.' ? 'sealed-session' : 'sealed-session/' + subpath.slice(2);
        try {
          out[subpath] = Object.keys(await import(specifier)).sort();
        } catch (error) {
          out[subpath] = 'import failed: ' + (error.code ?? error.message);
        }
      }
      console.log(JSON.stringify(out));
    `;
      const stdout = await node(['--input-type=module', '-e', script], {
        SUBPATHS: JSON.stringify(subpaths),
      });
      const actual = JSON.parse(stdout.trim()) as Record<string, unknown>;
      const expected = Object.fromEntries(
        Object.entries(EXPECTED_EXPORTS).map(([key, names]) => [key, [...names].sort()]),
      );
      expect(actual).toEqual(expected);
    },
    TIMEOUT,
  );

  it('every subpath in exports points at files inside the tarball', () => {
    const missing: string[] = [];
    const visit = (subpath: string, target: unknown): void => {
      if (typeof target === 'string') {
        if (!tarEntries.includes(join('package', target))) missing.push(`${subpath} → ${target}`);
      } else if (typeof target === 'object' && target !== null) {
        for (const value of Object.values(target)) visit(subpath, value);
      }
    };
    for (const [subpath, target] of Object.entries(packedManifest.exports)) visit(subpath, target);
    expect(missing).toEqual([]);
  });

  it(
    'the types typecheck in a strict NodeNext project',
    async () => {
      await writeFile(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            noEmit: true,
            skipLibCheck: false,
            types: [],
          },
          files: ['usage.ts'],
        }),
      );
      await writeFile(
        join(app, 'usage.ts'),
        `import { seal, unseal, defaults, backend, isSessionError, SessionError } from 'sealed-session/iron';
import type { PasswordInput, SealOptionsInput } from 'sealed-session/iron';
import { SessionError as ErrorsSessionError, type SessionErrorCode } from 'sealed-session/errors';
import { SessionError as RootSessionError } from 'sealed-session';

const password: PasswordInput = { '1': 'a'.repeat(32), '2': { id: 'x', secret: new Uint8Array(32) } };
const options: SealOptionsInput = { ttl: 60_000, encryption: { algorithm: 'aes-128-ctr' } };
const which: 'node' | 'web' = backend;
const iterations: number = defaults.encryption.iterations;

export async function roundTrip(): Promise<unknown> {
  const token: string = await seal({ a: 1 }, password, options);
  try {
    return await unseal(token, password);
  } catch (error) {
    if (isSessionError(error, 'ERR_SEAL_EXPIRED')) {
      const code: SessionErrorCode = error.code;
      const name: 'SessionError' = error.name;
      return [code, name, which, iterations];
    }
    if (error instanceof SessionError || error instanceof ErrorsSessionError) throw error;
    if (error instanceof RootSessionError) throw error;
    throw new SessionError('ERR_CRYPTO', 'unexpected', { cause: error });
  }
}

// @ts-expect-error ttl is a number
const badOptions: SealOptionsInput = { ttl: '60' };
// @ts-expect-error not an iron algorithm
const badAlgorithm: SealOptionsInput = { encryption: { algorithm: 'aes-256-gcm' } };
// @ts-expect-error a password is not a number
const badPassword: PasswordInput = 42;
// @ts-expect-error not an error code
const badCode: SessionErrorCode = 'ERR_NOPE';
export { badOptions, badAlgorithm, badPassword, badCode };
`,
      );
      try {
        await run(TSC, ['-p', join(app, 'tsconfig.json')], { cwd: app, timeout: TIMEOUT });
      } catch (error) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        throw new Error(`tsc failed:\n${stdout}${stderr}`, { cause: error });
      }
    },
    TIMEOUT,
  );

  it(
    'the bin installs and runs: sealed-session seal | unseal round-trips',
    async () => {
      const bin = join(app, 'node_modules', '.bin', 'sealed-session');
      const env = { ...process.env, SEALED_SESSION_PASSWORD: 'p'.repeat(40) };
      const { stdout: version } = await run(bin, ['--version'], { cwd: app, env });
      expect(version.trim()).toBe(packedManifest.version);
      const { stdout: token } = await run(bin, ['seal', '{"user":"ada"}'], { cwd: app, env });
      const { stdout: data } = await run(bin, ['unseal', token.trim()], { cwd: app, env });
      expect(JSON.parse(data)).toEqual({ user: 'ada' });
    },
    TIMEOUT,
  );

  it('the root entry never loads a store client: redis and unstorage stay their own entries', async () => {
    // The static import graph of dist/index.js, followed through relative imports.
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = await readFile(join(app, 'node_modules', 'sealed-session', file), 'utf8');
      for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*from\s*'([^']+)'/g)) {
        const specifier = match[1]!;
        if (specifier.startsWith('.')) {
          await visit(join(file, '..', specifier));
        } else {
          external.add(specifier);
        }
      }
    };
    await visit('dist/index.js');
    // The walk follows the graph: the engine and the memory store are on it.
    expect(seen).toContain('dist/session/session-engine.js');
    expect(seen).toContain('dist/store/memory.js');
    expect([...seen].filter((file) => /store\/(redis|unstorage)/.test(file))).toEqual([]);
    expect([...external].filter((name) => /redis|unstorage/.test(name))).toEqual([]);
  });

  it(
    "store mode over Redis works from the installed package with the user's own client",
    async () => {
      // The client is the user's: installed next to the package, as an optional peer.
      await run(
        'npm',
        ['install', 'redis@^5', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
        { cwd: app, timeout: TIMEOUT },
      );
      const stdout = await node(['--input-type=module', '-e', STORE_ROUND_TRIP]);
      expect(JSON.parse(stdout.trim())).toEqual({
        first: { user: null },
        signedIn: { user: 'ada' },
        listed: 1,
        revoked: 1,
        afterRevoke: { user: null },
      });
    },
    TIMEOUT,
  );

  it('the tarball holds dist only: no src/, test/ or bench/ files', () => {
    expect(tarEntries).toContain('package/package.json');
    expect(tarEntries).toContain('package/dist/iron/index.js');
    expect(tarEntries).toContain('package/dist/iron/index.d.ts');
    const stray = tarEntries.filter((entry) =>
      /^package\/(src|test|bench|examples|\.tmp|node_modules)\/|\.tsbuildinfo$|\.test\.[jt]s$/.test(
        entry,
      ),
    );
    expect(stray).toEqual([]);
  });

  it('the installed package declares only cookie as a dependency', async () => {
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules', 'sealed-session', 'package.json'), 'utf8'),
    ) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['cookie']);
  });
});
