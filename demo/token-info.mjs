/**
 * What anyone holding a session cookie can read from it without the password. An iron
 * Fe26.2 token is eight fields separated by '*':
 *
 *   Fe26.2*<password id>*<encryption salt>*<iv>*<ciphertext>*<expiration>*<hmac salt>*<hmac>
 */

/** Splits a `Cookie` request header into [name, value] pairs, in the order sent. */
export function parseCookieHeader(/** @type {string | undefined} */ header) {
  /** @type {Array<[string, string]>} */
  const pairs = [];
  if (header === undefined) return pairs;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return pairs;
}

/**
 * The public fields of a token, or undefined when it is not shaped like Fe26.2.
 *
 * @param {string} token
 */
export function describeToken(token) {
  let text = token;
  try {
    text = decodeURIComponent(token);
  } catch {
    // Not percent-encoded text: describe it as sent.
  }
  const fields = text.split('*');
  if (fields.length !== 8 || fields[0] !== 'Fe26.2') return undefined;
  const [prefix, passwordId, encryptionSalt, iv, ciphertext, expiration, hmacSalt, hmac] =
    /** @type {string[]} */ (fields);
  const expiresAt = /^\d{1,16}$/.test(expiration ?? '') ? Number(expiration) : undefined;
  return {
    prefix,
    passwordId: passwordId ?? '',
    encryptionSalt: encryptionSalt ?? '',
    iv: iv ?? '',
    ciphertext: ciphertext ?? '',
    // Base64url: 4 characters per 3 bytes.
    ciphertextBytes: Math.floor(((ciphertext ?? '').length * 3) / 4),
    expiresAt,
    hmacSalt: hmacSalt ?? '',
    hmac: hmac ?? '',
    length: text.length,
  };
}
