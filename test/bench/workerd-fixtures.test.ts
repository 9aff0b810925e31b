/**
 * The workerd benchmark's worker must compute the right answer: each library seals and
 * unseals there, and unseal walks its pool of distinct tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM benchmark module without type declarations
import * as bench from '../../bench/iron-workerd.mjs';

interface Worker {
  call: (lib: string, op: string, n: number) => Promise<{ check: number }>;
  dispose: () => Promise<void>;
}
const { startBenchWorker } = bench as { startBenchWorker: () => Promise<Worker> };

describe('workerd benchmark worker', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await startBenchWorker();
  }, 60_000);
  afterAll(async () => {
    await worker.dispose();
  });

  it.each(['ours', 'iwc1'])(
    '%s unseals its pool in order (0 + 1 + 2 + 3 + 4)',
    async (lib) => {
      await expect(worker.call(lib, 'unseal', 5)).resolves.toEqual({ check: 10 });
    },
    30_000,
  );

  it.each(['ours', 'iwc1'])(
    '%s seals Fe26.2 tokens of a plausible length',
    async (lib) => {
      const { check } = await worker.call(lib, 'seal', 3);
      expect(check / 3).toBeGreaterThan(200);
      expect(check / 3).toBeLessThan(600);
    },
    30_000,
  );
});
