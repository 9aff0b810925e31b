/**
 * A throwaway self-signed TLS certificate, made with the `openssl` command-line tool, so
 * the demo (and the browser tests) can serve HTTPS without a certificate on disk. The key
 * lives in a temporary directory only while openssl writes it, then in memory.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes a key and a self-signed certificate valid for `names` (host names, `*.` wildcards
 * and IP addresses) for `days` days.
 *
 * @param {readonly string[]} names - the first one is also the subject's common name
 * @param {{ days?: number }} [options]
 * @returns {Promise<{ key: string, cert: string } | undefined>} undefined when the openssl
 *   command is not installed
 */
export async function createSelfSignedCertificate(names, { days = 7 } = {}) {
  const [commonName] = names;
  if (commonName === undefined) throw new Error('A certificate needs at least one name.');
  const altNames = names
    .map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`))
    .join(',');
  const dir = await mkdtemp(join(tmpdir(), 'sealed-session-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    // P-256 rather than RSA: key generation takes milliseconds instead of up to a second,
    // which the browser tests feel on every run.
    const ran = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      String(days),
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${altNames}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    if (!ran) return undefined;
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a command; false when it is not installed, an error naming its output when it fails.
 *
 * @param {string} command
 * @param {string[]} args
 * @returns {Promise<boolean>}
 */
function run(command, args) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve(true);
      else if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') resolve(false);
      else reject(new Error(`${command} failed: ${String(stderr).trim() || error.message}`));
    });
  });
}
