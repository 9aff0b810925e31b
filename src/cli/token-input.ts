/**
 * The TOKEN input of unseal and inspect: how it is cleaned up, checked and documented.
 */
import { parseToken, type ParsedToken } from '../iron/format.js';
import { inputError } from './cli-error.js';

/** How to pass a TOKEN, for the help of every command that reads one. */
export const TOKEN_HELP: string = `TOKEN is read from stdin when it is '-' or absent. Prefer stdin: a TOKEN argument is
visible to other users of the machine in \`ps\` (and stays in shell history), while a
redirect or printf, which the shell runs itself, shows nothing there. As an argument,
quote the token (it contains '*').`;

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
