/**
 * Seal and unseal throughput of sealed-session (node and WebCrypto backends, as built in dist/)
 * against iron-webcrypto 1.x and 2.x and @hapi/iron 7, in one process, with the Fe26.2
 * issue's yardstick (a minimal synchronous node:crypto Fe26.2, see iron-fixtures.mjs) for
 * context: like sealed-session it only uses the CPU, so the ratio to it holds whatever the
 * load, while ratios to the peers (which wait on the thread pool) move with it.
 *
 * Method: after a warm-up that also sizes the batches, R rounds; in each round every
 * (case, library) pair runs one timed batch of sequential awaited operations, the library order
 * rotating from round to round, so drift on a shared machine hits every library alike. The
 * median over rounds is reported, with the spread (max - min) / median as a noise indicator.
 *
 * Cases:
 *   seal           the same ~150-byte session, sealed again and again (sealed-session's salt
 *                  reuse, bounded to 10,000 seals or 60 s, is in its steady state)
 *   unseal fresh   each unseal a distinct token, cycling through a pool of POOL_SIZE tokens
 *                  sealed by the same library (more than sealed-session's 1,024 verified
 *                  tokens, so that cache never hits): the real crypto cost
 *   unseal repeat  one token again and again, as a session cookie arrives on every request;
 *                  sealed-session answers from its verified-token cache
 *   unseal never-seen salts
 *                  sealed-session only: fresh tokens sealed by @hapi/iron, a new salt each (as
 *                  h3 seals, or another process, or one before a restart), so every unseal
 *                  derives both keys (PBKDF2) again; compared with each peer's fresh unseal
 *   unseal forged  more such tokens, with a wrong MAC: each needs the MAC key derived
 *                  before it is refused (sealed-session and @hapi/iron)
 *
 * Besides wall time, each batch records the process's CPU time (process.cpuUsage: every
 * thread, so the thread-pool work of the peers that use it counts too): on a loaded shared
 * machine CPU µs per operation moves much less than operations per second.
 *
 * Usage: npm run build && node bench/iron.mjs [--rounds 7] [--batch-ms 150] [--warmup-ms 250]
 *          [--pool 4096] [--out bench/results/iron.json] [--no-write]
 * The targets are printed as PASS/FAIL; missing one never fails the process. They are
 * ratios within the run, except the forged-token refusal, which is CPU µs per token.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  PASSWORD,
  PAYLOAD,
  PAYLOAD_JSON_BYTES,
  POOL_SIZE,
  VERIFIED_TOKEN_CACHE,
  buildTokenPool,
  createAdapters,
  forgeToken,
  payloadFor,
} from './iron-fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'batch-ms': { type: 'string', default: '150' },
    'warmup-ms': { type: 'string', default: '250' },
    pool: { type: 'string', default: String(POOL_SIZE) },
    out: { type: 'string', default: resolve(here, 'results/iron.json') },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const BATCH_MS = Number(args['batch-ms']);
const WARMUP_MS = Number(args['warmup-ms']);
const POOL = Number(args.pool);
if (POOL <= VERIFIED_TOKEN_CACHE) {
  console.warn(
    `warning: a pool of ${POOL} tokens fits sealed-session's verified-token cache (${VERIFIED_TOKEN_CACHE}); "fresh" unseals will hit it`,
  );
}

/**
 * @typedef {import('./iron-fixtures.d.mts').IronAdapter} IronAdapter
 * @typedef {IronAdapter['id']} LibraryId
 * @typedef {'seal' | 'unsealFresh' | 'unsealRepeat' | 'unsealForeign' | 'unsealForged'} CaseId
 * @typedef {{ opsPerSec: number, usPerOp: number, cpuUsPerOp: number, spread: number,
 *   batch: number, samples: number[] }} CaseResult - one library in one case
 * @typedef {{ caseId: CaseId, adapter: IronAdapter, op: () => Promise<unknown>, count: number,
 *   samples: number[], cpuSamples: number[] }} Job - one timed (case, library) pair
 * @typedef {Record<LibraryId, Record<LibraryId, number>>} RatioRows - ours, then peer
 */

