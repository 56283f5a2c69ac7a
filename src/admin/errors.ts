/** Stable codes of the admin layer (docs/conventions.md, Error codes). */
export type AdminErrorCode =
  /** A request without the bearer token, or with another one (401). */
  | 'ERR_ADMIN_UNAUTHORIZED'
  /** A connection to the admin API past gateway.admin.maxConnections (all sources together): closed at accept. */
  | 'ERR_ADMIN_CONN_LIMIT'
  /** A connection to the admin API past gateway.admin.maxConnectionsPerSource from its address: closed at accept. */
  | 'ERR_ADMIN_CONN_SOURCE_LIMIT'
  /** The admin API asked to listen beyond loopback with no token configured: it refuses to start. */
  | 'ERR_ADMIN_TOKEN_REQUIRED'
  /** A service behind a route failed (500; the log has the cause). */
  | 'ERR_ADMIN_SERVICE'
  /** A request the API refused (bad body, unknown name) without a code of its own: 4xx with this code. */
  | 'ERR_ADMIN_REQUEST'
  /** The admin API could not bind its address: the gateway runs on without it, and says so. */
  | 'ERR_ADMIN_LISTEN'
  /** DELETE /calls/:id (clear call) named no live call: 404. */
  | 'ERR_ADMIN_CALL_NOT_FOUND'
  /** DELETE /calls/:id on a call already being torn down (a BYE is out): 409, nothing sent. */
  | 'ERR_ADMIN_CALL_ENDING'
  /** DELETE /connections/:id (clear connection) named no open connection: 404. */
  | 'ERR_ADMIN_CONNECTION_NOT_FOUND'
  /** GET /cdrs while another CDR scan runs (one at a time): 429 with Retry-After, counted as cdr-scan-busy. */
  | 'ERR_ADMIN_CDR_SCAN_BUSY'
  /** A PKI task that writes (csr, import, trust add/remove) while another runs (one at a time): 429, counted as pki-busy. */
  | 'ERR_ADMIN_PKI_BUSY'
  /** POST /tls/probe while another probe runs (one at a time): 429 with Retry-After, counted as tls-probe-busy. */
  | 'ERR_ADMIN_TLS_PROBE_BUSY'
  /** A route that needs the embedded engine on a gateway running against drachtio-server (engine mode external): 501. */
  | 'ERR_ADMIN_ENGINE_EXTERNAL'
  /** A request without a token configured whose Host is not a loopback name, or whose Origin is another site: 403, counted. */
  | 'ERR_ADMIN_ORIGIN_REFUSED'
  /** A request body over the admin API's limit: 413, counted as body-too-large. */
  | 'ERR_ADMIN_BODY_TOO_LARGE';

/** What the admin API did on an operator's word (listed with what to do in src/events.ts). */
export type AdminEventCode =
  /** A live call hung up by the administrator: BYE on both legs, CDR cause admin. */
  | 'EVT_ADMIN_CALL_CLEARED';
