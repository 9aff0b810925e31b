/**
 * The version `sealed-session --version` prints.
 */
import { readFileSync } from 'node:fs';

/**
 * The package version, from the package.json two levels up: `dist/cli/` in the package,
 * `src/cli/` in the repository.
 */
export function packageVersion(): string {
  const manifest: unknown = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
