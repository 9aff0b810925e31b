import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/iron/backend/node.js';
import { webBackend } from '../../src/iron/backend/web.js';

const RAW = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
const BASE = 'Fe26.2**abcdef*AAAAAAAAAAAAAAAAAAAAAA*Y2lwaGVydGV4dA*';

describe('web backend MAC', () => {
  it('imports a sha256 key and MACs synchronously, equal to the node backend', () => {
    const key = webBackend.importKey(RAW, 'sha256');
    expect(key).not.toBeInstanceOf(Promise);
    const digest = webBackend.mac(key, BASE);
    expect(typeof digest).toBe('string');
    expect(digest).toBe(nodeBackend.mac(nodeBackend.importKey(RAW, 'sha256'), BASE));
    expect(digest).toMatch(/^[\w-]{43}$/);
  });

  it('derives a sha256 key (PBKDF2 through WebCrypto) that MACs like the node backend', async () => {
    const password = 'some_not_random_password_that_is_also_long_enough';
    const salt = 'a1b2c3d4';
    const webKey = await webBackend.deriveKey(password, salt, 1, 'sha256');
    const nodeKey = await nodeBackend.deriveKey(password, salt, 1, 'sha256');
    expect(webBackend.mac(webKey, BASE)).toBe(nodeBackend.mac(nodeKey, BASE));
  });

  it('still imports AES keys through WebCrypto', async () => {
    const key = await webBackend.importKey(RAW, 'aes-256-cbc');
    expect(key).toBeInstanceOf(CryptoKey);
  });
});
