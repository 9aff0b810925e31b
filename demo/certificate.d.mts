/** A throwaway self-signed TLS certificate for the demo and the browser tests. */

/** A PEM private key and its PEM certificate, as node:https and node:tls take them. */
export interface KeyAndCertificate {
  readonly key: string;
  readonly cert: string;
}

/**
 * Makes a key and a self-signed certificate valid for `names` (host names, `*.` wildcards
 * and IP addresses; the first is also the common name) with the `openssl` command.
 *
 * @returns undefined when the openssl command is not installed
 */
export declare function createSelfSignedCertificate(
  names: readonly string[],
  options?: { readonly days?: number },
): Promise<KeyAndCertificate | undefined>;
