/**
 * Plain data the policy functions work on. The config layer produces these shapes; nothing here knows YAML
 * or zod, so the same functions serve the b2bua, admin previews and tests.
 */

/** Category name → allowed. Missing names fall back to the next layer (see resolvePermissions). */
export type PermissionSet = Readonly<Record<string, boolean>>;

/** A dial-plan category (sipXecs): number patterns and whether callers may dial it by default. */
export interface PermissionCategory {
  readonly name: string;
  /** Regular expressions over the normalised number (visual separators removed, leading + kept). */
  readonly patterns: readonly string[];
  readonly default: boolean;
  /** Lower is checked first; ties keep the given order. */
  readonly order?: number;
}

/** A remote certificate identity mapped to permissions (sipXbridge TLS Peer). */
export interface TlsPeer {
  readonly permissions: PermissionSet;
  /** Only calls arriving on these tenants may use this peer; absent: any tenant. */
  readonly tenants?: readonly string[];
}

/** Which called numbers go to which tenant (CUBE dial-peer). */
export interface DialPeer {
  readonly id: string;
  readonly destinationPattern: string;
  /** The target tenant (trunk) the B leg goes out on. */
  readonly tenant: string;
  /** Source tenants allowed to use this dial peer; absent or empty: any source. */
  readonly from?: readonly string[];
  /** Lower wins; a dial peer with an explicit preference ranks above one without. */
  readonly preference?: number;
}
