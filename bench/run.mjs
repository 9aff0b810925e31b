/**
 * `npm run bench`: the Fe26.2 benchmarks (Node, then workerd for the WebCrypto backend),
 * then the HTTP benchmarks (one process, then two behind a round-robin), each in its own
 * process,
 * then the chart and README section from their results. Not a test: nothing here fails
 * on a missed target (the benchmarks print PASS/FAIL).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** @param {string} file */
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

for (const script of [
  'iron.mjs',
  'iron-workerd.mjs',
  'http.mjs',
  'http-processes.mjs',
  'chart.mjs',
]) {
  console.log(`\n=== ${script} ===`);
  const { status } = spawnSync(process.execPath, [here(script)], {
    stdio: 'inherit',
  });
  if (status !== 0) {
    console.error(`${script} failed with status ${status}`);
    process.exit(status ?? 1);
  }
}

// Store mode (bench/store.mjs): sealed-session over Redis against express-session +
// connect-redis, and memoryStore's heap per session. Needs the Redis at 127.0.0.1:6379;
// its figures go to the terminal and bench/results/NOTES.md, not to the chart.
console.log('\n=== store.mjs ===');
const store = spawnSync(process.execPath, [here('store.mjs')], { stdio: 'inherit' });
if (store.status !== 0) {
  console.error(`store.mjs failed with status ${store.status}`);
  process.exit(store.status ?? 1);
}
