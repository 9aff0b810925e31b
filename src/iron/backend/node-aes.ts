/**
 * AES for the node backend over OpenSSL contexts opened once per key.
 *
 * `createCipheriv` / `createDecipheriv` set up a new OpenSSL context on every call (about
 * 5 µs on Node 20: most of an unseal). A context cannot be given a new IV, but it does not
 * need one; both iron modes are built here from contexts that live as long as the key:
 *   - CBC encryption: a CBC context with padding off keeps its last ciphertext block as its
 *     chaining value X. Feeding P1 ⊕ IV ⊕ X as the first block yields AES(P1 ⊕ IV): exactly
 *     the first block of a new CBC encryption under IV; the rest chains by itself.
 *   - CBC decryption, the same way round: a CBC decipher whose chaining value is X (the last
 *     ciphertext block it saw) returns AES⁻¹(C1) ⊕ X as the first block; XORing X ⊕ IV into
 *     it gives P1. The PKCS#7 check is done here; the engine verified the MAC first, so it
 *     tells an attacker nothing (no padding oracle).
 *   - CTR: an ECB context encrypts the counter blocks; the keystream is XORed here.
 * The output is byte-for-byte that of `createCipheriv` with the same key and IV (tested in
 * test/iron/node-aes.test.ts against node:crypto and, through the engine, @hapi/iron).
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { Buffer } from 'node:buffer';

const BLOCK = 16;

export type AesAlgorithm = 'aes-256-cbc' | 'aes-128-ctr';

/** Contexts of an aes-256-cbc key, each with its current chaining value. */
interface CbcContexts {
  readonly encryptor: Cipher;
  readonly encryptChain: Buffer;
  readonly decryptor: Decipher;
  readonly decryptChain: Buffer;
}

export class NodeAesKey {
  /** aes-256-cbc: the chained contexts. aes-128-ctr: an ECB encryptor for counter blocks. */
  readonly #cbc: CbcContexts | undefined;
  readonly #ecb: Cipher | undefined;

  constructor(raw: Uint8Array, algorithm: AesAlgorithm) {
    if (algorithm === 'aes-256-cbc') {
      const zero = Buffer.alloc(BLOCK);
      this.#cbc = {
        encryptor: createCipheriv('aes-256-cbc', raw, zero).setAutoPadding(false),
        encryptChain: Buffer.alloc(BLOCK),
        decryptor: createDecipheriv('aes-256-cbc', raw, zero).setAutoPadding(false),
        decryptChain: Buffer.alloc(BLOCK),
      };
    } else {
      this.#ecb = createCipheriv('aes-128-ecb', raw, null).setAutoPadding(false);
    }
  }

  /** Encrypts the UTF-8 bytes of `plaintext` under `iv` (16 bytes). */
  encrypt(iv: Uint8Array, plaintext: string): Buffer {
    const size = Buffer.byteLength(plaintext, 'utf8');
    const cbc = this.#cbc;
    if (cbc === undefined) {
      const input = Buffer.allocUnsafe(size);
      input.write(plaintext, 'utf8');
      return ctr(this.#ecb, iv, input);
    }
    const padding = BLOCK - (size % BLOCK);
    const input = Buffer.allocUnsafe(size + padding);
    input.write(plaintext, 'utf8');
    input.fill(padding, size);
    const chain = cbc.encryptChain;
    for (let i = 0; i < BLOCK; i++) input[i] = input[i]! ^ iv[i]! ^ chain[i]!;
    const out = update(cbc.encryptor, input);
    out.copy(chain, 0, out.length - BLOCK);
    return out;
  }

  /** Decrypts `data` under `iv`; `undefined` when the sizes or the padding are wrong. */
  decrypt(iv: Uint8Array, data: Buffer): Buffer | undefined {
    if (iv.length !== BLOCK) return undefined;
    const cbc = this.#cbc;
    if (cbc === undefined) return ctr(this.#ecb, iv, data);
    const size = data.length;
    if (size === 0 || size % BLOCK !== 0) return undefined;
    const chain = cbc.decryptChain;
    const out = update(cbc.decryptor, data);
    for (let i = 0; i < BLOCK; i++) out[i] = out[i]! ^ chain[i]! ^ iv[i]!;
    data.copy(chain, 0, size - BLOCK);
    const padding = out[size - 1]!;
    if (padding < 1 || padding > BLOCK) return undefined;
    for (let i = size - padding; i < size - 1; i++) if (out[i] !== padding) return undefined;
    return out.subarray(0, size - padding);
  }
}

/** CTR in both directions: the 16-byte IV is the first counter, a 128-bit big-endian number. */
function ctr(ecb: Cipher | undefined, iv: Uint8Array, data: Buffer): Buffer {
  if (ecb === undefined) throw new TypeError('not an aes-128-ctr key');
  if (data.length === 0) return data;
  const blocks = Math.ceil(data.length / BLOCK);
  const counters = Buffer.allocUnsafe(blocks * BLOCK);
  counters.set(iv.subarray(0, BLOCK));
  for (let b = 1; b < blocks; b++) {
    const at = b * BLOCK;
    counters.copy(counters, at, at - BLOCK, at);
    // Increment with carry from the last byte; wraps around at 2^128 as OpenSSL does.
    for (let i = at + BLOCK - 1; i >= at; i--) {
      const next = (counters[i]! + 1) & 0xff;
      counters[i] = next;
      if (next !== 0) break;
    }
  }
  const stream = update(ecb, counters);
  for (let i = 0; i < data.length; i++) data[i] = data[i]! ^ stream[i]!;
  return data;
}

/** One update call on block-aligned input; padding is off, so nothing is held back. */
function update(context: Cipher | Decipher, input: Buffer): Buffer {
  const out = context.update(input);
  // Unreachable with padding off; a short answer would desynchronise the chaining value.
  if (out.length !== input.length) throw new Error('AES context returned a partial output');
  return out;
}
