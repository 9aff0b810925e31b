/**
 * The engine's caches (derived keys, sealing salts, verified tokens) are bounded, never
 * change an answer, and cannot be filled by forged tokens. Sizes are observed through
 * behaviour: a backend that counts its calls shows when the engine did crypto work again.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import type { CryptoBackend } from '../../src/iron/backend/types.js';
import { createWebBackend } from '../../src/iron/backend/web.js';
import type { SealOptionsInput } from '../../src/iron/options.js';
import {
  createIron,
  defaultLimits,
  type Iron,
  type IronLimits,
} from '../../src/iron/create-iron.js';
import {
  OTHER_PASSWORD,
  PASSWORD,
  THIRD_PASSWORD,
  backends,
  expectCode,
  fields,
} from './helpers.js';

interface Counts {
  deriveKey: number;
  /** Of which for the MAC key. */
  deriveMacKey: number;
  importKey: number;
  mac: number;
  encrypt: number;
  decrypt: number;
}

const noWork = (): Counts => ({
  deriveKey: 0,
  deriveMacKey: 0,
  importKey: 0,
  mac: 0,
  encrypt: 0,
  decrypt: 0,
});

/** `base` (nodeBackend unless given), counting the work it is asked to do. */
function counting(base: CryptoBackend = nodeBackend): {
  backend: CryptoBackend;
  counts: Counts;
  reset: () => void;
} {
  const counts = noWork();
  const backend: CryptoBackend = {
    ...base,
    deriveKey(...args) {
      counts.deriveKey++;
      if (args[3] === 'sha256') counts.deriveMacKey++;
      return base.deriveKey(...args);
    },
    importKey(...args) {
      counts.importKey++;
      return base.importKey(...args);
    },
    mac(...args) {
      counts.mac++;
      return base.mac(...args);
    },
    encrypt(...args) {
      counts.encrypt++;
      return base.encrypt(...args);
    },
    decrypt(...args) {
      counts.decrypt++;
      return base.decrypt(...args);
    },
  };
  const reset = (): void => {
    Object.assign(counts, noWork());
  };
  return { backend, counts, reset };
}

function engine(limits: Partial<IronLimits>, backend: CryptoBackend = nodeBackend): Iron {
  return createIron(backend, { ...defaultLimits, ...limits });
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX = '0123456789abcdef';

function random(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++)
    out += alphabet.charAt(Math.floor(Math.random() * alphabet.length));
  return out;
}

/** A token that follows the grammar, with random salts and MAC: what an attacker sends. */
function forged(): string {
  return `Fe26.2**${random(HEX, 64)}*${random(ALPHABET, 22)}*${random(ALPHABET, 64)}**${random(HEX, 64)}*${random(ALPHABET, 43)}`;
}

