/**
 * Compares two strings of char codes below 256 (a MAC in base64url) in time that depends
 * only on their lengths: every character is visited, no branch or index depends on the
 * contents. The same code on every backend (measured faster on Node than two Buffer
 * conversions and `timingSafeEqual` for a 43-character MAC).
 */
export function equalStrings(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
