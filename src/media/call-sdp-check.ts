import { anchored, type TenantMedia } from './media-policy.js';
import { checkOffer } from './ng-flags.js';
import { checkMediaAddresses } from './sdp-address.js';
import { sdpTooLarge } from './sdp-size.js';

/** A tenant's media policy with its name, for the checks and the texts of their refusals. */
export type NamedMedia = TenantMedia & { name: string };

/** What refuses an SDP body: 488 (RFC 3264 §6: an offer the answerer cannot accept), and which rule it broke. */
export interface MediaRefusal {
  status: 488;
  reason: string;
  cause: 'srtp' | 'media-address' | 'sdp-size';
}

/**
 * Whether an SDP body tenant `from` sent towards tenant `to` may go on: their SRTP policies (checkOffer), and on an
 * anchored call its size (sdp-size.ts) and the media addresses it names (sdp-address.ts). Every offer and every
 * answer of a call is held to it, the first ones as the in-dialog ones (re-INVITE, UPDATE, a late offer in the 200
 * and its answer in the ACK).
 */
export function checkCallSdp(sdp: string, from: NamedMedia, to: NamedMedia, part: 'offer' | 'answer'): MediaRefusal | undefined {
  const srtp = checkOffer(sdp, from, to, part);
  if (!srtp.ok) return { status: 488, reason: srtp.reason, cause: 'srtp' };
  if (!srtp.anchored) return undefined;
  const large = sdpTooLarge(sdp, part);
  if (large !== undefined) return { status: 488, reason: large, cause: 'sdp-size' };
  const where = checkMediaAddresses(sdp, from, part);
  return where.ok ? undefined : { status: 488, reason: where.reason, cause: 'media-address' };
}

/** Whether any SDP body of a call between these tenants can be refused by checkCallSdp. */
export function mediaChecked(a: TenantMedia, b: TenantMedia): boolean {
  return a.srtp !== 'optional' || b.srtp !== 'optional' || anchored(a, b);
}

/** Which leg sent an SDP body: the caller's (`A`, of the first tenant) or the called side's (`B`). */
export type CallSdpCheck = (from: 'A' | 'B', part: 'offer' | 'answer', sdp: string) => MediaRefusal | undefined;

/** checkCallSdp for a call from tenant `a` to tenant `b`, by leg; undefined when nothing could be refused. */
export function callSdpChecker(a: NamedMedia, b: NamedMedia): CallSdpCheck | undefined {
  if (!mediaChecked(a, b)) return undefined;
  return (from, part, sdp) => (from === 'A' ? checkCallSdp(sdp, a, b, part) : checkCallSdp(sdp, b, a, part));
}
