import { GatewayError } from '../../common/gateway-error.js';

/** Stable codes of the configuration write API's refusals (each answer and log line carries one). */
export type ConfigWriteCode =
  /** No entry of that kind by that name (or dial-peer id): 404. */
  | 'ERR_CONFIG_NOT_FOUND'
  /** A create for a name (or id) already defined, in whichever file: 409. */
  | 'ERR_CONFIG_EXISTS'
  /** If-Match names another version than the one on disk (someone else wrote first): 409 with the current ETag. */
  | 'ERR_CONFIG_ETAG_MISMATCH'
  /** A replace or delete without If-Match: 428 (RFC 6585), so no editor overwrites blindly. */
  | 'ERR_CONFIG_IF_MATCH_REQUIRED'
  /** A delete of an entry the rest of the configuration still names: 409 with the referring paths. */
  | 'ERR_CONFIG_IN_USE'
  /** Another configuration write is under way: 429 with Retry-After. */
  | 'ERR_CONFIG_WRITE_BUSY'
  /** The new file could not be written (disk, permissions): 500, the old file stays. */
  | 'ERR_CONFIG_WRITE'
  /** The written configuration validated but the running gateway refused it (TLS files...): the file is restored, 422. */
  | 'ERR_CONFIG_APPLY_REFUSED'
  /**
   * A profiles file the gateway could not read, or the file a write would edit does not parse as a YAML mapping, is
   * not UTF-8 text, or holds a YAML alias the edit would leave without its anchor: 409 naming it, nothing written (a
   * write never replaces what it could not read, nor breaks what it could).
   */
  | 'ERR_CONFIG_FILE_UNREADABLE'
  /**
   * The running gateway refused a write and its file could not be put back (or was changed meanwhile): 500 naming
   * the file and the copy that holds its previous bytes; the running configuration is still the previous one.
   */
  | 'ERR_CONFIG_RESTORE';

/** A write that went on but could not keep the file's owner and group (not permitted): said once, as a process warning. */
export type ConfigWriteWarningCode = 'WARN_CONFIG_WRITE_OWNER';

/** Events of the configuration write API. */
export type ConfigWriteEventCode = 'EVT_CONFIG_WRITTEN';

export class ConfigWriteError extends GatewayError<ConfigWriteCode> {
  constructor(code: ConfigWriteCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details ? { details } : {});
    this.name = 'ConfigWriteError';
  }
}
