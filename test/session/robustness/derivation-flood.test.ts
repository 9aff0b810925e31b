/**
 * A flood of forged session cookies against a node:http server sealing with h3 2.x's options
 * (8192 PBKDF2 iterations). Each forged token names fresh salts, so checking it needs a key
 * derivation on libuv's thread pool, which fs, dns and zlib share. Uncapped, a few hundred
 * such requests queue their derivations ahead of every file read of the process; with the
 * engine's limit, the tokens past it wait in the engine's own queue, not in the pool's, and
 * the derivations take at most their share of time (half a thread): reads stay prompt, a
 * valid session keeps working, nothing fails with a 5xx, sessions sealed by h3 2.x (fresh
 * salts) arriving behind the flood wait their turn and open, the flood takes at least as
 * long as the share allows, and every forged token is checked and reaches `onInvalidToken`
 * as ERR_SEAL_UNSEAL_FAILED (420 waiting are within the engine's bound of 1024).
 *
 * The server runs on this thread. The flooding client and the file reader run in worker
 * threads of the same process: they share its thread pool (the reader's reads wait behind
 * the server's derivations exactly as the server's own would) but not its event loop, so
 * the reads measure the pool, not the server's loop busy parsing hundreds of requests at
 * once, which costs the same with or without the cap.
 */
import { randomBytes } from 'node:crypto';
import * as Hapi from '@hapi/iron';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toNodeListener } from '../../../src/adapters/node.js';
import { eventHandler, useSession, type SessionConfig } from '../../../src/index.js';
import { nodeBackend } from '../../../src/iron/backend/node.js';
import { defaultLimits } from '../../../src/iron/create-iron.js';
import { listen, type RunningServer } from '../interop/harness.js';

const PASSWORD = 'flood_test_password_of_at_least_32_characters';
const NAME = 'h3';
/** h3 2.x's seal options. */
const SEAL = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
const FORGED = 400;
/** Sessions h3 2.x sealed (fresh salts each, 8192 iterations) that arrive during the flood. */
const PEERS = 20;
const VALID_DATA = { user: 'valid', n: 7 };
/**
 * Longest read of a small file allowed during the flood, generous enough for a loaded
 * two-core machine. With the cap, each of a read's few thread-pool operations waits behind
 * at most the capped derivations; without it, a read can wait behind most of the flood's
 * hundreds, well past this bound.
 */
const READ_BOUND_MS = 800;
/** The engine's share of time for these derivations, what it lets through at once, its limit. */
const SHARE = defaultLimits.unverifiedDerivationShare;
const BURST_MS = defaultLimits.unverifiedDerivationBurstMs;
const LIMIT = defaultLimits.unverifiedDerivations;

/** One derivation of an unverified token's MAC key: when it started and how long it took. */
interface Derivation {
  readonly start: number;
  readonly took: number;
}

/**
 * The least time the share lets `derivations` span, from the first start to the last: when
 * the last one started the budget was not spent, and it held at most the burst, plus half of
 * the time since the first start, less what the derivations already over had taken (all but
 * at most the limit's worth still running). Each is timed here from its start in the backend
 * to its end, within what the share charged it, so the bound holds however loaded the
 * machine is; without the share, a pool of threads would run them far faster than this.
 */
