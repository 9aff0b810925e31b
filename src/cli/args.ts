/**
 * Command-line parsing for the commands: node:util parseArgs, with errors that name
 * options and argument positions but never repeat what was typed.
 */
import { parseArgs } from 'node:util';
import { usageError, type CliError } from './cli-error.js';
import { closest, editDistance } from './suggest.js';

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** A command's options by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A parsed command line. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h' };

// Names people reach for when they try to pass the password itself.
const PASSWORD_NAMES = ['password', 'passwd', 'pass', 'pwd', 'pw', 'p', 'secret', 'key'];

function looksLikePasswordOption(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    PASSWORD_NAMES.includes(lower) ||
    editDistance(lower, 'password') <= 2 ||
    editDistance(lower, 'secret') <= 1
  );
}

/**
 * The error for an option nobody defined. `name` (without dashes) is used to choose the
 * message and is never shown: `--pasword=hunter2` or a token with a dash in front would
 * otherwise be printed. `position` counts the words after `sealed-session`, from 1.
 *
 * @param command - the command whose options apply, or undefined before a command
 */
export function unknownOptionError(
  name: string,
  position: number,
  command: string | undefined,
  known: readonly string[],
): CliError {
  if (looksLikePasswordOption(name)) {
    return usageError(
      `the password is never taken as an argument (argument ${position}): use SEALED_SESSION_PASSWORD, --password-env NAME or --password-file PATH`,
    );
  }
  const suggestion = closest(name, known);
  const hint = suggestion === undefined ? '' : `; did you mean --${suggestion}?`;
  const help = command === undefined ? 'sealed-session --help' : `sealed-session ${command} --help`;
  return usageError(`unknown option in argument ${position}${hint} (see '${help}')`);
}

/**
 * Parses a command's arguments with node:util parseArgs. Its strict mode reports errors
 * by quoting the arguments, which may be a token or a password typed in the wrong place,
 * so it runs loose here and the checks below make it strict with messages that only name
 * options and positions.
 *
 * @param args - the words after the command name (which is argument 1)
 * @throws CliError (exit 2) on an unknown option, a missing value or a value for a flag
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  specs: OptionSpecs,
): ParsedArgs {
  const options: OptionSpecs = { ...specs, help: HELP };
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seeHelp = ` (see 'sealed-session ${command} --help')`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const position = token.index + 2;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (spec === undefined) {
      throw unknownOptionError(token.name, position, command, Object.keys(options));
    }
    // The canonical name, not rawName: `-h` and `--help` read the same, and nothing typed
    // is echoed even for a known option.
    const option = `--${token.name}`;
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw usageError(`option ${option} takes no value${seeHelp}`);
    }
    // Loose parseArgs takes the next argument as the value even when it is another
    // option; strict parseArgs calls that ambiguous, and so do we.
    if (
      spec.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      throw usageError(`option ${option} needs a value${seeHelp}`);
    }
  }
  const plain: Record<string, string | boolean | undefined> = {};
  // No option is `multiple`, so every value is one string or boolean.
  for (const [name, value] of Object.entries(values) as [string, unknown][]) {
    if (typeof value === 'string' || typeof value === 'boolean') plain[name] = value;
  }
  return { values: plain, positionals };
}

/** The value of string option `name`, if given. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether boolean option `name` is set. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
