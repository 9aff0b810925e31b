/**
 * Soak: mixed session traffic against two servers, each in a process of its own, for a long
 * time, watching for what only time shows: a heap that keeps growing, file descriptors that
 * leak, responses that start failing, and (store mode) a store that goes away and comes back.
 *
 * - **cookie mode**: tools/reliability-server.mjs (the node adapter and useSession, the
 *   session sealed whole into its cookie).
 * - **store mode**: the same server with the session in Redis (`--redis-url`: `redisStore`
 *   over node-redis v5 with safe settings: no offline queue, a connect timeout, a capped
 *   reconnect backoff, an error listener), on a `redis-server` the script starts on
 *   127.0.0.1. In the middle of the run, after the warm-up, Redis is killed (SIGKILL), left
 *   down for --outage seconds, and started again on the same port: it persists nothing, so
 *   every session that had a record is gone.
 *
 * The two modes run side by side over the whole run, each at half of --rate (--mode cookie
 * or --mode store runs one, at the whole rate).
 *
 *   npm run soak                       one hour (the default), both modes
 *   node tools/soak.mjs 10m            any duration: 90, 90s, 10m, 1h
 *   node tools/soak.mjs 2m --report .tmp/soak.json --rate 300 --concurrency 16 --mode store
 *
 * Traffic, per mode: virtual users, each with its own cookie jar and a model of its session
 * (id, count, size), send reads, writes, rotations (regenerate), clears, large sessions (in
 * cookie mode too large for one cookie, written as h3 2.x's chunked cookies; in store mode a
 * large record behind a small cookie), and bad cookies (random text, well-formed forgeries
 * with fresh salts, a valid token with a tampered MAC, a truncated token, a chunked cookie
 * missing a chunk), some of these on a fresh connection closed after the response. Every
 * response is checked against the model: a bad cookie must give a 200 with a fresh session
 * (the expected refusal), never an error. The pace is held to --rate requests per second so
 * the machine stays usable (three times that in the warm-up, --warmup-rate).
 *
 * The Redis outage, in store mode: from the kill until the service is seen to work again,
 * a request that needs the store must be answered 503 (never 500), with no Set-Cookie when
 * it carried a session cookie (a store that is down neither signs anyone out nor in); a
 * request that needs no store (a bad cookie, no cookie) may still get its 200 and fresh
 * session. Once Redis is back, the server must reconnect by itself (within 10 s), and from
 * then on there must be no 503 at all. A user whose record Redis lost gets, on its first
 * request after the restart, a fresh session and one refusal (`ERR_SESSION_REVOKED`), the
 * model accepting either; before the kill there must be no such refusal.
 *
 * Samples, every --interval seconds: new requests wait, those in flight finish, then each
 * server collects garbage (twice) and reports heapUsed and its open connections over IPC,
 * and its open file descriptors are counted in /proc/<pid>/fd.
 *
 * Passes when, for each mode, after the warm-up (--warmup, default a fifth of the run, at
 * most 5 minutes): heapUsed grew under 5% (median of the last quarter of the samples over the
 * first's), descriptors other than connections did not grow, and there was no error
 * response (but the outage's 503s), no wrong answer, no client error, no handler error, and
 * exactly one refusal (onInvalidToken) per bad cookie sent (plus, in store mode, the
 * restart's revocations); in store mode, also the outage's rules above, no more session
 * records left in Redis than users, and no key in Redis without an expiry. Exit code 0 on a pass, 1 on a failure; --report writes the
 * figures as JSON. --snapshots DIR writes the servers' heap snapshots at the end of the
 * warm-up and of the run (<mode>-warm-up.heapsnapshot, <mode>-end.heapsnapshot).
 */
import { execFile, fork, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string' },
    rate: { type: 'string', default: '300' },
    'warmup-rate': { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string' },
    interval: { type: 'string' },
    iterations: { type: 'string', default: '0' },
    library: { type: 'string', default: 'src' },
    report: { type: 'string' },
    snapshots: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'both' },
    outage: { type: 'string', default: '3' },
  },
});

/**
 * Seconds in `text`: a number of seconds, or one with an s, m or h suffix.
 *
 * @param {string} text
 */
