/**
 * Vitest configuration: two projects. `unit` is the fast loop (`npm run test:unit`): every
 * suite that runs in this Node process, without browsers, other runtimes, framework builds,
 * packing the package, or the reliability suites that load the machine for minutes. `integration` is the rest. `npm test` runs both.
 */
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/** Suites that start browsers, other runtimes, framework builds, or pack the package. */
const INTEGRATION = [
  'test/browser/**/*.test.ts',
  'test/runtimes/**/*.test.ts',
  'test/frameworks/**/*.test.ts',
  'test/package/**/*.test.ts',
  'test/readme/**/*.test.ts',
  // Minutes of load on purpose: the flood and the two-minute soak.
  'test/reliability/flood.test.ts',
  'test/reliability/soak.test.ts',
];

export default defineConfig({
  resolve: {
    // Sources import the backend through the package's "#crypto-backend" import map, which
    // points into dist/; tests run against the sources with the node backend. Tests of the
    // built package (test/package) exercise the real export conditions.
    alias: {
      '#crypto-backend': fileURLToPath(
        new URL('./src/iron/backend/select-node.ts', import.meta.url),
      ),
    },
  },
  test: {
    sequence: { shuffle: true },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Off unless asked (`vitest run --coverage`): v8 coverage of the sources the tests load
    // in this process. The bin, other runtimes and browsers run dist/ in processes of their
    // own, which it does not see; test/reliability/UNCOVERED.md lists what stays uncovered.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // json: the per-branch counts tools/uncovered.mjs lists the uncovered branches from.
      reporter: ['text-summary', 'json-summary', 'json'],
      reportsDirectory: 'coverage',
      // A red run still reports, so a failure does not hide where coverage stands.
      reportOnFailure: true,
      // For whole runs (`vitest run --coverage`, with or without `--project unit`); a run of
      // a few files with --coverage falls below it and fails, by design of the check.
      thresholds: { branches: 95 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...INTEGRATION],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: INTEGRATION },
      },
    ],
  },
});
