/**
 * Real Redis servers for tests: `startRedis()` starts one `redis-server` (from PATH) of the
 * test's own, `startCluster()` three masters joined into a Redis Cluster. Each listens on
 * a free 127.0.0.1 port, persists nothing (`--save '' --appendonly no`) and works in a temp
 * dir of its own, so tests that stop, pause, restart or fill a server never disturb another
 * suite or the shared server on 6379.
 *
 * Usage, with cleanup that runs even when a test or the start itself fails:
 *
 * ```ts
 * let server: RedisServer | undefined;
 * beforeAll(async () => { server = await startRedis({ args: ['--maxmemory', '2mb'] }); });
 * afterAll(() => server?.stop());
 * ```
 *
 * Every wait is bounded and fails with the server's own last output. As a last resort, a
 * process exit handler kills servers a suite forgot to stop.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `redis-server` process of a test's own. */
export interface RedisServer {
  /** The port it listens on, on 127.0.0.1; the same after {@link RedisServer.restart}. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for node-redis `createClient({ url })`. */
  readonly url: string;
  /** The current process (a new one after {@link RedisServer.restart}). */
  readonly process: ChildProcess;
  /** The temp dir it runs in (removed by {@link RedisServer.stop}). */
  readonly dir: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its dir; safe to call twice. */
  stop(): Promise<void>;
  /**
   * Sends `signal` and resolves once the process has exited: `SIGKILL` (the default) is a
   * crash. For a server that hangs without exiting, use {@link RedisServer.pause}.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing until resumed. */
  pause(): void;
  /** SIGCONT after {@link RedisServer.pause}. */
  resume(): void;
  /**
   * Starts the server again on the same port, arguments and dir (stopping it first if it
   * still runs), and resolves once it accepts connections. Data is gone (nothing is
   * persisted), and so is its script cache; a cluster node rejoins from its config file.
   */
  restart(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** More `redis-server` arguments, such as `['--maxmemory', '1mb']`. */
  readonly args?: readonly string[];
  /**
   * Also require the cluster bus port (port + 10000) to be free, as a cluster node needs.
   * @default false
   */
  readonly clusterBus?: boolean;
}

/** Three masters in one Redis Cluster, all 16384 slots assigned. */
export interface RedisTestCluster {
  /** The masters, each a {@link RedisServer}. */
  readonly nodes: readonly RedisServer[];
  /** `redis://127.0.0.1:<port>` of each master: node-redis `createCluster({ rootNodes })`. */
  readonly rootNodes: readonly { readonly url: string }[];
  /** `{ host, port }` of each master: `new Redis.Cluster(startupNodes)`. */
  readonly startupNodes: readonly { readonly host: string; readonly port: number }[];
  /** Stops every node; safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** How long a server may take to say it accepts connections. */
const START_TIMEOUT_MS = 10_000;
/** How long a cluster may take to report `cluster_state:ok` on every node. */
const CLUSTER_TIMEOUT_MS = 20_000;
/** Attempts at a free port before giving up (another process can take one in between). */
const PORT_ATTEMPTS = 5;

/**
 * Every server process still running, for the exit handler: one set per process (kept on
 * globalThis), however many times test files load this module.
 */
const EXIT_HOOK = Symbol.for('sealed-session.test.redis-servers.exit-hook');
const hooks = globalThis as { [EXIT_HOOK]?: Set<ChildProcess> };
if (hooks[EXIT_HOOK] === undefined) {
  const all = new Set<ChildProcess>();
  hooks[EXIT_HOOK] = all;
  process.once('exit', () => {
    for (const child of all) child.kill('SIGKILL');
  });
}
const running = hooks[EXIT_HOOK];

/**
 * Runs `redis-cli` against `port` on 127.0.0.1 and gives its output, trimmed.
 *
 * @param port - the server's port
 * @param args - the command and its arguments, or redis-cli options such as `--cluster`
 * @throws Error when redis-cli fails or takes longer than `timeoutMs`
 */
export function redisCli(
  port: number,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', HOST, '-p', String(port), ...args],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
}

/**
 * Starts a `redis-server` on a free 127.0.0.1 port, persisting nothing, in a temp dir.
 *
 * @throws Error with the server's output when it does not start within 10 s
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const extra = options.args ?? [];
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort(options.clusterBus === true);
    const dir = mkdtempSync(join(tmpdir(), 'sealed-session-redis-'));
    try {
      return await serverOn(port, dir, extra);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      lastError = error;
      // Only a port taken in between is worth another attempt.
      if (!String(error).includes('Address already in use')) break;
    }
  }
  throw lastError;
}

/** Starts the process of a server whose port and dir are chosen, and gives its handle. */
async function serverOn(port: number, dir: string, extra: readonly string[]): Promise<RedisServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...extra,
  ];
  let child = await launch(args);
  let stopped = false;

