/**
 * Bundles an entry module for workerd the way wrangler does: platform neutral (a stray
 * `node:` import fails the build), the workerd export conditions, no nodejs_compat. Used
 * by the runtime tests, the README test and the workerd benchmark.
 */
import { build } from 'esbuild';

/** The export conditions wrangler gives workerd; they select the WebCrypto backend. */
export const WORKERD_CONDITIONS = Object.freeze(['workerd', 'worker', 'browser']);

/**
 * @param {{ entry: string, outfile: string, workingDir?: string }} options
 * @returns {Promise<void>}
 */
export async function bundleForWorkerd({ entry, outfile, workingDir }) {
  await build({
    ...(workingDir === undefined ? {} : { absWorkingDir: workingDir }),
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    conditions: [...WORKERD_CONDITIONS],
    // A neutral build reads no package.json main fields by default; dependencies without
    // an `exports` map (cookie) need `main`, as wrangler resolves them.
    mainFields: ['browser', 'module', 'main'],
    // The repository's tsconfig maps #crypto-backend to the node sources for type checking,
    // and esbuild honours tsconfig paths over the package's `imports`. A published copy
    // ships no tsconfig, so none is used here either.
    tsconfigRaw: {},
    logLevel: 'silent',
  });
}
