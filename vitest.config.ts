import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

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
    include: ['test/**/*.test.ts'],
    sequence: { shuffle: true },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
