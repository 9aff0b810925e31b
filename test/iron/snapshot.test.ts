/**
 * Processes started from one V8 startup snapshot (`node --build-snapshot`) begin with copies
 * of the same heap. Randomness held there (the random pool's unused bytes, the engine's
 * reused sealing salts) must not be shared: sibling processes sealing the same object with
 * the same password must produce different salts, IVs and tokens.
 *
 * The real thing: the sources are bundled into one script, which seals while the snapshot
 * is built, and two processes started from the blob each seal and print a token.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import type { CryptoBackend } from '../../src/iron/backend/types.js';
import { createIron } from '../../src/iron/create-iron.js';
import { unseal } from '../../src/iron/index.js';
import { PASSWORD, fields } from './helpers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OBJECT = { user: 'same', n: 1 };

/**
 * The snapshot's main script: seals once while the snapshot is built (drawing salts and an
 * IV from the random pool, filling the engine's caches), then in each process started from
 * the snapshot seals OBJECT and prints that token and the one sealed while building.
 */
const ENTRY = `
import { startupSnapshot } from 'node:v8';
import { seal } from './src/iron/index.ts';

const PASSWORD = ${JSON.stringify(PASSWORD)};
let built = '';
void seal({ built: true }, PASSWORD).then((token) => {
  built = token;
});
startupSnapshot.setDeserializeMainFunction(() => {
  void seal(${JSON.stringify(OBJECT)}, PASSWORD).then((token) => {
    process.stdout.write(JSON.stringify({ token, built }));
  });
});
`;

interface Printed {
  readonly token: string;
  readonly built: string;
}

let dir = '';
let blob = '';

/** Node without options a test runner may have set for its own workers. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

async function startFromBlob(): Promise<Printed> {
  const { stdout } = await run(process.execPath, ['--snapshot-blob', blob], {
    env: childEnv(),
    timeout: 10_000,
  });
  return JSON.parse(stdout) as Printed;
}

describe('startup snapshots (node --build-snapshot)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealed-session-snapshot-'));
    const script = join(dir, 'entry.cjs');
    blob = join(dir, 'snapshot.blob');
    // One CommonJS file: a snapshot's main script can require built-in modules only.
    await build({
      stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: script,
      logLevel: 'silent',
      plugins: [
        {
          name: 'crypto-backend',
          setup(builder) {
            builder.onResolve({ filter: /^#crypto-backend$/ }, () => ({
              path: join(ROOT, 'src/iron/backend/select-node.ts'),
            }));
          },
        },
      ],
    });
    await run(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', script], {
      cwd: dir,
      env: childEnv(),
      timeout: 20_000,
    });
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('sibling processes seal with their own salts and IVs, and their tokens unseal', async () => {
    const [a, b] = await Promise.all([startFromBlob(), startFromBlob()]);
    // Both come from the same heap: the token sealed while building is the same.
    expect(a.built).toBe(b.built);
    await expect(unseal(a.built, PASSWORD)).resolves.toEqual({ built: true });

    const [fa, fb, fbuilt] = [fields(a.token), fields(b.token), fields(a.built)];
    expect(a.token).not.toBe(b.token);
    expect(fa[2]).not.toBe(fb[2]); // encryption salt
    expect(fa[3]).not.toBe(fb[3]); // IV
    expect(fa[6]).not.toBe(fb[6]); // integrity salt
    // Nor do they reuse the sealing salts of the building process.
    expect([fa[2], fb[2]]).not.toContain(fbuilt[2]);
    expect([fa[6], fb[6]]).not.toContain(fbuilt[6]);

    await expect(unseal(a.token, PASSWORD)).resolves.toEqual(OBJECT);
    await expect(unseal(b.token, PASSWORD)).resolves.toEqual(OBJECT);
  });
});

describe('the engine before a snapshot', () => {
  it('drops its caches, sealing salts included, when the backend says a snapshot is taken', async () => {
    let beforeSnapshot: (() => void) | undefined;
    let derivations = 0;
    const backend: CryptoBackend = {
      ...nodeBackend,
      beforeSnapshot(callback) {
        beforeSnapshot = callback;
      },
      deriveKey(...args) {
        derivations++;
        return nodeBackend.deriveKey(...args);
      },
    };
    const iron = createIron(backend);
    expect(beforeSnapshot).toBeDefined();
    const first = await iron.seal(OBJECT, PASSWORD);
    const second = await iron.seal(OBJECT, PASSWORD);
    expect(fields(second)[2]).toBe(fields(first)[2]);
    expect(derivations).toBe(2);

    beforeSnapshot?.();
    const third = await iron.seal(OBJECT, PASSWORD);
    expect(fields(third)[2]).not.toBe(fields(first)[2]);
    expect(fields(third)[6]).not.toBe(fields(first)[6]);
    expect(derivations).toBe(4);
    // The verified-token and key caches were emptied too: the first token is verified again.
    await expect(iron.unseal(first, PASSWORD)).resolves.toEqual(OBJECT);
    expect(derivations).toBe(6);
  });
});