/** @type {Array<{ id: CaseId, label: string, note: string, only?: LibraryId[] }>} */
const CASES = [
  { id: 'seal', label: 'seal', note: `same ${PAYLOAD_JSON_BYTES}-byte payload every time` },
  {
    id: 'unsealFresh',
    label: 'unseal, fresh tokens',
    note: `a distinct token each time, cycling ${POOL} tokens (> ${VERIFIED_TOKEN_CACHE}-token cache): crypto cost`,
  },
  {
    id: 'unsealRepeat',
    label: 'unseal, repeat token',
    note: 'the same token each time, like a session cookie across requests (our verified-token cache hits)',
  },
  {
    id: 'unsealForeign',
    label: 'unseal, never-seen salts',
    note: 'fresh @hapi/iron tokens, a new salt each (as h3 seals): both keys derived per unseal',
    only: ['ss-node', 'ss-web'],
  },
  {
    id: 'unsealForged',
    label: 'unseal, forged tokens',
    note: 'fresh @hapi/iron tokens with a wrong MAC: the MAC key derived, then refused',
    only: ['ss-node', 'ss-web', 'hapi'],
  },
];

/**
 * The case each peer is compared in: a token with never-seen salts is compared with the
 * peer's own fresh unseal (every @hapi/iron or iron-webcrypto unseal derives both keys).
 *
 * @param {CaseId} caseId
 * @returns {CaseId}
 */
const peerCaseOf = (caseId) => (caseId === 'unsealForeign' ? 'unsealFresh' : caseId);

// 'minimal' is the issue's yardstick, not a peer library: shown for context, no target.
/** @type {LibraryId[]} */
const PEERS = ['iwc-v1', 'iwc-v2', 'hapi', 'minimal'];
/** @type {LibraryId[]} */
const OURS = ['ss-node', 'ss-web'];

/**
 * Ratio targets: ours in `caseId` ÷ `peer` in `peerCase` (peerCaseOf(caseId) unless given)
 * at least `min`.
 *
 * @type {Array<[ours: LibraryId, caseId: CaseId, peer: LibraryId, min: number, peerCase?: CaseId]>}
 */
const TARGETS = [
  ['ss-node', 'unsealFresh', 'iwc-v1', 40],
  ['ss-node', 'unsealFresh', 'hapi', 10],
  ['ss-node', 'seal', 'iwc-v1', 40],
  ['ss-node', 'seal', 'hapi', 10],
  ['ss-web', 'unsealFresh', 'iwc-v1', 8],
  ['ss-web', 'seal', 'iwc-v1', 8],
  ['ss-node', 'unsealForeign', 'hapi', 5],
  // Never-seen salts at least half as fast as known ones (the same library's fresh unseal).
  ['ss-node', 'unsealForeign', 'ss-node', 0.5, 'unsealFresh'],
];

/** CPU-time targets: ours in `caseId` at most `max` µs of CPU per operation. */
/** @type {Array<[ours: LibraryId, caseId: CaseId, max: number]>} */
const CPU_TARGETS = [['ss-node', 'unsealForged', 10]];

/**
 * @param {number[]} values - one per round, at least one (the casts say so)
 * @returns {number}
 */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = /** @type {number} */ (sorted[mid]);
  const lower = /** @type {number} */ (sorted[mid - 1]); // read only for an even count
  return sorted.length % 2 === 1 ? upper : (lower + upper) / 2;
};

/**
 * Runs `count` awaited operations; returns the elapsed milliseconds and the process's CPU
 * time in µs over them.
 *
 * @param {() => Promise<unknown>} op
 * @param {number} count
 */
async function timed(op, count) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < count; i++) await op();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system };
}

/**
 * Runs the operation for about `ms` milliseconds; returns operations per second.
 *
 * @param {() => Promise<unknown>} op
 * @param {number} ms
 */
async function rateFor(op, ms) {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    await op();
    count++;
    elapsed = performance.now() - start;
  }
  return (count * 1000) / elapsed;
}

/**
 * A function that returns the pool's tokens in order, forever.
 *
 * @param {string[]} tokens - not empty
 */
function cycle(tokens) {
  let next = 0;
  return () => {
    const token = /** @type {string} */ (tokens[next]);
    next = next + 1 === tokens.length ? 0 : next + 1;
    return token;
  };
}

/**
 * Which build was measured: the commit, whether the iron sources differ from it (several
 * people share a working tree), and a hash of the built files the benchmark runs.
 */