describe('verified-token cache', () => {
  it('answers a repeated unseal without crypto work', async () => {
    const { backend, counts, reset } = counting();
    const iron = engine({}, backend);
    const token = await iron.seal({ a: 1 }, PASSWORD);
    reset();
    await expect(iron.unseal(token, PASSWORD)).resolves.toEqual({ a: 1 });
    expect(counts).toEqual(noWork());
  });

  it('eviction never breaks correctness: every token still unseals after many others', async () => {
    const iron = engine({ verifiedTokens: 4, keysPerSecret: 4, saltReuseCount: 1 });
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) tokens.push(await iron.seal({ i }, PASSWORD));
    for (let i = 0; i < tokens.length; i++) {
      await expect(iron.unseal(tokens[i]!, PASSWORD)).resolves.toEqual({ i });
    }
  });

  it('is bounded: the earliest of many tokens needs its crypto again', async () => {
    const { backend, counts, reset } = counting();
    const iron = engine({ verifiedTokens: 2, keysPerSecret: 4, saltReuseCount: 1 }, backend);
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push(await iron.seal({ i }, PASSWORD));

    // The latest token is still cached: no work.
    reset();
    await expect(iron.unseal(tokens[9]!, PASSWORD)).resolves.toEqual({ i: 9 });
    expect(counts.mac + counts.decrypt + counts.deriveKey).toBe(0);

    // The first one left both the verified cache and the key cache.
    reset();
    await expect(iron.unseal(tokens[0]!, PASSWORD)).resolves.toEqual({ i: 0 });
    expect(counts.mac).toBe(1);
    expect(counts.decrypt).toBe(1);
    expect(counts.deriveKey).toBe(2);
  });

  it('does not keep tokens longer than verifiedTokenLength', async () => {
    const { backend, counts, reset } = counting();
    const iron = engine({ verifiedTokenLength: 300 }, backend);
    const small = await iron.seal({ s: 1 }, PASSWORD);
    const large = await iron.seal({ s: 'x'.repeat(500) }, PASSWORD);
    expect(small.length).toBeLessThanOrEqual(300);
    expect(large.length).toBeGreaterThan(300);
    reset();
    await iron.unseal(small, PASSWORD);
    expect(counts.decrypt).toBe(0);
    await expect(iron.unseal(large, PASSWORD)).resolves.toEqual({ s: 'x'.repeat(500) });
    await expect(iron.unseal(large, PASSWORD)).resolves.toEqual({ s: 'x'.repeat(500) });
    expect(counts.decrypt).toBe(2);
  });

  it('forged tokens enter no cache and evict nothing', async () => {
    const { backend, counts, reset } = counting();
    const iron = engine(
      { verifiedTokens: 2, keysPerSecret: 2, secrets: 2, verifiedTokenLength: 300 },
      backend,
    );
    const cached = await iron.seal({ n: 1 }, PASSWORD);
    // Too long for the verified-token cache: unsealing it always needs the (cached) keys.
    const long = await iron.seal({ n: 'x'.repeat(400) }, PASSWORD);
    expect(cached.length).toBeLessThanOrEqual(300);
    expect(long.length).toBeGreaterThan(300);
    for (let i = 0; i < 300; i++) {
      await expectCode(iron.unseal(forged(), PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    }
    // Each forgery cost one MAC key derivation and was never decrypted.
    expect(counts.decrypt).toBe(0);

    reset();
    // The verified token is still cached: no work at all.
    await expect(iron.unseal(cached, PASSWORD)).resolves.toEqual({ n: 1 });
    expect(counts.mac + counts.decrypt + counts.deriveKey).toBe(0);
    // The keys of the reused sealing salts are still cached: only MAC and decrypt run.
    await expect(iron.unseal(long, PASSWORD)).resolves.toEqual({ n: 'x'.repeat(400) });
    expect(counts.deriveKey).toBe(0);
    expect(counts.mac).toBe(1);
    expect(counts.decrypt).toBe(1);
  });

  it('the same forged token sent again is verified again, never cached as good', async () => {
    const { backend, counts, reset } = counting();
    const iron = engine({}, backend);
    const token = forged();
    await expectCode(iron.unseal(token, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    reset();
    await expectCode(iron.unseal(token, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    expect(counts.mac).toBe(1);
  });

  it('a cached token is not accepted with another password', async () => {
    const iron = engine({});
    const sealed = await iron.seal({ a: 1 }, PASSWORD);
    await expectCode(iron.unseal(sealed, OTHER_PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    // The same for a token that entered the cache by being unsealed.
    const other = await engine({}).seal({ b: 2 }, PASSWORD);
    await expect(iron.unseal(other, PASSWORD)).resolves.toEqual({ b: 2 });
    await expectCode(iron.unseal(other, OTHER_PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    // Still good with the right one afterwards.
    await expect(iron.unseal(other, PASSWORD)).resolves.toEqual({ b: 2 });
  });

  it('a cached token is not accepted when a map gives its id another secret', async () => {
    const iron = engine({});
    const token = await iron.seal({ a: 1 }, { id: 'k', secret: PASSWORD });
    await expect(iron.unseal(token, { k: PASSWORD })).resolves.toEqual({ a: 1 });
    await expectCode(iron.unseal(token, { k: OTHER_PASSWORD }), 'ERR_SEAL_UNSEAL_FAILED');
    await expectCode(
      iron.unseal(token, { k: { encryption: PASSWORD, integrity: OTHER_PASSWORD } }),
      'ERR_SEAL_UNSEAL_FAILED',
    );
  });

  it('a cached token is not accepted with other byte keys', async () => {
    const iron = engine({});
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const token = await iron.seal({ a: 1 }, a);
    await expectCode(iron.unseal(token, b), 'ERR_SEAL_UNSEAL_FAILED');
    await expect(iron.unseal(token, new Uint8Array(32).fill(1))).resolves.toEqual({ a: 1 });
  });

  it.each(backends)(
    'a byte password refilled in place is the new password (%s backend)',
    async (_name, backend) => {
      for (const make of [
        (fill: number) => new Uint8Array(32).fill(fill),
        (fill: number) => Buffer.alloc(32, fill),
      ]) {
        const iron = createIron(backend);
        const key = make(1);
        const token = await iron.seal({ a: 1 }, key);
        await expect(iron.unseal(token, key)).resolves.toEqual({ a: 1 });
        key.fill(2);
        // Neither the verified-token cache nor the key cache may answer with the old bytes.
        await expectCode(iron.unseal(token, key), 'ERR_SEAL_UNSEAL_FAILED');
        const resealed = await iron.seal({ b: 2 }, key);
        await expect(createIron(backend).unseal(resealed, make(2))).resolves.toEqual({ b: 2 });
        await expectCode(createIron(backend).unseal(resealed, make(1)), 'ERR_SEAL_UNSEAL_FAILED');
        // And back to the old bytes: the old token is good again.
        key.fill(1);
        await expect(iron.unseal(token, key)).resolves.toEqual({ a: 1 });
      }
    },
  );

  it('a cached token is not accepted under different integrity options', async () => {
    const iron = engine({});
    const token = await iron.seal({ a: 1 }, PASSWORD);
    await expectCode(
      iron.unseal(token, PASSWORD, { integrity: { iterations: 2 } }),
      'ERR_SEAL_UNSEAL_FAILED',
    );
    await expectCode(
      iron.unseal(token, PASSWORD, { integrity: { minPasswordlength: 64 } }),
      'ERR_PASSWORD_INVALID',
    );
  });

  it('a cached token does not decrypt to its data under different encryption options', async () => {
    const iron = engine({});
    const data = { secret: 'value' };
    const token = await iron.seal(data, PASSWORD);
    for (const options of [
      { encryption: { iterations: 2 } },
      { encryption: { algorithm: 'aes-128-ctr' as const } },
    ]) {
      let result: unknown;
      let failure: unknown;
      try {
        result = await iron.unseal(token, PASSWORD, options);
      } catch (error) {
        failure = error;
      }
      expect(result).toBeUndefined();
      expect(failure).toMatchObject({ name: 'SessionError' });
    }
    await expect(iron.unseal(token, PASSWORD)).resolves.toEqual(data);
  });

  it('a token one character away from a cached one is verified, not served', async () => {
    const iron = engine({});
    const token = await iron.seal({ a: 1 }, PASSWORD);
    const last = token.at(-1);
    const tampered = token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
    await expectCode(iron.unseal(tampered, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
  });

  it('a token with a cached token’s MAC but other fields is verified, not served', async () => {
    // The cache is found by the MAC (the last field) but answers only the identical token.
    const { backend, counts, reset } = counting();
    const iron = engine({}, backend);
    const token = await iron.seal({ a: 1 }, PASSWORD);
    const parts = token.split('*');
    const variants = [
      // The integrity salt is the one field outside the MAC: a new one must not pass.
      parts.map((part, i) => (i === 6 ? part.replace(/^./, part[0] === 'a' ? 'b' : 'a') : part)),
      parts.map((part, i) => (i === 4 ? part.replace(/^./, part[0] === 'A' ? 'B' : 'A') : part)),
    ].map((fields) => fields.join('*'));
    for (const variant of variants) {
      expect(variant.slice(-43)).toBe(token.slice(-43));
      reset();
      await expectCode(iron.unseal(variant, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
      expect(counts.mac).toBe(1);
    }
    await expect(iron.unseal(token, PASSWORD)).resolves.toEqual({ a: 1 });
  });

  it('an expired token is rejected even when it is in the verified cache', async () => {
    const iron = engine({});
    const token = await iron.seal({ a: 1 }, PASSWORD, { ttl: 1000 });
    await expect(iron.unseal(token, PASSWORD)).resolves.toEqual({ a: 1 });
    await expectCode(
      iron.unseal(token, PASSWORD, { localtimeOffsetMsec: 120_000 }),
      'ERR_SEAL_EXPIRED',
    );
    await expectCode(
      iron.unseal(token, PASSWORD, { localtimeOffsetMsec: 2_000, timestampSkewSec: 0 }),
      'ERR_SEAL_EXPIRED',
    );
    // Entered through unseal rather than seal.
    const other = engine({});
    await expect(other.unseal(token, PASSWORD)).resolves.toEqual({ a: 1 });
    await expectCode(
      other.unseal(token, PASSWORD, { localtimeOffsetMsec: 120_000 }),
      'ERR_SEAL_EXPIRED',
    );
  });

  it('each unseal returns a fresh object', async () => {
    const iron = engine({});
    const source = { list: [1, 2], nested: { x: 'y' } };
    const token = await iron.seal(source, PASSWORD);
    // Changing the sealed object afterwards changes nothing.
    source.list.push(3);
    const first = (await iron.unseal(token, PASSWORD)) as typeof source;
    expect(first).toEqual({ list: [1, 2], nested: { x: 'y' } });
    first.list.push(99);
    first.nested.x = 'changed';
    const second = await iron.unseal(token, PASSWORD);
    expect(second).toEqual({ list: [1, 2], nested: { x: 'y' } });
    expect(second).not.toBe(first);
  });

  it('many secrets beyond the secrets bound still seal and unseal correctly', async () => {
    const iron = engine({ secrets: 2, keysPerSecret: 2, verifiedTokens: 2 });
    const secrets = [
      PASSWORD,
      OTHER_PASSWORD,
      THIRD_PASSWORD,
      `${PASSWORD}!`,
      `${OTHER_PASSWORD}?`,
    ];
    const tokens: string[] = [];
    for (const secret of secrets) tokens.push(await iron.seal({ secret }, secret));
    for (let i = 0; i < secrets.length; i++) {
      await expect(iron.unseal(tokens[i]!, secrets[i]!)).resolves.toEqual({ secret: secrets[i] });
      await expectCode(
        iron.unseal(tokens[i]!, secrets[(i + 1) % secrets.length]!),
        'ERR_SEAL_UNSEAL_FAILED',
      );
    }
  });
});

/**
 * The WebCrypto backend deriving every key through `crypto.subtle`, asynchronously: at
 * iron's default iterations `webBackend` derives in JS, synchronously, so nothing runs
 * long enough to be shared.
 */
const asyncWebBackend = createWebBackend({ aesInJsUpToBytes: 512, pbkdf2InJsUpToIterations: 0 });

describe('MAC key derivations shared while they run', () => {
  /** Tokens with salts of their own, as another implementation (or process) seals them. */
  async function sealedElsewhere(count: number, options?: SealOptionsInput): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      tokens.push(await engine({ saltReuseCount: 1 }).seal({ i }, PASSWORD, options));
    }
    return tokens;
  }

  it('parallel unseals of one new token at 8192 iterations (node, thread pool) derive its keys once', async () => {
    const options = { encryption: { iterations: 8192 }, integrity: { iterations: 8192 } };
    const [token] = await sealedElsewhere(1, options);
    const { backend, counts } = counting();
    const iron = engine({}, backend);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => iron.unseal(token!, PASSWORD, options)),
    );
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ i: 0 })));
    expect(counts.deriveMacKey).toBe(1);
    expect(counts.deriveKey).toBe(2);
  });

  it('parallel unseals of one new token share the derivation on the WebCrypto backend', async () => {
    const [token] = await sealedElsewhere(1);
    const { backend, counts } = counting(asyncWebBackend);
    const iron = engine({}, backend);
    await Promise.all([iron.unseal(token!, PASSWORD), iron.unseal(token!, PASSWORD)]);
    expect(counts.deriveMacKey).toBe(1);
  });

  it('at most sharedDerivations per secret are shared; the others derive on their own', async () => {
    const [a, b] = await sealedElsewhere(2);
    const { backend, counts } = counting(asyncWebBackend);
    const iron = engine({ sharedDerivations: 1 }, backend);
    // a takes the one slot; b's two unseals each derive.
    await Promise.all([
      iron.unseal(a!, PASSWORD),
      iron.unseal(b!, PASSWORD),
      iron.unseal(b!, PASSWORD),
    ]);
    expect(counts.deriveMacKey).toBe(3);
  });

  it('a shared derivation is forgotten once it settles: a forged token sent again derives again', async () => {
    const { backend, counts, reset } = counting(asyncWebBackend);
    const iron = engine({}, backend);
    const token = forged();
    await Promise.all([
      expectCode(iron.unseal(token, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED'),
      expectCode(iron.unseal(token, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED'),
    ]);
    expect(counts.deriveMacKey).toBe(1);
    reset();
    await expectCode(iron.unseal(token, PASSWORD), 'ERR_SEAL_UNSEAL_FAILED');
    expect(counts.deriveMacKey).toBe(1);
  });

  it('a failed derivation fails every unseal sharing it, then is not reused', async () => {
    const [token] = await sealedElsewhere(1);
    let fail = true;
    const backend: CryptoBackend = {
      ...asyncWebBackend,
      deriveKey(...args) {
        if (fail) return Promise.reject(new Error('derivation failed'));
        return asyncWebBackend.deriveKey(...args);
      },
    };
    const iron = engine({}, backend);
    await Promise.all([
      expectCode(iron.unseal(token!, PASSWORD), 'ERR_CRYPTO'),
      expectCode(iron.unseal(token!, PASSWORD), 'ERR_CRYPTO'),
    ]);
    fail = false;
    await expect(iron.unseal(token!, PASSWORD)).resolves.toEqual({ i: 0 });
  });
});

describe('sealing salt reuse', () => {
  it('two seals in a row share their salts but not their IVs', async () => {
    const iron = engine({});
    const a = fields(await iron.seal({ a: 1 }, PASSWORD));
    const b = fields(await iron.seal({ a: 1 }, PASSWORD));
    expect(a[2]).toMatch(/^[0-9a-f]{64}$/);
    expect(b[2]).toBe(a[2]);
    expect(b[6]).toBe(a[6]);
    expect(a[2]).not.toBe(a[6]);
    expect(b[3]).not.toBe(a[3]);
    expect(b[4]).not.toBe(a[4]);
  });

  it('with saltReuseCount 1 every seal draws new salts', async () => {
    const iron = engine({ saltReuseCount: 1 });
    const a = fields(await iron.seal({ a: 1 }, PASSWORD));
    const b = fields(await iron.seal({ a: 1 }, PASSWORD));
    expect(b[2]).not.toBe(a[2]);
    expect(b[6]).not.toBe(a[6]);
    expect(b[3]).not.toBe(a[3]);
  });

  it('a salt is reused for at most saltReuseCount seals', async () => {
    const iron = engine({ saltReuseCount: 3 });
    const salts: string[] = [];
    for (let i = 0; i < 7; i++) salts.push(fields(await iron.seal({ i }, PASSWORD))[2]!);
    expect(salts[1]).toBe(salts[0]);
    expect(salts[2]).toBe(salts[0]);
    expect(salts[3]).not.toBe(salts[0]);
    expect(salts[4]).toBe(salts[3]);
    expect(salts[5]).toBe(salts[3]);
    expect(salts[6]).not.toBe(salts[3]);
  });

  it('a salt is reused for at most saltReuseMs', async () => {
    const iron = engine({});
    const a = fields(await iron.seal({ a: 1 }, PASSWORD));
    const later = fields(
      await iron.seal({ a: 1 }, PASSWORD, { localtimeOffsetMsec: defaultLimits.saltReuseMs + 1 }),
    );
    expect(later[2]).not.toBe(a[2]);
    expect(later[6]).not.toBe(a[6]);
  });

  it('different passwords and algorithms never share a salt slot', async () => {
    const iron = engine({});
    const a = fields(await iron.seal({ a: 1 }, PASSWORD));
    const b = fields(await iron.seal({ a: 1 }, OTHER_PASSWORD));
    const c = fields(
      await iron.seal({ a: 1 }, PASSWORD, { encryption: { algorithm: 'aes-128-ctr' } }),
    );
    const d = fields(await iron.seal({ a: 1 }, PASSWORD, { encryption: { iterations: 5 } }));
    expect(new Set([a[2], b[2], c[2], d[2]]).size).toBe(4);
  });

  it('tokens sealed with a reused salt each unseal in a fresh engine', async () => {
    const iron = engine({});
    const tokens = [await iron.seal({ n: 1 }, PASSWORD), await iron.seal({ n: 2 }, PASSWORD)];
    await expect(engine({}).unseal(tokens[0]!, PASSWORD)).resolves.toEqual({ n: 1 });
    await expect(engine({}).unseal(tokens[1]!, PASSWORD)).resolves.toEqual({ n: 2 });
  });
});
