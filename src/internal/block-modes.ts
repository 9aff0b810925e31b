/**
 * The parts of CBC and CTR that do not depend on the block cipher, shared by the JS AES
 * (src/internal/aes.ts) and the node backend's open-context AES (src/iron/backend/node-aes.ts).
 */
export const AES_BLOCK_BYTES = 16;

/**
 * The message inside a decrypted PKCS#7-padded buffer, or undefined when the padding is
 * wrong. Iron checks the MAC before decrypting, so this branch is no padding oracle.
 */
export function pkcs7Unpad(padded: Uint8Array): Uint8Array | undefined {
  const size = padded.length;
  const padding = padded[size - 1]!;
  if (size === 0 || padding < 1 || padding > AES_BLOCK_BYTES || padding > size) return undefined;
  for (let i = size - padding; i < size - 1; i++) if (padded[i] !== padding) return undefined;
  return padded.subarray(0, size - padding);
}

/**
 * Adds one to the 16-byte big-endian counter block at `at`, carrying from the last byte
 * and wrapping at 2^128, as OpenSSL's aes-128-ctr does. The counter (the IV) is public.
 */
export function incrementCounter(counter: Uint8Array, at: number): void {
  for (let i = at + AES_BLOCK_BYTES - 1; i >= at; i--) {
    const next = (counter[i]! + 1) & 0xff;
    counter[i] = next;
    if (next !== 0) return;
  }
}