function shareBoundMs(derivations: readonly Derivation[]): number {
  const over = derivations
    .map(({ took }) => took)
    .sort((a, b) => a - b)
    .slice(0, derivations.length - LIMIT);
  return (over.reduce((sum, took) => sum + took, 0) - BURST_MS) / SHARE;
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

const codes: string[] = [];
const handlerErrors: unknown[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

let server: RunningServer;
let agent: Agent;
let dir = '';
let smallFile = '';
let validCookie = '';

const config: SessionConfig = {
  password: PASSWORD,
  name: NAME,
  seal: SEAL,
  onInvalidToken: ({ error }) => {
    codes.push(error.code);
  },
};

function get(path: string, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.origin}${path}`,
      { agent, headers: cookie === undefined ? {} : { cookie } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64urlChars(count: number): string {
  let out = '';
  for (const byte of randomBytes(count)) out += BASE64URL.charAt(byte & 63);
  return out;
}

/** A well-formed token with fresh random salts, IV, ciphertext and MAC. */
function forged(): string {
  const salt = (): string => randomBytes(32).toString('hex');
  return `Fe26.2**${salt()}*${base64urlChars(22)}*${base64urlChars(64)}**${salt()}*${base64urlChars(43)}`;
}

/** The reader (a worker): reads the small file over and over until told to stop. */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFile } = require('node:fs/promises');
const { performance } = require('node:perf_hooks');
const stop = new Int32Array(workerData.stop);
(async () => {
  const durations = [];
  parentPort.postMessage('ready');
  while (Atomics.load(stop, 0) === 0) {
    const start = performance.now();
    await readFile(workerData.file);
    durations.push(performance.now() - start);
  }
  parentPort.postMessage(durations);
})();
`;

/** Starts the reader; `stop` ends it and gives every read's duration, in milliseconds. */
async function startReader(): Promise<{ stop: () => Promise<number[]> }> {
  const flag = new SharedArrayBuffer(4);
  const reader = new Worker(READER, { eval: true, workerData: { file: smallFile, stop: flag } });
  const message = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
  expect(await message()).toBe('ready');
  return {
    stop: async () => {
      const durations = message();
      Atomics.store(new Int32Array(flag), 0, 1);
      const result = (await durations) as number[];
      await reader.terminate();
      return result;
    },
  };
}

/**
 * The flooding client (a worker). It opens one connection per token first, then writes every
 * request in the same turn, so the server reads them as one burst (as from many machines),
 * not at the pace connections are set up. Raw HTTP/1.1; says 'sent', then answers each
 * response's status and body.
 */
const FLOOD_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { port, name, tokens } = workerData;
const open = (token) =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, token }));
    socket.once('error', reject);
  });
const send = ({ socket, token }) =>
  new Promise((resolve) => {
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => resolve({ status: 0, body: String(error) }));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\\/1\\.1 (\\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\\r\\n\\r\\n') + 4) });
    });
    socket.write('GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nCookie: ' + name + '=' + token +
      '\\r\\nConnection: close\\r\\n\\r\\n');
  });
Promise.all(tokens.map(open))
  .then((sockets) => {
    const replies = Promise.all(sockets.map(send));
    parentPort.postMessage('sent');
    return replies;
  })
  .then((replies) => parentPort.postMessage(replies));