  const exited = (process: ChildProcess): boolean =>
    process.exitCode !== null || process.signalCode !== null;

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = child;
    if (exited(current)) return;
    const done = exitOf(current);
    current.kill(signal);
    // A stopped process only acts on the signal once it runs again.
    if (signal !== 'SIGKILL') current.kill('SIGCONT');
    await done;
  };

  const terminate = async (): Promise<void> => {
    const current = child;
    if (exited(current)) return;
    const done = exitOf(current);
    current.kill('SIGCONT');
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 5_000);
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get process() {
      return child;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
      rmSync(dir, { recursive: true, force: true });
    },
    kill,
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart() {
      if (stopped) throw new Error(`redis-server on ${port} was stopped: start a new one`);
      await terminate();
      child = await launch(args);
    },
  };
}

/** Spawns redis-server and resolves once it says it accepts connections. */
function launch(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  let settled = false;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')}: ${reason}\n${output}`));
    };
    const timer = setTimeout(() => {
      fail(`not ready after ${START_TIMEOUT_MS} ms`);
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (!settled && output.includes('Ready to accept connections')) {
        settled = true;
        clearTimeout(timer);
        // Keep draining, so a chatty server never blocks on a full pipe.
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.stderr.on('data', keep);
    child.once('error', (error) => {
      fail(error.message);
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      fail(`exited (${signal ?? String(code)})`);
    });
  });
}

/**
 * Resolves when `child` has exited (at once when it already has).
 *
 * @throws Error when it is still running after `timeoutMs`
 */
function exitOf(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`redis-server (pid ${String(child.pid)}) still running after ${timeoutMs} ms`),
      );
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A port free on 127.0.0.1 at the time of asking (and its cluster bus port, when asked):
 * chosen at random below 55536, so that port + 10000 is a port too.
 */
async function freePort(withBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if ((await isFree(port)) && (!withBus || (await isFree(port + 10_000)))) return port;
  }
  throw new Error('no free port pair found on 127.0.0.1 after 50 attempts');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, HOST, () =>
      probe.close(() => {
        resolve(true);
      }),
    );
  });
}

/**
 * Starts three masters with cluster mode on, joins them with `redis-cli --cluster create`
 * (no replicas), and waits until every node reports `cluster_state:ok` and knows the
 * other two.
 *
 * @param options - more `redis-server` arguments for every node
 * @throws Error when a node does not start or the cluster is not ok within 20 s; the nodes
 *   started so far are stopped first
 */
export async function startCluster(
  options: { readonly args?: readonly string[] } = {},
): Promise<RedisTestCluster> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const node = await startRedis({
        clusterBus: true,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          ...(options.args ?? []),
        ],
      });
      nodes.push(node);
    }
    const first = nodes[0]!;
    await redisCli(
      first.port,
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `${HOST}:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      30_000,
    );
    await waitForClusterOk(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    rootNodes: nodes.map((node) => ({ url: node.url })),
    startupNodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    stop,
  };
}

/**
 * Polls `CLUSTER INFO` on every node until each says `cluster_state:ok` and knows every
 * node, so clients see the same slot map whichever node they ask first.
 *
 * @throws Error naming the last state seen after `timeoutMs`
 */
export async function waitForClusterOk(
  nodes: readonly RedisServer[],
  timeoutMs = CLUSTER_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const infos = await Promise.all(
      nodes.map((node) => redisCli(node.port, ['CLUSTER', 'INFO']).catch(String)),
    );
    const ok = infos.every(
      (info) =>
        info.includes('cluster_state:ok') &&
        info.includes(`cluster_known_nodes:${nodes.length}`) &&
        info.includes('cluster_slots_assigned:16384'),
    );
    if (ok) return;
    last = infos.join('\n---\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`cluster not ok after ${timeoutMs} ms; last CLUSTER INFO:\n${last}`);
}
