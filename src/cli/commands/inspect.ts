/**
 * `sealed-session inspect`: what anyone holding a token can read without its password, and
 * whether it fits a cookie.
 */
import { MAX_SET_COOKIE_BYTES } from '../../cookie/session-cookie.js';
import {
  DEFAULT_INSPECT_COOKIE_NAME,
  inspectToken,
  isCookieName,
  type TokenInspection,
  type TokenSalt,
} from '../../iron/inspect-token.js';
import { flag, stringOption } from '../args.js';
import { usageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { readToken, TOKEN_HELP } from '../token-input.js';

function saltText(field: TokenSalt): string {
  return field.present
    ? `present, ${field.length} hex characters`
    : 'absent (byte password, or not iron)';
}

function expirationText(expiration: TokenInspection['expiration']): string {
  if (expiration === null) return 'never';
  const when = expiration.iso ?? `${expiration.ms} ms since the epoch`;
  return `${when} (${expiration.past ? 'past: expired' : 'in the future'})`;
}

/** The human-readable report: one field per line. */
function formatText(d: TokenInspection): string {
  const { cookie } = d;
  const fit = cookie.fits
    ? `fits: ${cookie.bytes} of ${cookie.limit} bytes`
    : `does not fit: ${cookie.bytes} bytes, over the ${cookie.limit}-byte limit (browsers drop it)`;
  const rows: [string, string][] = [
    ['format', d.format],
    ['password id', d.passwordId ?? '(none)'],
    ['expiration', expirationText(d.expiration)],
    ['encryption salt', saltText(d.encryptionSalt)],
    ['integrity salt', saltText(d.integritySalt)],
    ['iv', `${d.iv} (${d.ivBytes} bytes)`],
    ['ciphertext', `${d.ciphertextBytes} bytes`],
    ['token length', `${d.tokenLength} characters`],
    ['integrity', 'not verified (inspect uses no password)'],
    ['cookie', fit],
    ['', cookie.setCookie],
  ];
  return rows.map(([label, value]) => `${label.padEnd(16)}${value}`.trimEnd()).join('\n') + '\n';
}

/** `sealed-session inspect`: the public fields of a token, without a password. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: "show a token's public fields and cookie size (no password)",
  options: {
    json: { type: 'boolean' },
    name: { type: 'string' },
  },
  help: `Usage: sealed-session inspect [TOKEN|-] [options]

Shows what anyone holding the token can read, without a password: format, password
id, expiration, salts, iv, sizes; and whether it fits a ${MAX_SET_COOKIE_BYTES}-byte cookie, as
  Set-Cookie: <name>=<token>; Path=/; HttpOnly; Secure; SameSite=Lax
Nothing is verified, and nothing encrypted is shown: a purpose is sealed inside the
token with its data ('sealed-session unseal --purpose NAME' checks it). Exits 1 when
the token is not Fe26.2.

${TOKEN_HELP}

Options:
  --name NAME   cookie name for the size check (default ${DEFAULT_INSPECT_COOKIE_NAME})
  --json        print the fields as JSON
  -h, --help    show this help

Examples:
  sealed-session inspect < token.txt
  printf '%s' "$TOKEN" | sealed-session inspect --json
`,
  async run(args, io) {
    const name = stringOption(args, 'name') ?? DEFAULT_INSPECT_COOKIE_NAME;
    // A bad --name is a usage error, found before any input is read.
    if (!isCookieName(name)) {
      throw usageError("--name takes a cookie name (printable ASCII without space, ';' or '=')");
    }
    const token = readToken(await readInput('inspect', 'TOKEN', args.positionals, io));
    const inspection = inspectToken(token, { cookieName: name, now: io.now() });
    io.out(
      flag(args, 'json') ? `${JSON.stringify(inspection, null, 2)}\n` : formatText(inspection),
    );
  },
};
