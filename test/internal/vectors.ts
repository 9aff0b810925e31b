/**
 * Known answers: NIST's SHA-256 examples (FIPS 180-2 appendix B, the CSRC "SHA256.pdf"
 * example values) and RFC 4231 §4.2–4.8, HMAC-SHA256 test cases 1–7.
 */

/** Bytes of a hex string. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const repeat = (byte: number, count: number): Uint8Array => new Uint8Array(count).fill(byte);

export interface ShaVector {
  readonly name: string;
  readonly message: () => Uint8Array;
  readonly digest: string;
}

export const SHA256_VECTORS: readonly ShaVector[] = [
  {
    name: 'empty string',
    message: () => new Uint8Array(0),
    digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    name: '"abc" (one block)',
    message: () => ascii('abc'),
    digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  },
  {
    name: '448-bit message (padding spills into a second block)',
    message: () => ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    digest: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
  {
    name: '896-bit message',
    message: () =>
      ascii(
        'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      ),
    digest: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  },
  {
    name: "one million 'a'",
    message: () => repeat(0x61, 1_000_000),
    digest: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
  },
];

export interface HmacVector {
  readonly name: string;
  readonly key: Uint8Array;
  readonly data: Uint8Array;
  /** The expected MAC; test case 5 gives only its first 128 bits. */
  readonly mac: string;
}

const KEY_131 = repeat(0xaa, 131);

export const RFC4231_VECTORS: readonly HmacVector[] = [
  {
    name: 'test case 1',
    key: repeat(0x0b, 20),
    data: ascii('Hi There'),
    mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
  },
  {
    name: 'test case 2 (key shorter than the output)',
    key: ascii('Jefe'),
    data: ascii('what do ya want for nothing?'),
    mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  },
  {
    name: 'test case 3 (50 bytes of 0xdd)',
    key: repeat(0xaa, 20),
    data: repeat(0xdd, 50),
    mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
  },
  {
    name: 'test case 4 (25-byte key 0x01..0x19)',
    key: Uint8Array.from({ length: 25 }, (_, i) => i + 1),
    data: repeat(0xcd, 50),
    mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  },
  {
    name: 'test case 5 (output truncated to 128 bits)',
    key: repeat(0x0c, 20),
    data: ascii('Test With Truncation'),
    mac: 'a3b6167473100ee06e0c796c2955552b',
  },
  {
    name: 'test case 6 (131-byte key, hashed first)',
    key: KEY_131,
    data: ascii('Test Using Larger Than Block-Size Key - Hash Key First'),
    mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  },
  {
    name: 'test case 7 (131-byte key and data longer than a block)',
    key: KEY_131,
    data: ascii(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];
