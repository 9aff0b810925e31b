/**
 * The long fuzz run (`npm run fuzz`): test/reliability/token-fuzz.test.ts with a million
 * mutants instead of the CI run's twelve thousand, and, with `--requests`, the bad-input
 * HTTP suite over the six hosts with that many requests. Both print their seed and figures.
 *
 *   node tools/fuzz.mjs [--mutations N] [--seed N] [--requests N]
 *
 * `--seed` replays a run (the same seed gives the same cases). The suites read their sizes
 * and seeds from environment variables, so a plain `vitest run` of either file can do the
 * same; this script only spells them out and works the same on every shell.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

const usage = 'usage: node tools/fuzz.mjs [--mutations N] [--seed N] [--requests N]';

/**
 * Reads `--name N` pairs; every value must be a non-negative integer.
 *
 * @param {readonly string[]} args
 * @returns {Map<string, string>}
 */
function parseArgs(args) {
  /** @type {Map<string, string>} */
  const options = new Map();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] ?? '';
    const value = args[i + 1] ?? '';
    if (!['--mutations', '--seed', '--requests'].includes(name) || !/^\d+$/.test(value)) {
      console.error(usage);
      process.exit(2);
    }
    options.set(name.slice(2), value);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const seed = options.get('seed');

/** @type {[file: string, env: Record<string, string>][]} */
const runs = [
  [
    'test/reliability/token-fuzz.test.ts',
    {
      TOKEN_FUZZ_MUTATIONS: options.get('mutations') ?? '1000000',
      ...(seed === undefined ? {} : { TOKEN_FUZZ_SEED: seed }),
    },
  ],
];
const requests = options.get('requests');
if (requests !== undefined) {
  runs.push([
    'test/reliability/http-bad-input.test.ts',
    {
      HTTP_BAD_INPUT_REQUESTS: requests,
      ...(seed === undefined ? {} : { HTTP_BAD_INPUT_SEED: seed }),
    },
  ]);
}

let failed = false;
for (const [file, env] of runs) {
  console.info(`fuzz: ${file} ${JSON.stringify(env)}`);
  const result = spawnSync(process.execPath, [vitest, 'run', '--project', 'unit', file], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
