/**
 * The server under test of the reliability runs (test/reliability/flood.test.ts and
 * tools/soak.mjs): node:http with the node adapter and useSession, in a process of its own
 * so its heap, file descriptors and CPU time are its own. Started with `fork` (an IPC
 * channel) and `--expose-gc`; it listens on 127.0.0.1 and sends `{ ready, port }`.
 *
 *   GET /read        → the session (a new one when the request has none, with its cookie)
 *   GET /write       → data.count + 1
 *   GET /regenerate  → the same data under a new id
 *   GET /clear       → the session ended (every cookie and chunk deleted)
 *   GET /big?size=N  → data.big = N characters: a session too large for one cookie, so it
 *                      is written in chunks (h3 2.x's chunked cookies)
 * Each answers 200 with `{ id, count, big }` (big: the length of data.big, 0 without).
 *
 * IPC requests (`{ id, cmd }`), answered with `{ id, ... }`:
 *   sample → heap figures after two full GCs, open connections, CPU time, the counters
 *   reset  → zeroes the counters
 *   counters → the counters at once, without waiting for requests in flight
 *   snapshot (with `file`) → writes a heap snapshot there, after GC
 *
 * Cookie mode by default; with `--redis-url URL`, store mode: the sessions in Redis there
 * (`redisStore` over a node-redis client with the settings README recommends, under a
 * prefix of its own), a store failure answered 503 and counted as `unavailable`, and the
 * client's connection events counted under `redis`.
 *
 * The library is the repository's sources, bundled with esbuild into a temporary file
 * (`--library src`, the default: what the tests run), or the built package
 * (`--library dist`, after `npm run build`). `--iterations N` seals with N PBKDF2
 * iterations (h3 2.x uses 8192); without it, iron's defaults. `--derivation-limit N` sets
 * iron's limit on derivations for unverified tokens (default 16). `--max-seconds` (default two
 * hours) ends the process whatever happens, and so does losing the parent.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapCodeStatistics, writeHeapSnapshot } from 'node:v8';

const { values } = parseArgs({
  options: {
    library: { type: 'string', default: 'src' },
    iterations: { type: 'string', default: '0' },
    'derivation-limit': { type: 'string' },
    'redis-url': { type: 'string' },
    'max-seconds': { type: 'string', default: '7200' },
  },
});

const PASSWORD = 'reliability_password_of_at_least_32_characters';
const COOKIE_NAME = 'h3';

/**
 * @typedef {typeof import('sealed-session') & typeof import('sealed-session/node') &
 *   typeof import('sealed-session/redis') &
 *   Pick<typeof import('sealed-session/iron'), 'setDerivationLimit'>} Library
 */

/**
 * The library to test. The sources are bundled rather than built so that a run tests the
 * working tree, not whatever dist/ was last built from; the tree's tsconfig maps
 * `#crypto-backend` to the node backend's sources, as for the tests.
 *
 * @param {string} kind - 'src' or 'dist'
 * @returns {Promise<Library>}
 */
async function loadLibrary(kind) {
  if (kind === 'dist') {
    const main = await import('sealed-session');
    const node = await import('sealed-session/node');
    const redis = await import('sealed-session/redis');
    const { setDerivationLimit } = await import('sealed-session/iron');
    return { ...main, ...node, ...redis, setDerivationLimit };
  }
  if (kind !== 'src') throw new Error(`--library must be src or dist, not ${kind}`);
  const { build } = await import('esbuild');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sealed-session-reliability-'));
  const outfile = join(dir, 'library.mjs');
  try {
    await build({
      stdin: {
        contents:
          "export * from './src/index.ts';\nexport { toNodeListener } from './src/adapters/node.ts';\n" +
          "export { setDerivationLimit } from './src/iron/index.ts';\n" +
          "export { redisStore } from './src/store/redis.ts';\n",
        resolveDir: root,
        loader: 'ts',
      },
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
    });
    // The bundle has the same exports as the package's entry points it stands for.
    return /** @type {Library} */ (await import(pathToFileURL(outfile).href));
  } finally {
    // Loaded: the module lives on in memory, the file is not needed any more.
    rmSync(dir, { recursive: true, force: true });
  }
}

const library = await loadLibrary(/** @type {string} */ (values.library));
const iterations = Number(values.iterations);
if (values['derivation-limit'] !== undefined) {
  library.setDerivationLimit(Number(values['derivation-limit']));
}

/** What the parent reads through `sample`. */
const counters = {
  requests: 0,
  /** @type {Record<string, number>} */
  routes: {},
  /** onInvalidToken calls, by error code. @type {Record<string, number>} */
  rejections: {},
  /**
   * Requests that carried a cookie yet got a session without data: a refused token's fresh
   * session, or a session that never had data (the flood test's valid session has some).
   */
  emptyWithCookie: 0,
  handlerErrors: 0,
  /** Store mode: ERR_STORE_UNAVAILABLE, each answered 503 (not a handler error). */
  unavailable: 0,
  /** @type {string | undefined} */
  firstError: undefined,
  /** Store mode: the Redis client's connection events. */
  redis: { errors: 0, reconnecting: 0, ready: 0 },
};

/**
 * Store mode's store: a node-redis client with the settings README gives for a server (a
 * command fails at once while the connection is down, so no request waits for a reconnect
 * past the store's deadline; a connection attempt gives up after a second; reconnects back
 * off up to a second; errors are listened to, never an unhandled 'error' that ends the
 * process), under a prefix of its own, with a deadline of a second.
 *
 * @param {string} url
 */
