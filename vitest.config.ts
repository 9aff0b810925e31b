/**
 * Vitest configuration: two projects. `unit` is the fast loop (`npm run test:unit`): every
 * suite that runs in this Node process, without browsers, other runtimes, framework builds
 * or packing the package. `integration` is the rest. `npm test` runs both.
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