`;

interface FloodResult {
  readonly reads: number[];
  readonly forged: Reply[];
  readonly valid: Reply[];
  /** The peers' sessions, each read once during the flood. */
  readonly peers: Reply[];
  /** Milliseconds from the burst until the last forged request was answered. */
  readonly forgedMs: number;
}

/**
 * Sends FORGED forged cookies at once while the reader reads; the valid session sends a
 * request every few milliseconds from the burst until the flood is answered.
 */
async function flood(
  tokens: readonly string[],
  peerCookies: readonly string[],
): Promise<FloodResult> {
  const reader = await startReader();
  const port = Number(new URL(server.origin).port);
  const client = new Worker(FLOOD_CLIENT, { eval: true, workerData: { port, name: NAME, tokens } });
  const flooding = { answered: false };
  let sent = 0;
  const forgedReplies = new Promise<Reply[]>((resolve, reject) => {
    client.on('message', (message: unknown) => {
      if (message !== 'sent') resolve(message as Reply[]);
    });
    client.once('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    client.once('message', () => {
      sent = performance.now();
      resolve();
    });
    client.once('error', reject);
  });
  // Behind the flood in the queue: each waits its turn and opens.
  const peerReplies = Promise.all(peerCookies.map((cookie) => get('/', cookie)));
  const validReplies: Promise<Reply>[] = [];
  const validRequests = (async () => {
    while (!flooding.answered || validReplies.length < 5) {
      validReplies.push(get('/', validCookie));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const forgedDone = await forgedReplies;
  const forgedMs = performance.now() - sent;
  flooding.answered = true;
  await validRequests;
  await client.terminate();
  return {
    reads: await reader.stop(),
    forged: forgedDone,
    valid: await Promise.all(validReplies),
    peers: await peerReplies,
    forgedMs,
  };
}

describe('a flood of forged tokens at 8192 iterations (node adapter)', () => {
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = await mkdtemp(join(tmpdir(), 'sealed-session-flood-'));
    smallFile = join(dir, 'small.txt');
    await writeFile(smallFile, 'a small file\n');
    agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    server = await listen(
      toNodeListener(
        eventHandler(async (event) => {
          const session = await useSession(event, config);
          if (event.path === '/init') await session.update(VALID_DATA);
          return { id: session.id, data: session.data };
        }),
        {
          onError: (error) => {
            handlerErrors.push(error);
          },
        },
      ),
    );
    const init = await new Promise<string[]>((resolve, reject) => {
      request(`${server.origin}/init`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.headers['set-cookie'] ?? []);
        });
      })
        .on('error', reject)
        .end();
    });
    const line = init.find((cookie) => cookie.startsWith(`${NAME}=`));
    expect(line).toBeDefined();
    validCookie = line!.split(';')[0]!;
  });

  afterAll(async () => {
    agent.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
    process.off('unhandledRejection', onUnhandled);
  });

  it(`${FORGED} forged cookies at once: reads stay prompt, the valid session works, no 5xx`, async () => {
    const idleReader = await startReader();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const idle = await idleReader.stop();
    const peerSessions = Array.from({ length: PEERS }, (_, n) => ({
      id: `peer-${n}`,
      createdAt: Date.now(),
      data: { peer: n },
    }));
    const peerCookies = await Promise.all(
      peerSessions.map(
        async (session) =>
          `${NAME}=${await Hapi.seal(session, PASSWORD, {
            ...Hapi.defaults,
            encryption: { ...Hapi.defaults.encryption, iterations: 8192 },
            integrity: { ...Hapi.defaults.integrity, iterations: 8192 },
          })}`,
      ),
    );
    const tokens = Array.from({ length: FORGED }, forged);
    // The MAC keys the flood and the peers need, each timed in the backend.
    const macSalts = new Set(
      [...tokens, ...peerCookies.map((cookie) => cookie.slice(NAME.length + 1))].map(
        (token) => token.split('*')[6],
      ),
    );
    const derivations: Derivation[] = [];
    const derive = nodeBackend.deriveKey.bind(nodeBackend);
    const spy = vi.spyOn(nodeBackend, 'deriveKey').mockImplementation((...args) => {
      const made = derive(...args);
      if (made instanceof Promise && macSalts.has(args[1])) {
        const start = performance.now();
        const timed = (): void => {
          derivations.push({ start, took: performance.now() - start });
        };
        made.then(timed, timed);
      }
      return made;
    });
    let result: FloodResult;
    try {
      result = await flood(tokens, peerCookies);
    } finally {
      spy.mockRestore();
    }
    const starts = derivations.map(({ start }) => start);
    const spanMs = Math.max(...starts) - Math.min(...starts);
    const boundMs = shareBoundMs(derivations);
    const slowest = Math.max(...result.reads);
    console.info(
      `[derivation-flood] small-file read: idle max ${Math.max(...idle).toFixed(1)} ms; ` +
        `during the flood max ${slowest.toFixed(1)} ms over ${result.reads.length} reads; ` +
        `valid-session requests: ${result.valid.length}; ` +
        `forged answered in ${(result.forgedMs / 1000).toFixed(1)} s; ${derivations.length} ` +
        `derivations started over ${(spanMs / 1000).toFixed(2)} s, the share's least ` +
        `${(boundMs / 1000).toFixed(2)} s`,
    );

    expect(slowest).toBeLessThan(READ_BOUND_MS);
    // Every forged and peer token's MAC key derived once, within the share of time (a margin
    // for the clock reads between the share's timing and this one).
    expect(derivations).toHaveLength(FORGED + PEERS);
    expect(spanMs).toBeGreaterThan(0.95 * boundMs);
    for (const reply of result.valid) {
      expect(reply.status).toBe(200);
      expect((JSON.parse(reply.body) as { data: unknown }).data).toEqual(VALID_DATA);
    }
    // No fake sign-out: every session sealed elsewhere opened, though it waited behind the
    // flood for its derivations.
    expect(result.peers.map((reply) => reply.status)).toEqual(peerSessions.map(() => 200));
    expect(result.peers.map((reply) => JSON.parse(reply.body) as unknown)).toEqual(
      peerSessions.map(({ id, data }) => ({ id, data })),
    );
    for (const reply of result.forged) {
      // No 5xx, nor any other failure: each forged token gets a fresh, empty session.
      expect(reply.status).toBe(200);
      expect((JSON.parse(reply.body) as { data: unknown }).data).toEqual({});
    }
    expect(codes).toHaveLength(FORGED);
    expect(new Set(codes)).toEqual(new Set(['ERR_SEAL_UNSEAL_FAILED']));
    expect(handlerErrors).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
