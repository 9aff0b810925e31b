/**
 * How the CLI fails: exit code 1 for a token, data or password that is not valid, 2 for a
 * command line that is not (unknown command or option, no password source). Every failure
 * is reported as one line that never contains a token, a password or data, nor any other
 * word of the command line: a mistyped command line may hold a token or a password where a
 * name was expected, so messages name options and argument positions instead.
 */
import { isSessionError } from '../errors.js';

/** Exit code of a failure: 1 invalid input, 2 usage. */
export type FailureExitCode = 1 | 2;

/** A failure the CLI reports itself, with a fixed-phrase message. */
export class CliError extends Error {
  override readonly name = 'CliError' as const;
  readonly exitCode: FailureExitCode;
  /** A library error code when one applies (`ERR_DATA_INVALID`, ...). */
  readonly code: string | undefined;

  constructor(exitCode: FailureExitCode, message: string, code?: string) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** A command line that cannot be run as given: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(2, message);
}

/** A token, data or password that is not valid: exit code 1. */
export function inputError(code: string, message: string): CliError {
  return new CliError(1, message, code);
}

/**
 * A message on one line. Every message is written as one line already (the CLI's own and
 * the library's fixed phrases); this only keeps the one-line promise, which scripts reading
 * stderr rely on, should a line break ever slip into one.
 */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * The exit code and the one stderr line for anything a command threw. A library error is
 * printed with its code and its message as the library wrote it.
 */
export function describeFailure(error: unknown): { exitCode: FailureExitCode; line: string } {
  let exitCode: FailureExitCode;
  let code: string | undefined;
  let message: string;
  if (error instanceof CliError) {
    ({ exitCode, code, message } = error);
  } else if (isSessionError(error)) {
    // Library messages are fixed phrases without secrets (see src/errors.ts).
    exitCode = 1;
    code = error.code;
    message = error.message;
  } else {
    // Anything else is a bug or a platform failure; its message could quote input.
    exitCode = 1;
    message = `unexpected ${error instanceof Error ? error.name : 'failure'}`;
  }
  const text = oneLine(message);
  return { exitCode, line: `sealed-session: ${code === undefined ? '' : `${code}: `}${text}` };
}
