/**
 * Purpose binding: every session token this package seals says what it is for, so a token
 * sealed for one use never opens as another under the same password (the class of
 * CVE-2023-48309: an MFA-pending `pre` session pasted into the `auth` cookie).
 *
 * The purpose travels inside the sealed JSON, as a `purpose` member after h3's
 * `{ id, createdAt, data }`: h3 and vinxi ignore members they do not know, so they still read
 * our tokens, and a MAC covers it like the rest. Keying the derivation by purpose instead
 * (Auth.js's fix) would have made our tokens unreadable to h3.
 */
import { SessionError } from '../errors.js';

/** The member of the sealed object that names its purpose. */
export const PURPOSE_KEY = 'purpose';

/**
 * Checks the purpose a sealed object carries against the expected one.
 *
 * @param sealed - the opened object (already known to be a plain object)
 * @param expected - the purpose this reader accepts
 * @param acceptUnbound - whether an object without a purpose (sealed by h3, vinxi or an
 *   older version of this package) is accepted
 * @throws SessionError `ERR_PURPOSE_MISMATCH` (another purpose, or a purpose that is not a
 *   string), `ERR_PURPOSE_MISSING` (none, and unbound objects are refused)
 */
export function checkPurpose(
  sealed: Readonly<Record<string, unknown>>,
  expected: string,
  acceptUnbound: boolean,
): void {
  const purpose = sealed[PURPOSE_KEY];
  if (purpose === undefined) {
    if (acceptUnbound) return;
    throw new SessionError('ERR_PURPOSE_MISSING', 'The token is not bound to a purpose');
  }
  if (purpose !== expected) {
    throw new SessionError('ERR_PURPOSE_MISMATCH', 'The token was sealed for another purpose');
  }
}

/**
 * Checks a purpose given in a configuration or on the command line.
 *
 * @throws SessionError `ERR_CONFIG_INVALID`
 */
export function validatePurpose(purpose: unknown, where: string): string {
  if (typeof purpose !== 'string' || purpose === '' || purpose.length > 256) {
    throw new SessionError(
      'ERR_CONFIG_INVALID',
      `Invalid session config: ${where} must be a string of 1 to 256 characters`,
    );
  }
  return purpose;
}
