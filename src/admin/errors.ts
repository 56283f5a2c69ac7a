/** Stable codes of the admin layer (STYLE.md §3.3). */
export type AdminErrorCode =
  /** A request without the bearer token, or with another one (401). */
  | 'ERR_ADMIN_UNAUTHORIZED'
  /** The admin API asked to listen beyond loopback with no token configured: it refuses to start. */
  | 'ERR_ADMIN_TOKEN_REQUIRED'
  /** A service behind a route failed (500; the log has the cause). */
  | 'ERR_ADMIN_SERVICE';
