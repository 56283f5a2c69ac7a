import type { PolicyCode } from './errors.js';
import { matchTlsPeer, type TlsPeerMatch } from './match-tls-peer.js';
import type { PermissionCategory, PermissionSet, TlsPeer } from './types.js';

export interface ResolvePermissionsInput {
  /** Verified certificate identities of the caller, in the certificate's order; empty for UDP/TCP. */
  identities: readonly string[];
  tlsPeers: Readonly<Record<string, TlsPeer>>;
  /** The tenant the call arrived on (restricts TLS peers that name tenants). */
  tenant?: string;
  /** The tenant's `defaultPermissions`. */
  tenantDefaults?: PermissionSet;
  /** Each category's own default (see categoryDefaults). */
  categoryDefaults: PermissionSet;
  /** What to do when no TLS peer matches. Default 'allow' (sipXbridge's fail-soft, with a warning). */
  unknownPeer?: 'allow' | 'reject';
}

export type PermissionResolution =
  | {
      ok: true;
      permissions: PermissionSet;
      /** The TLS peer that matched, if any. */
      peer: TlsPeerMatch | undefined;
      /** Set when identities were presented but none matched a TLS peer. */
      warning?: string;
    }
  | { ok: false; code: Extract<PolicyCode, 'ERR_POLICY_UNKNOWN_PEER'>; status: 403; reason: string };

/** Category name → its default, the bottom layer of every permission set. */
export function categoryDefaults(categories: readonly PermissionCategory[]): PermissionSet {
  const out: Record<string, boolean> = {};
  for (const c of categories) out[c.name] = c.default;
  return out;
}

/** "No matching TLS Peer found for sip:a.example, dns:a.example" (sipXbridge's wording). */
export function noMatchingPeerText(identities: readonly string[]): string {
  return `No matching TLS Peer found for ${identities.length > 0 ? identities.join(', ') : '(no certificate identities)'}`;
}

/**
 * The permission set of a call. Layers, later wins: category defaults, then the tenant's defaults, then
 * (when one matches) the TLS peer's permissions, so a TLS peer only states what differs and a tenant can
 * narrow what every caller on it may dial. With no match the tenant's defaults apply and a warning names the
 * identities; with `unknownPeer: 'reject'` the call is refused instead.
 */
export function resolvePermissions(input: ResolvePermissionsInput): PermissionResolution {
  const base = { ...input.categoryDefaults, ...(input.tenantDefaults ?? {}) };
  const peer = matchTlsPeer(input.identities, input.tlsPeers, input.tenant);
  if (peer) return { ok: true, permissions: Object.freeze({ ...base, ...peer.peer.permissions }), peer };
  const text = noMatchingPeerText(input.identities);
  if (input.unknownPeer === 'reject') return { ok: false, code: 'ERR_POLICY_UNKNOWN_PEER', status: 403, reason: text };
  return {
    ok: true,
    permissions: Object.freeze(base),
    peer: undefined,
    ...(input.identities.length > 0 ? { warning: text } : {}),
  };
}
