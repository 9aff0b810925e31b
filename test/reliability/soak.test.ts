/**
 * The soak in CI: tools/soak.mjs for two minutes (`npm run soak` runs it for an hour), with
 * the same pass rules. Mixed traffic (reads, writes, regenerations, clears, large sessions,
 * bad cookies, some connections closed after one request) against two servers in processes
 * of their own, side by side, at 150 requests per second each: cookie mode (the node adapter
 * and useSession, tools/reliability-server.mjs) and store mode (the same routes with the
 * sessions in a `redis-server` of the soak's own, through `redisStore` and node-redis v5).
 * After a warm-up of 24 s (paced at three times that), heapUsed after GC must grow less than
 * 5% and descriptors other than connections must not grow, in each mode; every response must
 * be a 200 matching the client's model of its session, each bad cookie refused exactly once
 * with a fresh session.
 *
 * Store mode: halfway through the rest of the run Redis is killed (SIGKILL) and started
 * again 3 s later on the same port, empty. In between, requests that need the store get a
 * 503 (never a 500), with no Set-Cookie when they carried a session cookie; the server must
 * work again within 10 s of the restart by itself, and give no 503 after; each user whose
 * record was lost gets a fresh session once (one `ERR_SESSION_REVOKED` refusal, none before
 * the kill); Redis holds no more session records at the end than there are users, and no
 * key without an expiry.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../tools/soak.mjs', import.meta.url));
const SECONDS = 120;
const USERS = 16;

/** The fields of one mode's figures read here. */
interface ModeReport {
  readonly pass: boolean;
  readonly failures: readonly string[];
  readonly firstProblems: readonly string[];
  readonly totals: {
    readonly requests: number;
    readonly requestsPerSecond: number;
    readonly badCookies: number;
    readonly errorResponses: number;
    readonly unavailable: number;
    readonly wrongAnswers: number;
    readonly clientErrors: number;
    readonly operations: Readonly<Record<string, number>>;
  };
  readonly server: {
    readonly handlerErrors: number;
    readonly unavailable: number | undefined;
    readonly refusals: Readonly<Record<string, number>>;
  };
  readonly heap: { readonly growth: number; readonly baseline: number; readonly final: number };
  readonly fds: { readonly nonConnectionBaseline: number; readonly nonConnectionMax: number };
  readonly outage?: {
    readonly responses503: number;
    readonly unexpected503: number;
    readonly cookiesOn503: number;
    readonly recoveryMs: number | undefined;
    readonly revokedBeforeKill: number;
    readonly revocationsSeen: number;
    readonly revocationsReported: number;
  };
  readonly redis?: { readonly recordsAtEnd: number; readonly keysWithoutExpiry: number };
}

/** The fields of the soak's report read here. */
interface SoakReport {
  readonly pass: boolean;
  readonly failures: readonly string[];
  readonly modes: { readonly cookie: ModeReport; readonly store: ModeReport };
}

it(
  `a ${SECONDS} s soak of mixed traffic in cookie and store mode, Redis restarted midway: no error but the outage's 503s, no heap or descriptor growth`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealed-session-soak-'));
    try {
      const reportFile = join(dir, 'soak.json');
      const output: string[] = [];
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [SCRIPT, `${SECONDS}s`, '--report', reportFile, '--concurrency', String(USERS)],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
        child.once('error', reject);
        child.once('exit', resolve);
      });
      const log = output.join('');
      const report = JSON.parse(await readFile(reportFile, 'utf8')) as SoakReport;
      // The verdict and its figures (the whole log when the run died before one).
      const verdict = Math.max(log.lastIndexOf('\nPASS'), log.lastIndexOf('\nFAIL')) + 1;
      console.info(`[soak] ${log.slice(verdict)}`);

      expect(report.failures, log).toEqual([]);
      for (const mode of ['cookie', 'store'] as const) {
        const figures = report.modes[mode];
        expect(figures.failures, mode).toEqual([]);
        expect(figures.totals.errorResponses, mode).toBe(0);
        expect(figures.totals.wrongAnswers, mode).toBe(0);
        expect(figures.totals.clientErrors, mode).toBe(0);
        expect(figures.server.handlerErrors, mode).toBe(0);
        const refusals = Object.values(figures.server.refusals).reduce((sum, n) => sum + n, 0);
        const revoked = figures.server.refusals['ERR_SESSION_REVOKED'] ?? 0;
        expect(refusals - revoked, mode).toBe(figures.totals.badCookies);
        expect(figures.heap.growth, mode).toBeLessThan(0.05);
        expect(figures.fds.nonConnectionMax, mode).toBeLessThanOrEqual(
          figures.fds.nonConnectionBaseline,
        );
        for (const operation of ['read', 'write', 'regenerate', 'clear', 'chunked', 'bad']) {
          expect(figures.totals.operations[operation] ?? 0, `${mode} ${operation}`).toBeGreaterThan(
            0,
          );
        }
        expect(figures.pass, mode).toBe(true);
      }

      const cookie = report.modes.cookie;
      expect(cookie.totals.unavailable).toBe(0);
      expect(cookie.server.refusals['ERR_SESSION_REVOKED'] ?? 0).toBe(0);

      const store = report.modes.store;
      const outage = store.outage!;
      expect(outage.responses503, 'the outage was seen').toBeGreaterThan(0);
      expect(outage.unexpected503, '503s outside the outage').toBe(0);
      expect(outage.cookiesOn503, 'Set-Cookie on a 503 of a request with a session').toBe(0);
      expect(outage.recoveryMs, 'back by itself after the restart').toBeLessThanOrEqual(10_000);
      expect(store.server.unavailable).toBe(store.totals.unavailable);
      expect(outage.revokedBeforeKill).toBe(0);
      expect(outage.revocationsReported).toBeGreaterThanOrEqual(outage.revocationsSeen);
      expect(outage.revocationsReported).toBeLessThanOrEqual(USERS);
      expect(store.redis!.recordsAtEnd, 'session records left in Redis').toBeLessThanOrEqual(USERS);
      expect(store.redis!.keysWithoutExpiry, 'keys in Redis that never end').toBe(0);

      expect(report.pass).toBe(true);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  (SECONDS + 90) * 1000,
);