async function redisSessionStore(url) {
  const { createClient } = await import('redis');
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1000),
    },
  });
  client.on('error', () => {
    counters.redis.errors++;
  });
  client.on('reconnecting', () => {
    counters.redis.reconnecting++;
  });
  client.on('ready', () => {
    counters.redis.ready++;
  });
  await client.connect();
  return library.redisStore({
    client,
    prefix: `reliability:${randomBytes(6).toString('hex')}:`,
    timeout: 1000,
  });
}

/** @type {import('sealed-session').SessionConfig} */
const config = {
  password: PASSWORD,
  name: COOKIE_NAME,
  maxAge: 24 * 3600,
  ...(iterations > 0 ? { seal: { encryption: { iterations }, integrity: { iterations } } } : {}),
  ...(values['redis-url'] === undefined
    ? {}
    : { store: await redisSessionStore(values['redis-url']) }),
  onInvalidToken: ({ error }) => {
    counters.rejections[error.code] = (counters.rejections[error.code] ?? 0) + 1;
  },
};

/** @param {import('sealed-session').SessionManager} session */
function summary(session) {
  const big = session.data['big'];
  const count = session.data['count'];
  return {
    id: session.id ?? null,
    count: typeof count === 'number' ? count : 0,
    big: typeof big === 'string' ? big.length : 0,
  };
}

/** Requests being handled now: samples and resets wait for none (see `idle`). */
let inFlight = 0;

const handler = library.eventHandler(async (event) => {
  inFlight++;
  try {
    return await handle(event);
  } finally {
    inFlight--;
  }
});

/** @param {import('sealed-session').HTTPEvent} event */
async function handle(event) {
  counters.requests++;
  const url = new URL(event.path, 'http://localhost');
  const route = url.pathname;
  counters.routes[route] = (counters.routes[route] ?? 0) + 1;
  const session = await library.useSession(event, config);
  const hadCookie = (event.getRequestHeader('cookie') ?? '') !== '';
  if (hadCookie && Object.keys(session.data).length === 0) counters.emptyWithCookie++;
  switch (route) {
    case '/read':
      break;
    case '/write':
      await session.update((data) => {
        data['count'] = (typeof data['count'] === 'number' ? data['count'] : 0) + 1;
      });
      break;
    case '/regenerate':
      await session.regenerate();
      break;
    case '/clear':
      await session.clear();
      break;
    case '/big':
      await session.update({ big: 'b'.repeat(Number(url.searchParams.get('size') ?? '0')) });
      break;
    default:
      event.status = 404;
      return { error: 'not found' };
  }
  return summary(session);
}

const server = createServer(
  library.toNodeListener(handler, {
    onError: (error) => {
      if (library.isSessionError(error, 'ERR_STORE_UNAVAILABLE')) {
        counters.unavailable++;
        return;
      }
      counters.handlerErrors++;
      counters.firstError ??=
        error instanceof Error ? (error.stack ?? error.message) : String(error);
    },
  }),
);
// Longer than any pause of the clients: connections are kept, not churned by the server.
server.keepAliveTimeout = 120_000;

/** A full collection (twice: the first may leave weakly held objects for the second). */
const gc = /** @type {(() => void) | undefined} */ (globalThis.gc);

/**
 * Waits (five seconds at most) until no request is being handled, so a sample counts no
 * half-handled request and a reset splits no request's counts.
 */
async function idle() {
  for (let waited = 0; inFlight > 0 && waited < 5_000; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** @param {{ id: number, cmd: string, file?: string }} message */
async function answer(message) {
  if (message.cmd === 'counters') {
    // At once, without waiting for the requests in flight: a mark in the run.
    return { id: message.id, counters: structuredClone(counters) };
  }
  await idle();
  if (message.cmd === 'reset') {
    Object.assign(counters, {
      requests: 0,
      routes: {},
      rejections: {},
      emptyWithCookie: 0,
      handlerErrors: 0,
      unavailable: 0,
      firstError: undefined,
      redis: { errors: 0, reconnecting: 0, ready: 0 },
    });
    return { id: message.id };
  }
  if (message.cmd === 'snapshot') {
    // A heap snapshot (after GC) to compare two points of a run in Chrome's DevTools.
    gc?.();
    return { id: message.id, file: writeHeapSnapshot(message.file) };
  }
  if (message.cmd !== 'sample') return { id: message.id, error: `unknown ${message.cmd}` };
  if (gc === undefined) return { id: message.id, error: 'start the server with --expose-gc' };
  gc();
  gc();
  const memory = process.memoryUsage();
  const code = getHeapCodeStatistics();
  const connections = await new Promise((resolve) => {
    server.getConnections((error, count) => resolve(error ? -1 : count));
  });
  const cpu = process.cpuUsage();
  return {
    id: message.id,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    // Compiled code and bytecode with their metadata: V8 adds to them for a long while as
    // rarer paths turn hot (and flushes and recompiles bytecode), which is not a leak.
    codeAndMetadata: code.code_and_metadata_size + code.bytecode_and_metadata_size,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    rss: memory.rss,
    connections,
    inFlight,
    cpuMicros: cpu.user + cpu.system,
    counters: structuredClone(counters),
  };
}

process.on('message', (message) => {
  void answer(/** @type {{ id: number, cmd: string, file?: string }} */ (message)).then((reply) =>
    process.send?.(reply),
  );
});
// Never outlive the parent, nor the longest run: this process always ends by itself.
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), Number(values['max-seconds']) * 1000).unref();

server.listen(0, '127.0.0.1', () => {
  // Listening on a TCP port: the address is an AddressInfo.
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.send?.({
    ready: true,
    port,
    library: values.library,
    iterations,
    mode: values['redis-url'] === undefined ? 'cookie' : 'store',
  });
});
