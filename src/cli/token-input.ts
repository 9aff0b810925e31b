import { parseToken, type ParsedToken } from '../iron/format.js';
import { inputError } from './cli-error.js';

/** A token as typed or piped: surrounding whitespace (the newline of `echo`) dropped. */
export function readToken(text: string): string {
  return text.trim();
}

/**
 * A token checked against the Fe26.2 grammar of src/iron/format.ts, the same check
 * unseal makes before any key derivation.
 *
 * @throws CliError (exit 1) `ERR_SEAL_INVALID`
 */
export function parseTokenOrFail(token: string): ParsedToken {
  const parsed = parseToken(token);
  if (parsed === undefined) throw inputError('ERR_SEAL_INVALID', 'not a valid Fe26.2 token');
  return parsed;
}
