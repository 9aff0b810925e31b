/**
 * A response carries at most one Set-Cookie per (name, domain, path): a later write for the
 * same cookie replaces the earlier one instead of piling up (h3 regressed on this three times).
 */
import { parseSetCookie } from 'cookie';

/** What makes two Set-Cookie headers address the same browser cookie (RFC 6265 §5.3). */
export interface CookieIdentity {
  readonly name: string;
  readonly domain?: string | undefined;
  readonly path?: string | undefined;
}

function sameIdentity(a: CookieIdentity, b: CookieIdentity): boolean {
  return (
    a.name === b.name &&
    (a.domain ?? '').toLowerCase() === (b.domain ?? '').toLowerCase() &&
    (a.path ?? '') === (b.path ?? '')
  );
}

/** Reads name, Domain and Path from a serialized Set-Cookie header. */
function identityOf(header: string): CookieIdentity {
  const { name, domain, path } = parseSetCookie(header);
  return { name, domain, path };
}

/**
 * Set-Cookie headers of `earlier` then `later`, keeping one per cookie: a later header for
 * the same (name, domain, path) replaces the earlier one.
 */
export function mergeSetCookies(earlier: readonly string[], later: readonly string[]): string[] {
  let merged = [...earlier];
  for (const header of later) merged = replaceSetCookie(merged, header, identityOf(header));
  return merged;
}

/** `headers` without any header for the same cookie as `identity`, then `header` appended. */
export function replaceSetCookie(
  headers: readonly string[],
  header: string,
  identity: CookieIdentity,
): string[] {
  const out: string[] = [];
  for (const existing of headers) {
    if (!sameIdentity(identityOf(existing), identity)) out.push(existing);
  }
  out.push(header);
  return out;
}
