/**
 * HMAC-SHA256 (RFC 2104) in plain TypeScript, so the WebCrypto backend can compute a MAC
 * synchronously: a `crypto.subtle.sign` costs a thread-pool round trip that is far slower than
 * the two or three compressions an iron MAC needs.
 *
 * A key is prepared once: the states after absorbing the key ^ ipad and key ^ opad blocks.
 * Each MAC then costs the message blocks plus one block for the outer hash.
 */
import {
  SHA256_BLOCK_BYTES,
  sha256,
  sha256Block,
  sha256Digest,
  sha256Finish,
  sha256FinishWords,
  sha256Init,
  sha256Wipe,
} from './sha256.js';

/** A prepared HMAC-SHA256 key: SHA-256 states after the key ^ ipad and key ^ opad blocks. */
export interface HmacKey {
  readonly inner: Uint32Array;
  readonly outer: Uint32Array;
}

const IPAD = 0x36;
const OPAD = 0x5c;

/** Prepares `keyBytes` (any length; longer than a block is hashed first, RFC 2104 §2). */
export function createHmacKey(keyBytes: Uint8Array): HmacKey {
  const block = new Uint8Array(SHA256_BLOCK_BYTES);
  block.set(keyBytes.length > SHA256_BLOCK_BYTES ? sha256(keyBytes) : keyBytes);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) block[i] = block[i]! ^ IPAD;
  const inner = sha256Init();
  sha256Block(inner, block, 0);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) block[i] = block[i]! ^ IPAD ^ OPAD;
  const outer = sha256Init();
  sha256Block(outer, block, 0);
  block.fill(0);
  sha256Wipe();
  return Object.freeze({ inner, outer });
}

/** Working states, reused by every MAC (calls are synchronous and never reenter). */
const innerState = new Uint32Array(8);
const outerState = new Uint32Array(8);

function mac(key: HmacKey, message: Uint8Array, length: number): Uint8Array {
  innerState.set(key.inner);
  sha256Finish(innerState, SHA256_BLOCK_BYTES, message, length);
  outerState.set(key.outer);
  sha256FinishWords(outerState, SHA256_BLOCK_BYTES, innerState);
  const out = new Uint8Array(32);
  sha256Digest(outerState, out);
  return out;
}

/** HMAC-SHA256 of `message` under `key`: 32 bytes. */
export function hmacSha256(key: HmacKey, message: Uint8Array): Uint8Array {
  return mac(key, message, message.length);
}

const encoder = new TextEncoder();
/** UTF-8 of the text being MACed; grown on demand, never shrunk. */
let utf8 = new Uint8Array(1024);

/** HMAC-SHA256 of the UTF-8 bytes of `text` under `key`: 32 bytes. */
export function hmacSha256Utf8(key: HmacKey, text: string): Uint8Array {
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes (a surrogate pair takes 4 for 2).
  if (text.length * 3 > utf8.length)
    utf8 = new Uint8Array(Math.max(text.length * 3, utf8.length * 2));
  const { written } = encoder.encodeInto(text, utf8);
  return mac(key, utf8, written);
}
