/**
 * The reliability tests' handle on tools/reliability-server.mjs: starts it in its own process
 * (forked, with --expose-gc) on 127.0.0.1, asks it for heap samples and counters over IPC,
 * and reads its CPU time and open file descriptors from Linux's /proc. A process of its own
 * keeps the server's heap, CPU time and descriptors apart from the test runner's and the
 * load generators'.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../tools/reliability-server.mjs', import.meta.url));
/** USER_HZ: 100 on every Linux configuration Node runs on. */
const CLOCK_TICKS = 100;

/** The counters the server keeps (see tools/reliability-server.mjs). */
export interface ServerCounters {
  readonly requests: number;
  readonly routes: Readonly<Record<string, number>>;
  readonly rejections: Readonly<Record<string, number>>;
  readonly emptyWithCookie: number;
  readonly handlerErrors: number;
  /** Store mode: ERR_STORE_UNAVAILABLE answers (503s). */
  readonly unavailable: number;
  readonly firstError?: string;
  /** Store mode: the Redis client's connection events. */
  readonly redis: {
    readonly errors: number;
    readonly reconnecting: number;
    readonly ready: number;
  };
}

/** One `sample`: heap figures after full GCs, connections, CPU time, counters. */
export interface ServerSample {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly rss: number;
  readonly connections: number;
  /** Requests still being handled after waiting up to 5 s for none. */
  readonly inFlight: number;
  readonly cpuMicros: number;
  readonly counters: ServerCounters;
}

/** A running server process. */
export interface ServerProcess {
  readonly origin: string;
  /** What the server says it runs: `store` with a Redis URL, else `cookie`. */
  readonly mode: 'cookie' | 'store';
  readonly pid: number;
  sample(): Promise<ServerSample>;
  reset(): Promise<void>;
  /** CPU time (user + system, all threads) used so far, in microseconds, from /proc. */
  cpuMicros(): number;
  /** Open file descriptors, from /proc. */
  fds(): number;
  stop(): Promise<void>;
}

/**
 * Starts the server; `iterations` 0 seals with iron's defaults, `derivationLimit` undefined
 * keeps iron's limit on derivations for unverified tokens, and `redisUrl` runs it in store
 * mode with the sessions in the Redis there.
 */
export async function startServer(
  iterations = 0,
  derivationLimit?: number,
  redisUrl?: string,
): Promise<ServerProcess> {
  const args = ['--iterations', String(iterations), '--max-seconds', '900'];
  if (derivationLimit !== undefined) args.push('--derivation-limit', String(derivationLimit));
  if (redisUrl !== undefined) args.push('--redis-url', redisUrl);
  const child: ChildProcess = fork(SCRIPT, args, {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (reply: Record<string, unknown>) => void>();
  let nextId = 1;
  let mode: 'cookie' | 'store' = 'cookie';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the reliability server did not start within 30 s'));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the reliability server exited with ${code}`));
    });
    child.on('message', (message: Record<string, unknown>) => {
      if (message['ready'] === true) {
        clearTimeout(timer);
        mode = message['mode'] === 'store' ? 'store' : 'cookie';
        resolve(message['port'] as number);
        return;
      }
      const id = message['id'] as number;
      pending.get(id)?.(message);
      pending.delete(id);
    });
  });
  const pid = child.pid!;
  const ask = (cmd: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        if (typeof reply['error'] === 'string') reject(new Error(reply['error']));
        else resolve(reply);
      });
      child.send({ id, cmd });
    });
  return {
    origin: `http://127.0.0.1:${port}`,
    mode,
    pid,
    sample: async () => (await ask('sample')) as unknown as ServerSample,
    reset: async () => {
      await ask('reset');
    },
    cpuMicros: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
    },
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.removeAllListeners('exit');
        child.once('exit', () => {
          resolve();
        });
        // Losing its parent's channel ends the server; a kill makes sure.
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
