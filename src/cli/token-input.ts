/**
 * The TOKEN input of unseal and inspect: how it is cleaned up and documented. The library
 * checks it (unseal, inspectToken) and reports a malformed token with its own error.
 */

/** How to pass a TOKEN, for the help of every command that reads one. */
export const TOKEN_HELP: string = `TOKEN is read from stdin when it is '-' or absent. Prefer stdin: a TOKEN argument is
visible to other users of the machine in \`ps\` (and stays in shell history), while a
redirect or printf, which the shell runs itself, shows nothing there. As an argument,
quote the token (it contains '*').`;

/** A token as typed or piped: surrounding whitespace (the newline of `echo`) dropped. */
export function readToken(text: string): string {
  return text.trim();
}