function seconds(text) {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  if (match === null) throw new Error(`not a duration: ${text} (try 120, 90s, 10m, 1h)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[/** @type {'' | 's' | 'm' | 'h'} */ (match[2])];
  return Number(match[1]) * unit;
}

/** The session cookie's name in tools/reliability-server.mjs. */
const NAME = 'h3';

// =======================================================================================
// The soak.

/**
 * @typedef {'cookie' | 'store'} Mode
 * @typedef {{ heapUsed: number, codeAndMetadata: number, heapTotal: number, external: number,
 *   rss: number, connections: number, inFlight: number, cpuMicros: number,
 *   counters: ServerCounters }} ServerSample
 * @typedef {{ requests: number, routes: Record<string, number>,
 *   rejections: Record<string, number>, handlerErrors: number, unavailable?: number,
 *   firstError?: string, redis?: { errors: number, reconnecting: number, ready: number }
 *   }} ServerCounters
 * @typedef {{ t: number, requests: number, heapUsed: number, codeAndMetadata: number,
 *   heapTotal: number, external: number, rss: number, fds: number, connections: number,
 *   errors: number }} Sample - `errors`: error responses, wrong answers and client errors
 *   so far
 * @typedef {{ status: number, cookies: string[], body: string, start: number, end: number }}
 *   Reply - `start`, `end`: performance.now() when the request went out and the response
 *   ended
 * @typedef {{ port: number, pid: number, sample: () => Promise<ServerSample>,
 *   counters: () => Promise<ServerCounters>, snapshot: (file: string) => Promise<void>,
 *   stop: () => Promise<void> }} ServerHandle
 * @typedef {{ port: number, url: string, kill: () => Promise<void>,
 *   restart: () => Promise<void>, stop: () => Promise<void>,
 *   cli: (args: string[]) => Promise<string> }} RedisHandle
 * @typedef {{ id: string | null, count: number, big: number }} Model
 * @typedef {{ jar: Map<string, string>, model: Model, mayBeRevoked: boolean }} User
 * @typedef {{ killAt?: number, restartedAt?: number, recoveredAt?: number,
 *   revokedBeforeKill?: number, spans: Array<[number, number]>, cookiesOn503: number,
 *   newSessionCookiesOn503: number, revocationsSeen: number }} Outage - times are
 *   performance.now()
 */

/**
 * A server under test: `script` forked with --expose-gc and an IPC channel, which answers
 * `{ ready, port }` once it listens.
 *
 * @param {string} script
 * @param {string[]} args
 * @returns {Promise<ServerHandle>}
 */
async function startServer(script, args) {
  const child = fork(script, args, {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** @type {Map<number, (reply: Record<string, unknown>) => void>} */
  const pending = new Map();
  let nextId = 1;
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server did not start within 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}`));
    });
    child.on('message', (/** @type {Record<string, unknown>} */ message) => {
      if (message['ready'] === true) {
        clearTimeout(timer);
        resolve(message['port']);
        return;
      }
      const id = /** @type {number} */ (message['id']);
      pending.get(id)?.(message);
      pending.delete(id);
    });
  });
  /**
   * @param {string} cmd
   * @param {Record<string, unknown>} [extra]
   * @returns {Promise<Record<string, unknown>>}
   */
  const ask = (cmd, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        if (typeof reply['error'] === 'string') reject(new Error(reply['error']));
        else resolve(reply);
      });
      child.send({ ...extra, id, cmd });
    });
  return {
    port: /** @type {number} */ (port),
    pid: /** @type {number} */ (child.pid),
    sample: async () => /** @type {ServerSample} */ (/** @type {unknown} */ (await ask('sample'))),
    counters: async () => /** @type {ServerCounters} */ ((await ask('counters'))['counters']),
    snapshot: async (file) => {
      await ask('snapshot', { file });
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** A port free on 127.0.0.1 when asked: random in 20000 to 55000, probed by listening on it. */
async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + randomInt(35_000);
    const free = await new Promise((resolve) => {
      const probe = createNetServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port on 127.0.0.1 after 50 attempts');
}

/** Redis servers this process started, killed on exit whatever happens. */
/** @type {Set<import('node:child_process').ChildProcess>} */
const redisProcesses = new Set();
process.once('exit', () => {
  for (const child of redisProcesses) child.kill('SIGKILL');
});

/**
 * A `redis-server` of the soak's own, as test/store/redis-servers.ts starts one: a free
 * 127.0.0.1 port, nothing persisted, a temp dir; `kill` is a crash (SIGKILL), `restart`
 * starts it again on the same port (empty: it persisted nothing).
 *
 * @returns {Promise<RedisHandle>}
 */
async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'sealed-session-soak-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  /** @returns {Promise<import('node:child_process').ChildProcess>} */
  const launch = () =>
    new Promise((resolve, reject) => {
      const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      redisProcesses.add(child);
      let output = '';
      let settled = false;
      /** @param {string} reason */
      const failed = (reason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`redis-server ${args.join(' ')}: ${reason}\n${output}`));
      };
      const timer = setTimeout(() => failed('not ready after 10 s'), 10_000);
      child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
        output = (output + chunk.toString('utf8')).slice(-4000);
        if (!settled && output.includes('Ready to accept connections')) {
          settled = true;
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          child.stdout.resume();
          resolve(child);
        }
      });
      child.stderr.on('data', (/** @type {Buffer} */ chunk) => {
        output = (output + chunk.toString('utf8')).slice(-4000);
      });
      child.once('error', (error) => failed(error.message));
      child.once('exit', (code, signal) => {
        redisProcesses.delete(child);
        failed(`exited (${signal ?? String(code)})`);
      });
    });
  /** @param {import('node:child_process').ChildProcess} child @param {NodeJS.Signals} signal */
  const end = (child, signal) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      child.kill(signal);
    });
  let child = await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      await end(child, 'SIGKILL');
    },
    restart: async () => {
      await end(child, 'SIGTERM');
      child = await launch();
    },
    stop: async () => {
      await end(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    cli: (cliArgs) =>
      new Promise((resolve, reject) => {
        execFile(
          'redis-cli',
          ['-h', '127.0.0.1', '-p', String(port), ...cliArgs],
          { timeout: 10_000 },
          (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
        );
      }),
  };
}

/**
 * Applies Set-Cookie lines to a jar: a value replaces, an expired or empty one deletes.
 *
 * @param {Map<string, string>} jar
 * @param {string[]} lines
 */
function applyCookies(jar, lines) {
  for (const line of lines) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

/** @param {Map<string, string>} jar */
const cookieHeader = (jar) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** @param {number} count */
function chars(count) {
  let out = '';
  for (const byte of randomBytes(count)) out += BASE64URL.charAt(byte & 63);
  return out;
}
const salt = () => randomBytes(32).toString('hex');

/** What a fresh session answers: no id yet known, no data. @type {Model} */
const FRESH = Object.freeze({ id: null, count: 0, big: 0 });

/**
 * One mode's server, its clients and its figures.
 */
class Target {
  /**
   * @param {Mode} mode
   * @param {ServerHandle} server
   * @param {number} concurrency
   * @param {RedisHandle} [redis]
   */
  constructor(mode, server, concurrency, redis) {
    this.mode = mode;
    this.server = server;
    this.redis = redis;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: concurrency,
      // Round-robin over the kept connections: none sits idle long enough to be closed, so
      // the server's connection count (and its descriptors) stays put.
      scheduling: 'fifo',
    });
    /** @type {User[]} */
    this.users = Array.from({ length: concurrency }, () => ({
      jar: new Map(),
      model: { ...FRESH },
      mayBeRevoked: false,
    }));
    this.nextSlot = performance.now();
    this.inFlight = 0;
    /** @type {Sample[]} */
    this.samples = [];
    /** @type {ServerSample | undefined} */
    this.last = undefined;
    /** @type {Outage | undefined} */
    this.outage =
      mode === 'store'
        ? {
            spans: [],
            cookiesOn503: 0,
            newSessionCookiesOn503: 0,
            revocationsSeen: 0,
          }
        : undefined;
    this.totals = {
      requests: 0,
      /** By operation. @type {Record<string, number>} */
      operations: {},
      /** Bad cookies sent: each must be refused once, with a 200 and a fresh session. */
      bad: 0,
      freshConnections: 0,
      /** Responses neither 200 nor (store mode) 503. */
      errorResponses: 0,
      /** Store mode: 503s (the outage's; the verdict checks when each came). */
      unavailable: 0,
      wrongAnswers: 0,
      clientErrors: 0,
      /** The first few failures, for the report. @type {string[]} */
      failures: [],
      /** Latency histogram: counts per millisecond, the last bucket for anything slower. */
      latency: new Uint32Array(10_001),
    };
  }

  /** @param {string} what */
  fail(what) {
    if (this.totals.failures.length < 20) this.totals.failures.push(what);
  }

  /**
   * One GET on a kept connection, or on a fresh one closed after the response.
   *
   * @param {string} path
   * @param {string} cookie - the Cookie header, '' for none
   * @param {boolean} fresh
   * @returns {Promise<Reply>}
   */
  get(path, cookie, fresh = false) {
    return new Promise((resolve, reject) => {
      /** @type {Record<string, string>} */
      const headers = {};
      if (cookie !== '') headers['cookie'] = cookie;
      if (fresh) headers['connection'] = 'close';
      const start = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: this.server.port,
          path,
          headers,
          ...(fresh ? { agent: false } : { agent: this.agent }),
          timeout: REQUEST_TIMEOUT_MS,
          // A chunked session's Set-Cookie lines can pass Node's 16 KB default (browsers take
          // far more); the server's own limit on the Cookie header it reads stays the default.
          maxHeaderSize: 64 * 1024,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => {
            const cookies = res.headers['set-cookie'] ?? [];
            resolve({ status: res.statusCode ?? 0, cookies, body, start, end: performance.now() });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Parses a reply's `{ id, count, big }`; undefined unless it is a 200 with it. A 503 in
   * store mode is the outage's (the verdict checks when it came): it must set no cookie
   * when the request carried the session's.
   *
   * @param {string} what
   * @param {Reply} reply
   * @param {boolean} sentSession - the request carried a session cookie
   * @param {boolean} [needsStore] - false for a request a server answers without its store
   * @returns {Model | undefined}
   */
  answerOf(what, reply, sentSession, needsStore = true) {
    if (reply.status === 503 && this.outage !== undefined && needsStore) {
      this.totals.unavailable++;
      this.outage.spans.push([reply.start, reply.end]);
      if (reply.cookies.length > 0) {
        if (sentSession) {
          this.outage.cookiesOn503++;
          this.fail(`${what}: a 503 with Set-Cookie ${reply.cookies.join(' | ').slice(0, 200)}`);
        } else {
          // No session came with the request: the fresh one useSession started, whose
          // store write then failed. A browser keeps it; nothing is deleted or replaced.
          this.outage.newSessionCookiesOn503++;
        }
      }
      return undefined;
    }
    if (reply.status !== 200) {
      this.totals.errorResponses++;
      this.fail(`${what}: status ${reply.status} ${reply.body.slice(0, 200)}`);
      return undefined;
    }
    try {
      return /** @type {Model} */ (JSON.parse(reply.body));
    } catch {
      this.totals.wrongAnswers++;
      this.fail(`${what}: body ${reply.body.slice(0, 200)}`);
      return undefined;
    }
  }

  /**
   * Counts a wrong answer unless `ok`.
   *
   * @param {boolean} ok
   * @param {string} what
   * @param {Model} got
   * @param {Partial<Model>} expected
   */
  check(ok, what, got, expected) {
    if (ok) return;
    this.totals.wrongAnswers++;
    this.fail(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
}

/**
 * An operation: its path for a user, whether an answer agrees with a model the session
 * held, and what the user keeps afterwards.
 *
 * @typedef {{ path: (user: User) => string,
 *   agrees: (got: Model, model: Model, reply: Reply, sentSession: boolean, user: User) => boolean,
 *   after?: (user: User, got: Model, reply: Reply, target: Target) => void }} Operation
 */

/** @type {Map<User, number>} the size a user's chunked operation asked for */
const askedSize = new Map();

/**
 * The operations, with weights (out of 100). Each sends one request and checks it against
 * the user's model, then updates jar and model as a browser and the server would.
 *
 * @type {Array<[name: string, weight: number, run: Operation | 'bad']>}
 */
const OPERATIONS = [
  [
    'read',
    43,
    {
      path: () => '/read',
      agrees: (got, model, reply, sentSession) =>
        model.id === null
          ? // A new session: its cookie is written now (unless the request already had one).
            got.id !== null &&
            got.count === 0 &&
            got.big === 0 &&
            (sentSession || reply.cookies.length > 0)
          : got.id === model.id && got.count === model.count && got.big === model.big,
    },
  ],
  [
    'write',
    20,
    {
      path: () => '/write',
      agrees: (got, model) =>
        got.count === model.count + 1 &&
        got.big === model.big &&
        got.id !== null &&
        (model.id === null || got.id === model.id),
    },
  ],
  [
    'regenerate',
    6,
    {
      path: () => '/regenerate',
      agrees: (got, model) =>
        got.id !== null &&
        got.id !== model.id &&
        got.count === model.count &&
        got.big === model.big,
    },
  ],
  [
    'clear',
    5,
    {
      path: () => '/clear',
      agrees: (got) => got.id === null && got.count === 0 && got.big === 0,
      after: (user, got, _reply, target) => {
        // Every cookie and chunk of the session deleted.
        target.check(user.jar.size === 0, 'clear deletes every cookie', got, {});
        user.jar.clear();
        Object.assign(user.model, FRESH);
      },
    },
  ],
  [
    'chunked',
    6,
    {
      // Large (in cookie mode two to four chunks, the Cookie header staying under the
      // server's 16 KB limit; in store mode a large record) or back to small.
      path: (user) => {
        const size = user.model.big > 0 && randomInt(2) === 0 ? 0 : randomInt(5_000, 9_000);
        askedSize.set(user, size);
        return `/big?size=${size}`;
      },
      agrees: (got, model, _reply, _sent, user) =>
        got.big === askedSize.get(user) &&
        got.count === model.count &&
        (model.id === null || got.id === model.id),
      after: (user, got, _reply, target) => {
        const size = askedSize.get(user) ?? -1;
        const chunked = (user.jar.get(NAME) ?? '').startsWith('__chunked__');
        // Only a cookie holding the session itself is split; a store's reference never is.
        const expected = target.mode === 'cookie' && size > 0;
        target.check(chunked === expected, 'chunked cookies', got, { big: size });
      },
    },
  ],
  ['bad', 20, 'bad'],
];

/**
 * Sends one operation of `user` and checks the answer against the user's model. While the
 * user's record may have been lost to the Redis restart (`mayBeRevoked`), an answer that
 * agrees with a fresh session instead is the revocation (counted; the server must have
 * reported it).
 *
 * @param {Target} target
 * @param {User} user
 * @param {string} name
 * @param {Operation} operation
 */
async function runOperation(target, user, name, operation) {
  const cookie = cookieHeader(user.jar);
  const sentSession = user.jar.has(NAME);
  const reply = await target.get(operation.path(user), cookie);
  const got = target.answerOf(name, reply, sentSession);
  const outage = target.outage;
  if (got === undefined) return;
  if (outage?.restartedAt !== undefined && reply.start > outage.restartedAt && sentSession) {
    // The first answer to need the store after the restart: the service is back.
    if (outage.recoveredAt === undefined || reply.end < outage.recoveredAt) {
      outage.recoveredAt = reply.end;
    }
  }
  const { model } = user;
  let agrees = operation.agrees(got, model, reply, sentSession, user);
  if (!agrees && user.mayBeRevoked && operation.agrees(got, FRESH, reply, sentSession, user)) {
    agrees = true;
    if (outage !== undefined) outage.revocationsSeen++;
    Object.assign(model, FRESH);
  }
  if (user.mayBeRevoked && outage?.restartedAt !== undefined && reply.start > outage.restartedAt) {
    user.mayBeRevoked = false;
  }
  target.check(agrees, name, got, model);
  Object.assign(model, got);
  applyCookies(user.jar, reply.cookies);
  operation.after?.(user, got, reply, target);
}

/**
 * A bad cookie of one of five kinds, sent instead of the user's own (whose jar and model
 * stay as they were); a third of them on a fresh connection, as a scanner would.
 *
 * @param {Target} target
 * @param {User} user
 */
async function badCookie(target, user) {
  const token = user.jar.get(NAME) ?? '';
  const chunked = token.startsWith('__chunked__');
  /** @type {Array<() => string>} */
  const kinds = [
    () => `${NAME}=${chars(randomInt(1, 300)).replace(/[-_]/g, 'x')}`,
    () => `${NAME}=Fe26.2**${salt()}*${chars(22)}*${chars(64)}**${salt()}*${chars(43)}`,
  ];
  if (token.startsWith('Fe26.2*')) {
    kinds.push(() => {
      // A MAC character changed to another: the token no longer verifies.
      const at = token.length - 1 - randomInt(43);
      const old = token.charAt(at);
      const other = BASE64URL.charAt((BASE64URL.indexOf(old) + 1 + randomInt(63)) % 64);
      return `${NAME}=${token.slice(0, at)}${other}${token.slice(at + 1)}`;
    });
    kinds.push(() => `${NAME}=${token.slice(0, randomInt(1, token.length - 1))}`);
  }
  if (chunked) {
    kinds.push(() => {
      // Every chunk but one.
      const count = Number(token.slice('__chunked__'.length));
      const missing = randomInt(1, count + 1);
      return [...user.jar]
        .filter(([name]) => name !== `${NAME}.${missing}`)
        .map(([name, value]) => `${name}=${value}`)
        .join('; ');
    });
  }
  const cookie = /** @type {() => string} */ (kinds[randomInt(kinds.length)])();
  const fresh = randomInt(3) === 0;
  target.totals.bad++;
  if (fresh) target.totals.freshConnections++;
  const reply = await target.get('/read', cookie, fresh);
  // A refused token needs no store: even during the outage this is a 200.
  const got = target.answerOf('bad cookie', reply, false, false);
  if (got === undefined) return;
  // The expected refusal: a 200 with a fresh session, and its cookie.
  target.check(
    got.id !== null && got.id !== user.model.id && got.count === 0 && got.big === 0,
    'bad cookie gives a fresh session',
    got,
    { count: 0, big: 0 },
  );
  target.check(
    reply.cookies.some((line) => line.startsWith(`${NAME}=Fe26.2*`)),
    'bad cookie: the fresh session is written',
    got,
    {},
  );
}

const WEIGHT_TOTAL = OPERATIONS.reduce((sum, [, weight]) => sum + weight, 0);
function pickOperation() {
  let roll = randomInt(WEIGHT_TOTAL);
  for (const operation of OPERATIONS) {
    roll -= operation[1];
    if (roll < 0) return operation;
  }
  // The rolls cover the weights exactly: unreachable.
  throw new Error('no operation');
}

// Run parameters (the soak's, not the server's).
const DURATION = seconds(values.duration ?? positionals[0] ?? '1h');
const RATE = Number(values.rate);
/**
 * The warm-up runs faster (three times the rate by default): V8 keeps compiling and
 * optimizing for a while as rarer paths turn hot, which adds to heapUsed in steps that
 * decay with the request count, not with time. Spending the warm-up's requests faster
 * leaves less of that creep to the measured part, where only a leak keeps growing.
 */
const WARMUP_RATE = Number(values['warmup-rate'] ?? RATE * 3);
const CONCURRENCY = Number(values.concurrency);
const WARMUP =
  values.warmup === undefined ? Math.min(300, Math.max(10, DURATION / 5)) : seconds(values.warmup);
const INTERVAL =
  values.interval === undefined
    ? Math.min(30, Math.max(2, DURATION / 30))
    : seconds(values.interval);
const OUTAGE = seconds(/** @type {string} */ (values.outage));
/** The modes run, side by side. @type {Mode[]} */
const MODES = /** @type {Mode[]} */ (
  values.mode === 'both'
    ? ['cookie', 'store']
    : ['cookie', 'store'].filter((m) => m === values.mode)
);
/** When Redis is killed: halfway through the run after the warm-up. */
const OUTAGE_AT = WARMUP + (DURATION - WARMUP) / 2;
/** Heap growth after the warm-up that fails the run. */
const HEAP_GROWTH_LIMIT = 0.05;
/** Longest wait for one response: a server that stops answering fails the run, not hangs it. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Longest the store-mode server may take to work again once Redis is back. */
const RECOVERY_LIMIT_MS = 10_000;
const log = values.quiet ? () => {} : console.log;

async function soak() {
  if (!(
    DURATION > 0 &&
    RATE > 0 &&
    WARMUP_RATE > 0 &&
    CONCURRENCY > 0 &&
    WARMUP < DURATION &&
    INTERVAL > 0 &&
    MODES.length > 0 &&
    OUTAGE > 0 &&
    OUTAGE_AT + OUTAGE < DURATION
  )) {
    throw new Error(
      'need a positive duration, rate, concurrency, interval and outage, warm-up < duration, ' +
        'and --mode both, cookie or store',
    );
  }
  const maxSeconds = String(Math.ceil(DURATION + 600));
  /** @type {Target[]} */
  const targets = [];
  /** @type {RedisHandle | undefined} */
  let redis;
  // Both modes run the same server; store mode's is given its Redis.
  const script = fileURLToPath(new URL('./reliability-server.mjs', import.meta.url));
  const args = [
    '--library',
    /** @type {string} */ (values.library),
    '--iterations',
    /** @type {string} */ (values.iterations),
    '--max-seconds',
    maxSeconds,
  ];
  try {
    for (const mode of MODES) {
      if (mode === 'cookie') {
        targets.push(new Target('cookie', await startServer(script, args), CONCURRENCY));
      } else {
        redis = await startRedis();
        const server = await startServer(script, [...args, '--redis-url', redis.url]);
        targets.push(new Target('store', server, CONCURRENCY, redis));
      }
    }
    const report = await run(targets);
    if (values.report !== undefined) {
      mkdirSync(dirname(values.report), { recursive: true });
      writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
    }
    process.exitCode = report.pass ? 0 : 1;
  } finally {
    for (const target of targets) {
      target.agent.destroy();
      await target.server.stop();
    }
    await redis?.stop();
  }
}

/**
 * Runs the traffic, the samples and the outage, and gives the report.
 *
 * @param {Target[]} targets
 */
async function run(targets) {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  /** @type {Promise<void> | undefined} */
  let pause;
  let stopping = false;
  let warmedUp = false;
  const share = targets.length;

  /**
   * Waits for this request's turn at the target's share of RATE per second (WARMUP_RATE in
   * the warm-up); a late run does not burst to catch up.
   *
   * @param {Target} target
   */
  async function paced(target) {
    const now = performance.now();
    const at = Math.max(target.nextSlot, now);
    target.nextSlot = at + (1000 * share) / (elapsed() < WARMUP ? WARMUP_RATE : RATE);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  /** @param {Target} target @param {User} user */
  async function virtualUser(target, user) {
    while (!stopping && elapsed() < DURATION) {
      await paced(target);
      while (pause !== undefined) await pause;
      if (stopping || elapsed() >= DURATION) break;
      const [name, , operation] = pickOperation();
      const { totals } = target;
      totals.operations[name] = (totals.operations[name] ?? 0) + 1;
      totals.requests++;
      target.inFlight++;
      const start = performance.now();
      try {
        await (operation === 'bad'
          ? badCookie(target, user)
          : runOperation(target, user, name, operation));
      } catch (error) {
        totals.clientErrors++;
        target.fail(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        target.inFlight--;
        const ms = Math.min(10_000, Math.round(performance.now() - start));
        totals.latency[ms] = (totals.latency[ms] ?? 0) + 1;
      }
    }
  }

  /**
   * Holds new requests, lets those in flight finish, samples every server, and resumes.
   *
   * @param {boolean} [final] - the sample after the run
   */
  async function takeSample(final = false) {
    /** @type {() => void} */
    let resume = () => {};
    pause = new Promise((resolve) => {
      resume = () => resolve(undefined);
    });
    try {
      const inFlight = () => targets.reduce((sum, target) => sum + target.inFlight, 0);
      for (let waited = 0; inFlight() > 0 && waited < REQUEST_TIMEOUT_MS + 1_000; waited += 2) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const t = Math.round(elapsed() * 10) / 10;
      const line = [`t=${t.toFixed(0).padStart(5)}s`];
      for (const target of targets) {
        const s = await target.server.sample();
        target.last = s;
        const fds = readdirSync(`/proc/${target.server.pid}/fd`).length;
        const { totals } = target;
        /** @type {Sample} */
        const sample = {
          t,
          requests: totals.requests,
          heapUsed: s.heapUsed,
          codeAndMetadata: s.codeAndMetadata,
          heapTotal: s.heapTotal,
          external: s.external,
          rss: s.rss,
          fds,
          connections: s.connections,
          errors: totals.errorResponses + totals.wrongAnswers + totals.clientErrors,
        };
        target.samples.push(sample);
        const snapshotDir = values.snapshots;
        if (snapshotDir !== undefined && (final || (!warmedUp && t >= WARMUP))) {
          mkdirSync(snapshotDir, { recursive: true });
          const file = `${target.mode}-${final ? 'end' : 'warm-up'}.heapsnapshot`;
          await target.server.snapshot(join(snapshotDir, file));
        }
        line.push(
          `${target.mode}: requests ${String(sample.requests).padStart(8)}  ` +
            `heapUsed ${(sample.heapUsed / 1048576).toFixed(2)} MiB  ` +
            `fds ${fds} (connections ${sample.connections})  errors ${sample.errors}` +
            (target.outage === undefined ? '' : `  503s ${totals.unavailable}`),
        );
      }
      if (t >= WARMUP) warmedUp = true;
      log(line.join('  |  '));
    } finally {
      pause = undefined;
      resume();
    }
  }

  /**
   * The Redis outage of a store-mode target: at OUTAGE_AT, the server's counters are read
   * (no revocation may have happened yet), Redis is killed, left down OUTAGE seconds, and
   * started again on the same port. Every user may have lost its record from the kill on.
   *
   * @param {Target} target
   */
  async function redisOutage(target) {
    const { redis, outage } = target;
    if (redis === undefined || outage === undefined) return;
    for (let i = 0; !stopping && elapsed() < OUTAGE_AT && i < 1_000_000; i++) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(1, OUTAGE_AT - elapsed()) * 1000),
      );
    }
    if (stopping) return;
    const counters = await target.server.counters();
    outage.revokedBeforeKill = counters.rejections['ERR_SESSION_REVOKED'] ?? 0;
    outage.killAt = performance.now();
    for (const user of target.users) user.mayBeRevoked = true;
    await redis.kill();
    log(`t=${elapsed().toFixed(0).padStart(5)}s  store: redis-server killed (SIGKILL)`);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE * 1000));
    await redis.restart();
    outage.restartedAt = performance.now();
    log(
      `t=${elapsed().toFixed(0).padStart(5)}s  store: redis-server started again on ${redis.port}`,
    );
  }

  // Ended early (Ctrl-C, or a kill): the run winds down as at its end, so the servers and
  // the redis-server it started stop with it.
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => {
      log(`${signal}: ending the run early`);
      stopping = true;
    });
  }

  log(
    `soak: ${DURATION} s (warm-up ${WARMUP} s at ${WARMUP_RATE} req/s, a sample every ${INTERVAL} s), ` +
      `${RATE} req/s over ${targets.length} mode(s) side by side (${targets.map((t) => t.mode).join(', ')}), ` +
      `${CONCURRENCY} users each, library ${values.library}, ` +
      `${Number(values.iterations) > 0 ? `${values.iterations} iterations` : "iron's default options"}` +
      (MODES.includes('store')
        ? `; Redis killed at ${OUTAGE_AT.toFixed(0)} s for ${OUTAGE} s`
        : ''),
  );
  const users = targets.flatMap((target) => target.users.map((user) => virtualUser(target, user)));
  const outages = targets.map((target) => redisOutage(target));
  const sampler = (async () => {
    let next = INTERVAL;
    while (!stopping && next <= DURATION) {
      const wait = next - elapsed();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 1) * 1000));
      if (elapsed() < next) continue;
      await takeSample();
      next += INTERVAL;
    }
  })();
  await Promise.all(users);
  stopping = true;
  await sampler;
  await Promise.all(outages);
  // The last word on the counters: every request answered by now.
  await takeSample(true);
  const runSeconds = elapsed();

  /** @type {Record<string, unknown>} */
  const modes = {};
  const failures = [];
  for (const target of targets) {
    const verdict = await verdictOf(target, started, runSeconds);
    modes[target.mode] = verdict;
    for (const failure of verdict.failures) failures.push(`${target.mode}: ${failure}`);
  }
  const report = {
    pass: failures.length === 0,
    failures,
    date: new Date().toISOString(),
    command: `node tools/soak.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    config: {
      durationSec: DURATION,
      warmupSec: WARMUP,
      intervalSec: INTERVAL,
      rate: RATE,
      warmupRate: WARMUP_RATE,
      ratePerMode: RATE / targets.length,
      concurrency: CONCURRENCY,
      modes: MODES,
      outageAtSec: MODES.includes('store') ? OUTAGE_AT : undefined,
      outageSec: MODES.includes('store') ? OUTAGE : undefined,
      iterations: Number(values.iterations),
      library: values.library,
    },
    modes,
  };
  log(`\n${report.pass ? 'PASS' : 'FAIL'}  ${DURATION} s, ${targets.length} mode(s)`);
  for (const target of targets) {
    const verdict = /** @type {Awaited<ReturnType<typeof verdictOf>>} */ (modes[target.mode]);
    const { totals } = verdict;
    log(
      `  ${target.mode}: ${totals.requests} requests (${totals.requestsPerSecond}/s; p50 ${totals.latencyMs.p50} ms, ` +
        `p99 ${totals.latencyMs.p99} ms), ${totals.badCookies} bad cookies, refusals ${JSON.stringify(verdict.server.refusals)}\n` +
        `    heapUsed after warm-up: ${JSON.stringify(verdict.heap)}\n    fds: ${JSON.stringify(verdict.fds)}` +
        (verdict.outage === undefined
          ? ''
          : `\n    outage: ${JSON.stringify(verdict.outage)}\n    redis: ${JSON.stringify(verdict.redis)}`),
    );
    for (const failure of verdict.failures) log(`    FAIL: ${failure}`);
    for (const problem of verdict.firstProblems) log(`    first problems: ${problem}`);
  }
  return report;
}

/** @param {number[]} list */
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return /** @type {number} */ (sorted[Math.floor(sorted.length / 2)]);
};

/** Least-squares slope of y over x. @param {number[]} xs @param {number[]} ys */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The verdict and figures of one mode.
 *
 * @param {Target} target
 * @param {number} started - performance.now() at the start of the run
 * @param {number} runSeconds
 */
async function verdictOf(target, started, runSeconds) {
  const { totals, samples } = target;
  /** @param {number} q - a quantile, 0 to 1 */
  const latencyQuantile = (q) => {
    const total = totals.latency.reduce((a, b) => a + b, 0);
    let seen = 0;
    for (let ms = 0; ms < totals.latency.length; ms++) {
      seen += totals.latency[ms] ?? 0;
      if (seen >= q * total) return ms;
    }
    return totals.latency.length - 1;
  };
  /** @type {string[]} */
  const failures = [];
  const after = samples.filter((s) => s.t >= WARMUP);
  /** @type {Record<string, unknown>} */
  let heap = {};
  /** @type {Record<string, unknown>} */
  let fds = {};
  if (after.length < 4) {
    failures.push(
      `only ${after.length} samples after the warm-up: run longer or sample more often`,
    );
  } else {
    // Medians of the first and last quarters (three samples at least): a heap after GC still
    // moves a little from sample to sample (the cache's entries turn over, V8 flushes and
    // recompiles bytecode), and one sample must not decide.
    const window = Math.max(3, Math.floor(after.length / 4));
    const baseline = median(after.slice(0, window).map((s) => s.heapUsed));
    const final = median(after.slice(-window).map((s) => s.heapUsed));
    const growth = final / baseline - 1;
    const perHour =
      (slope(
        after.map((s) => s.t),
        after.map((s) => s.heapUsed),
      ) *
        3600) /
      baseline;
    heap = { baseline, final, growth, trendPerHour: perHour, limit: HEAP_GROWTH_LIMIT };
    if (!(growth < HEAP_GROWTH_LIMIT)) {
      failures.push(`heapUsed grew ${(growth * 100).toFixed(1)}% after the warm-up (limit 5%)`);
    }
    // Connections come and go with the clients; every other descriptor must stay put.
    const others = after.map((s) => s.fds - s.connections);
    const baseOthers = median(others.slice(0, window));
    fds = {
      baseline: after[0]?.fds,
      final: after.at(-1)?.fds,
      max: Math.max(...after.map((s) => s.fds)),
      nonConnectionBaseline: baseOthers,
      nonConnectionMax: Math.max(...others),
      maxConnections: Math.max(...after.map((s) => s.connections)),
    };
    if (Math.max(...others) > baseOthers) {
      failures.push(
        `descriptors other than connections grew from ${baseOthers} to ${Math.max(...others)}`,
      );
    }
    if (Math.max(...after.map((s) => s.connections)) > CONCURRENCY + 1) {
      failures.push('more open connections than the clients keep');
    }
  }
  const counters = /** @type {ServerSample} */ (target.last).counters;
  const refusals = Object.values(counters.rejections).reduce((a, b) => a + b, 0);
  const revoked = counters.rejections['ERR_SESSION_REVOKED'] ?? 0;
  if (totals.errorResponses > 0) failures.push(`${totals.errorResponses} error responses`);
  if (totals.wrongAnswers > 0) failures.push(`${totals.wrongAnswers} wrong answers`);
  if (totals.clientErrors > 0) failures.push(`${totals.clientErrors} client errors`);
  if (counters.handlerErrors > 0) {
    failures.push(`${counters.handlerErrors} handler errors: ${counters.firstError ?? ''}`);
  }
  if (totals.requests < 1_000) failures.push(`only ${totals.requests} requests`);

  /** @type {Record<string, unknown> | undefined} */
  let outageFigures;
  /** @type {Record<string, unknown> | undefined} */
  let redisFigures;
  const { outage, redis } = target;
  if (outage === undefined) {
    // Each bad cookie refused once (and, checked per response, answered with a fresh
    // session); a good cookie never.
    if (refusals !== totals.bad)
      failures.push(`${totals.bad} bad cookies sent, ${refusals} refused`);
  } else {
    // Bad cookies are refused once each, and the sessions Redis lost once each at most
    // (a user's first request after the restart), none before the kill.
    if (refusals - revoked !== totals.bad) {
      failures.push(
        `${totals.bad} bad cookies sent, ${refusals - revoked} refused (revocations aside)`,
      );
    }
    if (revoked > CONCURRENCY) failures.push(`${revoked} revocations for ${CONCURRENCY} users`);
    if (revoked < outage.revocationsSeen) {
      failures.push(`${outage.revocationsSeen} revocations seen, ${revoked} reported`);
    }
    if ((outage.revokedBeforeKill ?? 0) > 0) {
      failures.push(`${outage.revokedBeforeKill} revocations before Redis was killed`);
    }
    const { killAt, restartedAt, recoveredAt } = outage;
    const at = (/** @type {number | undefined} */ time) =>
      time === undefined ? undefined : Math.round((time - started) / 100) / 10;
    // A 503 only for a request that ended after the kill and started before the service
    // was seen working again; none at all once it works.
    const unexpected =
      killAt === undefined
        ? outage.spans.length
        : outage.spans.filter(
            ([start, end]) => end < killAt || recoveredAt === undefined || start > recoveredAt,
          ).length;
    const recoveryMs =
      restartedAt === undefined || recoveredAt === undefined
        ? undefined
        : recoveredAt - restartedAt;
    if (killAt === undefined) failures.push('Redis was never killed: run longer');
    else if (outage.spans.length === 0) failures.push('no 503 during the outage: it was not seen');
    if (unexpected > 0) failures.push(`${unexpected} 503s outside the outage`);
    if (outage.cookiesOn503 > 0) {
      failures.push(`${outage.cookiesOn503} 503s set a cookie for a request that carried one`);
    }
    if (restartedAt !== undefined && (recoveryMs === undefined || recoveryMs > RECOVERY_LIMIT_MS)) {
      failures.push(
        `the server did not work again within ${RECOVERY_LIMIT_MS / 1000} s of the restart`,
      );
    }
    if ((counters.unavailable ?? 0) !== totals.unavailable) {
      failures.push(
        `${totals.unavailable} 503s seen, ${counters.unavailable ?? 0} reported by the server`,
      );
    }
    outageFigures = {
      killAtSec: at(killAt),
      restartedAtSec: at(restartedAt),
      recoveredAtSec: at(recoveredAt),
      recoveryMs: recoveryMs === undefined ? undefined : Math.round(recoveryMs),
      responses503: totals.unavailable,
      unexpected503: unexpected,
      cookiesOn503: outage.cookiesOn503,
      newSessionCookiesOn503: outage.newSessionCookiesOn503,
      revokedBeforeKill: outage.revokedBeforeKill,
      revocationsSeen: outage.revocationsSeen,
      revocationsReported: revoked,
      redisClient: counters.redis,
    };
    if (redis !== undefined) {
      // What Redis holds at the end: every key must end by itself (an expiry), and session
      // records (hashes with a creation time, field `c`) are at most one per user, since a
      // regenerate or a clear ends the old one. Other keys (the move markers a regenerate
      // leaves under the old id for a minute) come and go with the traffic.
      const census = await redis
        .cli([
          'EVAL',
          'local records, others, forever = 0, 0, 0 ' +
            "for _, key in ipairs(redis.call('KEYS', '*')) do " +
            "if redis.call('TYPE', key).ok == 'hash' and redis.call('HEXISTS', key, 'c') == 1 " +
            'then records = records + 1 else others = others + 1 end ' +
            "if redis.call('PTTL', key) < 0 then forever = forever + 1 end end " +
            'return {records, others, forever}',
          '0',
        ])
        .catch(() => '');
      const [records = NaN, others = NaN, forever = NaN] = census.split(/\s+/).map(Number);
      const info = await redis.cli(['INFO', 'memory']).catch(() => '');
      const used = /used_memory:(\d+)/.exec(info)?.[1];
      redisFigures = {
        recordsAtEnd: records,
        otherKeysAtEnd: others,
        keysWithoutExpiry: forever,
        usedMemory: used === undefined ? undefined : Number(used),
      };
      if (!(records <= CONCURRENCY)) {
        failures.push(`${records} session records left in Redis for ${CONCURRENCY} users`);
      }
      if (forever !== 0) failures.push(`${forever} keys in Redis without an expiry`);
    }
  }
  return {
    mode: target.mode,
    pass: failures.length === 0,
    failures,
    firstProblems: totals.failures,
    totals: {
      seconds: Math.round(runSeconds),
      requests: totals.requests,
      requestsPerSecond: Math.round(totals.requests / runSeconds),
      operations: totals.operations,
      badCookies: totals.bad,
      freshConnections: totals.freshConnections,
      errorResponses: totals.errorResponses,
      unavailable: totals.unavailable,
      wrongAnswers: totals.wrongAnswers,
      clientErrors: totals.clientErrors,
      latencyMs: { p50: latencyQuantile(0.5), p99: latencyQuantile(0.99), max: latencyQuantile(1) },
    },
    server: {
      handlerErrors: counters.handlerErrors,
      unavailable: counters.unavailable,
      refusals: counters.rejections,
      routes: counters.routes,
    },
    heap,
    fds,
    outage: outageFigures,
    redis: redisFigures,
    samples,
  };
}

await soak();
