/**
 * The process as the commands see it (environment, stdin, stdout, stderr, files, clock),
 * behind one interface so the commands hold no process globals.
 */
import { readFile } from 'node:fs/promises';

/** What the commands need from the process: kept in one place so commands stay plain. */
export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdin is an interactive terminal (then nothing is piped in). */
  readonly stdinIsTerminal: boolean;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** All of stdin as UTF-8 text. */
  readStdin(): Promise<string>;
  /** A file's content as UTF-8 text. */
  readFile(path: string): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The real process. */
export function nodeIo(): Io {
  return {
    env: process.env,
    // Typed boolean, but undefined (falsy) when stdin is a pipe or a file.
    stdinIsTerminal: process.stdin.isTTY,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    readStdin: () => readAll(process.stdin as AsyncIterable<Buffer | string>),
    readFile: (path) => readFile(path, 'utf8'),
    now: () => Date.now(),
  };
}
