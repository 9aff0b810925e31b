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
  /**
   * Longest cookie value written in one cookie; a longer session is split into chunks
   * (`name=__chunked__N`, `name.1` ... `name.N`, h3 2.x's format). Each Set-Cookie also stays
   * within 4096 bytes with its attributes, whatever this says.
   * @default 4000
   */
  readonly chunkMaxLength?: number | undefined;
  /**
   * Encodes a cookie value before it is written, as h3's cookie options do. Session tokens
   * need no encoding (they are cookie-safe), so the default leaves them as they are.
   */
  readonly encode?: ((value: string) => string) | undefined;
  /**
   * h3 2.x's serializer for non-string cookie values. Accepted for drop-in configs and
   * unused: a session token is already a string.
   */
  readonly stringify?: ((value: unknown) => string) | undefined;
}
