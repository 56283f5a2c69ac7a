/** How a tenant's media is handled (the tenant's `media:` block in its configuration). */
export type MediaMode = 'flow-through' | 'flow-around';

/**
 * SRTP on this tenant's leg: `required` (SDES SRTP only: a plain offer from it, or one we cannot secure towards
 * it, is refused with 488), `optional` (whatever the offer had), `off` (plain RTP towards it).
 */
export type SrtpPolicy = 'required' | 'optional' | 'off';

export interface TenantMedia {
  mode: MediaMode;
  srtp: SrtpPolicy;
  /** SDES suites (RFC 4568) towards this tenant, in its order of preference. */
  suites?: readonly string[];
  /**
   * Addresses and CIDRs this tenant's SDP may name as its media on an anchored call (absent: any unicast address).
   * Loopback and link-local addresses are taken only when an entry lies inside them (127.0.0.0/8, ::1, fe80::/64):
   * sdp-address.ts.
   */
  allowedNetworks?: readonly string[];
}

/** A tenant with no `media:` block: media flows around the gateway, SDP passes as it does today. */
export const FLOW_AROUND: TenantMedia = Object.freeze({ mode: 'flow-around', srtp: 'optional' });

/** A call is anchored on rtpengine when either tenant asks for flow-through. */
export function anchored(from: TenantMedia, to: TenantMedia): boolean {
  return from.mode === 'flow-through' || to.mode === 'flow-through';
}
