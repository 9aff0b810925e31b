/**
 * The attributes of the session cookie, as a configuration gives them. They live with the
 * cookie code, below the session layer, which re-exports them for its configuration.
 */

/** Cookie attributes (RFC 6265bis). */
export interface CookieOptions {
  /** @default '/' */
  readonly path?: string | undefined;
  readonly domain?: string | undefined;
  /** @default true */
  readonly secure?: boolean | undefined;
  /** @default true */
  readonly httpOnly?: boolean | undefined;
  /** @default 'lax' */
  readonly sameSite?: boolean | 'lax' | 'strict' | 'none' | undefined;
  readonly priority?: 'low' | 'medium' | 'high' | undefined;
  readonly partitioned?: boolean | undefined;
  /** Overrides the expiry derived from `maxAge`. */
  readonly expires?: Date | undefined;
  /** Overrides the Max-Age derived from `maxAge`, in seconds. */
  readonly maxAge?: number | undefined;
}
