/** Operational failure codes of the b2bua layer (STYLE.md §3.3). */
export type B2buaErrorCode =
  | 'ERR_B2BUA_TARGET_INVALID'
  | 'ERR_B2BUA_CONNECT'
  | 'ERR_B2BUA_AUTH'
  /** A `dns:` target resolved to nothing, or the lookup failed (RFC 3263). */
  | 'ERR_B2BUA_DNS'
  /** A policy swap asked of a b2bua that runs the plain bridge. */
  | 'ERR_B2BUA_POLICY';