function provenance() {
  const root = resolve(here, '..');
  const files = [
    'dist/iron/create-iron.js',
    'dist/iron/format.js',
    'dist/iron/json.js',
    'dist/iron/backend/node.js',
    'dist/iron/backend/web.js',
    'dist/internal/lru.js',
  ];
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(resolve(root, file)));
  /** @param {string[]} gitArgs */
  const git = (...gitArgs) => {
    try {
      return execFileSync('git', gitArgs, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  };
  const changes = git('status', '--porcelain', '--', 'src/iron', 'src/internal');
  return {
    commit: git('rev-parse', '--short', 'HEAD') ?? 'unknown',
    ironSourcesModified: changes === undefined ? 'unknown' : changes !== '',
    distHash: hash.digest('hex').slice(0, 12),
  };
}

async function main() {
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    // Load on a shared machine explains most of the spread between runs.
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  const build = provenance();
  const started = Date.now();
  console.log(
    `iron benchmark: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  console.log(
    `sealed-session build: commit ${build.commit}${build.ironSourcesModified === true ? ' + uncommitted src/iron or src/internal changes' : ''}, dist hash ${build.distHash}`,
  );
  console.log(
    `payload: ${PAYLOAD_JSON_BYTES} bytes of JSON; password: ${PASSWORD.length} characters; ` +
      `${ROUNDS} rounds x ${BATCH_MS} ms batches; pool ${POOL} tokens per library`,
  );

  // The measured engines start with empty caches: pools are sealed by another set.
  const adapters = createAdapters();
  const sealers = new Map(createAdapters().map((a) => [a.id, a]));
  /** @type {Map<LibraryId, string[]>} */
  const pools = new Map();
  // Both sets hold every library, so the lookups by id below always find one; the casts
  // only say so.
  /** @param {LibraryId} id */
  const poolOf = (id) => /** @type {string[]} */ (pools.get(id));
  for (const adapter of adapters) {
    const t0 = performance.now();
    pools.set(
      adapter.id,
      await buildTokenPool(/** @type {IronAdapter} */ (sealers.get(adapter.id)), POOL),
    );
    console.log(
      `  pool of ${POOL} ${adapter.name} tokens sealed in ${(performance.now() - t0).toFixed(0)} ms`,
    );
  }

  // @hapi/iron's tokens with a wrong MAC: fresh salts each, refused after one derivation.
  // A pool of their own: salts of the never-seen case, verified there, could be cached.
  const hapiSealer = /** @type {IronAdapter} */ (sealers.get('hapi'));
  const forged = (await buildTokenPool(hapiSealer, POOL)).map(forgeToken);

  // Every fixture must compute the right answer before anything is timed.
  for (const adapter of adapters) {
    deepStrictEqual(await adapter.unseal(await adapter.seal(PAYLOAD)), PAYLOAD, adapter.name);
    const pool = poolOf(adapter.id);
    deepStrictEqual(new Set(pool).size, pool.length, `${adapter.name}: pool tokens distinct`);
    deepStrictEqual(
      await adapter.unseal(/** @type {string} */ (pool[7])),
      payloadFor(7),
      adapter.name,
    );
    if (adapter.ours) {
      deepStrictEqual(
        await adapter.unseal(/** @type {string} */ (poolOf('hapi')[9])),
        payloadFor(9),
        adapter.name,
      );
    }
    if (adapter.ours || adapter.id === 'hapi') {
      const refused = await adapter.unseal(/** @type {string} */ (forged[11])).then(
        () => undefined,
        (/** @type {unknown} */ error) => error,
      );
      deepStrictEqual(refused instanceof Error, true, `${adapter.name} refuses a forged token`);
      if (adapter.ours) {
        deepStrictEqual(
          /** @type {{ code?: unknown }} */ (refused).code,
          'ERR_SEAL_UNSEAL_FAILED',
          adapter.name,
        );
      }
    }
  }

  // (case, library) -> the timed operation
  /** @type {Job[]} */
  const jobs = [];
  for (const c of CASES) {
    for (const adapter of adapters) {
      if (c.only !== undefined && !c.only.includes(adapter.id)) continue;
      /** @type {Job['op']} */
      let op;
      if (c.id === 'seal') {
        op = () => adapter.seal(PAYLOAD);
      } else if (c.id === 'unsealFresh') {
        const next = cycle(poolOf(adapter.id));
        op = () => adapter.unseal(next());
      } else if (c.id === 'unsealRepeat') {
        const token = /** @type {string} */ (poolOf(adapter.id)[0]);
        op = () => adapter.unseal(token);
      } else if (c.id === 'unsealForeign') {
        const next = cycle(poolOf('hapi'));
        op = () => adapter.unseal(next());
      } else {
        const next = cycle(forged);
        op = () =>
          adapter.unseal(next()).then(
            () => {
              throw new Error(`${adapter.name} accepted a forged token`);
            },
            () => undefined,
          );
      }
      jobs.push({ caseId: c.id, adapter, op, count: 0, samples: [], cpuSamples: [] });
    }
  }

  // Warm-up (JIT, caches in their steady state) and batch sizing.
  for (const job of jobs) {
    const rate = await rateFor(job.op, WARMUP_MS);
    job.count = Math.max(8, Math.round((rate * BATCH_MS) / 1000));
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CASES) {
      const inCase = jobs.filter((j) => j.caseId === c.id);
      for (let k = 0; k < inCase.length; k++) {
        // An index modulo the length is always in range.
        const job = /** @type {Job} */ (inCase[(k + round) % inCase.length]);
        const { ms, cpuUs } = await timed(job.op, job.count);
        job.samples.push((job.count * 1000) / ms);
        job.cpuSamples.push(cpuUs / job.count);
      }
    }
    if (process.stdout.isTTY) process.stdout.write(`  round ${round + 1}/${ROUNDS}\r`);
  }

  // Results
  // Typed as complete tables, which they are for every key read below: each is filled in
  // for the (case, library) pairs that ran, and read for those only.
  const results = /** @type {Record<CaseId, Record<LibraryId, CaseResult>>} */ ({});
  for (const job of jobs) {
    const opsPerSec = median(job.samples);
    (results[job.caseId] ??= /** @type {Record<LibraryId, CaseResult>} */ ({}))[job.adapter.id] = {
      opsPerSec: Math.round(opsPerSec),
      usPerOp: Number((1e6 / opsPerSec).toFixed(2)),
      cpuUsPerOp: Number(median(job.cpuSamples).toFixed(2)),
      spread: Number(
        ((Math.max(...job.samples) - Math.min(...job.samples)) / opsPerSec).toFixed(3),
      ),
      batch: job.count,
      samples: job.samples.map((s) => Math.round(s)),
    };
  }
  const ratios = /** @type {Record<CaseId, RatioRows>} */ ({});
  // Robustness check on a noisy machine: the median of per-round ratios (both libraries
  // measured within the same round, seconds apart).
  const pairedRatios = /** @type {Record<CaseId, RatioRows>} */ ({});
  /**
   * @param {CaseId} caseId
   * @param {LibraryId} id
   */
  const samplesOf = (caseId, id) =>
    jobs.find((j) => j.caseId === caseId && j.adapter.id === id)?.samples;
  for (const c of CASES) {
    for (const ours of OURS) {
      const mine = results[c.id]?.[ours];
      if (mine === undefined) continue;
      for (const peer of PEERS) {
        const theirs = results[peerCaseOf(c.id)]?.[peer];
        if (theirs === undefined) continue;
        ((ratios[c.id] ??= /** @type {RatioRows} */ ({}))[ours] ??=
          /** @type {Record<LibraryId, number>} */ ({}))[peer] = Number(
          (mine.opsPerSec / theirs.opsPerSec).toFixed(2),
        );
        // Both have results, so both jobs ran, with a sample per round.
        const a = /** @type {number[]} */ (samplesOf(c.id, ours));
        const b = /** @type {number[]} */ (samplesOf(peerCaseOf(c.id), peer));
        ((pairedRatios[c.id] ??= /** @type {RatioRows} */ ({}))[ours] ??=
          /** @type {Record<LibraryId, number>} */ ({}))[peer] = Number(
          median(a.map((value, round) => value / /** @type {number} */ (b[round]))).toFixed(2),
        );
      }
    }
  }
  const targets = TARGETS.map(([ours, caseId, peer, min, versusCase]) => {
    // Both ran: every target names a (case, library) pair the cases measure.
    const mine = /** @type {number[]} */ (samplesOf(caseId, ours));
    const theirs = /** @type {number[]} */ (samplesOf(versusCase ?? peerCaseOf(caseId), peer));
    const actual = Number((median(mine) / median(theirs)).toFixed(2));
    const paired = Number(
      median(mine.map((value, round) => value / /** @type {number} */ (theirs[round]))).toFixed(2),
    );
    return {
      kind: 'ratio',
      library: ours,
      case: caseId,
      versus: peer,
      // Only when the target names it: the peer's case is otherwise peerCaseOf(case).
      ...(versusCase === undefined ? {} : { versusCase }),
      target: min,
      actual,
      pairedMedian: paired,
      pass: actual >= min,
    };
  });
  const cpuTargets = CPU_TARGETS.map(([ours, caseId, max]) => {
    const actual = results[caseId][ours].cpuUsPerOp;
    return { kind: 'cpu', library: ours, case: caseId, target: max, actual, pass: actual <= max };
  });

  // Tables
  const byId = new Map(adapters.map((a) => [a.id, a]));
  /** @param {string} id - of a library of `adapters`, which byId holds */
  const nameOf = (id) => /** @type {IronAdapter} */ (byId.get(/** @type {LibraryId} */ (id))).name;
  /** @param {number} n */
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  for (const c of CASES) {
    console.log(`\n${c.label}  (${c.note})`);
    console.log(
      `  ${'library'.padEnd(28)}${'ops/s'.padStart(12)}${'µs/op'.padStart(10)}${'CPU µs/op'.padStart(11)}${'spread'.padStart(9)}`,
    );
    for (const [id, r] of Object.entries(results[c.id])) {
      console.log(
        `  ${nameOf(id).padEnd(28)}${fmt(r.opsPerSec).padStart(12)}${r.usPerOp.toFixed(2).padStart(10)}${r.cpuUsPerOp.toFixed(2).padStart(11)}${`${(r.spread * 100).toFixed(0)}%`.padStart(9)}`,
      );
    }
  }
  console.log(
    '\nratios: median ops/s ÷ peer median ops/s (in parentheses: median of per-round ratios);' +
      '\n        unsealForeign is compared with each peer unsealing its own fresh tokens',
  );
  console.log(
    `  ${'case'.padEnd(30)}${'ours'.padEnd(28)}${PEERS.map((p) => nameOf(p).padStart(20)).join('')}`,
  );
  for (const c of CASES) {
    for (const ours of OURS) {
      const row = ratios[c.id]?.[ours];
      if (row === undefined) continue;
      console.log(
        `  ${c.id.padEnd(30)}${nameOf(ours).padEnd(28)}${PEERS.map((p) => (row[p] === undefined ? '–' : `${row[p].toFixed(1)}x (${pairedRatios[c.id][ours][p].toFixed(1)}x)`).padStart(20)).join('')}`,
      );
    }
  }
  console.log('\ntargets');
  for (const t of targets) {
    const versus = t.versusCase === undefined ? '' : ` ${t.versusCase}`;
    console.log(
      `  ${t.pass ? 'PASS' : 'FAIL'}  ${nameOf(t.library)} ${t.case} >= ${t.target}x ${nameOf(t.versus)}${versus}: ${t.actual.toFixed(2)}x (per-round median ${t.pairedMedian.toFixed(2)}x)`,
    );
  }
  for (const t of cpuTargets) {
    console.log(
      `  ${t.pass ? 'PASS' : 'FAIL'}  ${nameOf(t.library)} ${t.case} <= ${t.target} µs of CPU per token: ${t.actual.toFixed(2)} µs`,
    );
  }

  const report = {
    benchmark: 'iron',
    date: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
    build,
    config: {
      rounds: ROUNDS,
      batchMs: BATCH_MS,
      warmupMs: WARMUP_MS,
      poolSize: POOL,
      verifiedTokenCache: VERIFIED_TOKEN_CACHE,
      payloadJsonBytes: PAYLOAD_JSON_BYTES,
      passwordLength: PASSWORD.length,
      method:
        'sequential awaited ops per batch; interleaved rounds with rotating library order; median over rounds',
    },
    libraries: adapters.map(({ id, name, version }) => ({ id, name, version })),
    cases: CASES.map(({ id, label, note }) => ({ id, label, note })),
    results,
    ratios,
    pairedRatios,
    targets,
    cpuTargets,
  };
  if (!args['no-write']) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${args.out}`);
  }
}

await main();
