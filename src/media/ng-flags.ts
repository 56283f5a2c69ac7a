import { isIP } from 'node:net';
import { anchored, type TenantMedia } from './media-policy.js';
import { mediaSections } from './sdp-media.js';

/**
 * ng parameters rtpengine gets with the SDP of one direction, beside `sdp`, `call-id`, `from-tag` and `to-tag`.
 * Both directions: ICE removed (trunks speak plain SIP media, and no candidate of one side may reach the other),
 * DTLS-SRTP off (SDES, RFC 4568, is what SIP trunks use), the origin and session connection addresses replaced
 * by rtpengine's, and RTCP on its own port towards SIP peers.
 */
/**
 * The SDES suites rtpengine (10.x) knows. It offers all of them unless told `no-<suite>`; the `only-` and `order:`
 * options are newer, so a tenant's list is reached by excluding the rest, and its order is applied to the SDP
 * rtpengine returns.
 */
export const RTPENGINE_SUITES = [
  'AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32', 'AES_192_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'F8_128_HMAC_SHA1_80', 'F8_128_HMAC_SHA1_32',
  'NULL_HMAC_SHA1_80', 'NULL_HMAC_SHA1_32',
] as const;

const COMMON = {
  ICE: 'remove',
  DTLS: 'off',
  replace: ['origin', 'session-connection'],
} as const;

/**
 * The parameters of the `offer` that carries the caller's SDP towards the called tenant `to`:
 * `required` → RTP/SAVP with SDES in the tenant's suites (the others excluded); `off` → RTP/AVP with no
 * keys; `optional` → the offer's own transport. The caller's side is settled by its own offer (rtpengine answers
 * it with the transport it offered).
 */
export function offerParams(from: TenantMedia, to: TenantMedia): Record<string, unknown> {
  void from;
  const params: Record<string, unknown> = { ...COMMON, replace: [...COMMON.replace], 'rtcp-mux': ['demux'] };
  if (to.srtp === 'required') {
    params['transport-protocol'] = 'RTP/SAVP';
    if (to.suites && to.suites.length > 0) {
      const keep = new Set(to.suites.map((x) => x.toUpperCase()));
      params.SDES = RTPENGINE_SUITES.filter((x) => !keep.has(x)).map((x) => `no-${x}`);
    }
  } else if (to.srtp === 'off') {
    params['transport-protocol'] = 'RTP/AVP';
    params.SDES = ['off'];
  }
  return params;
}

/**
 * The offer parameters of the plain-RTP hop between the two sessions of a call with a key per side
 * (split-key-session.ts): RTP/AVP with no SDES, so each session interworks SRTP and RTP and makes its own keys.
 */
export function relayHopParams(): Record<string, unknown> {
  return { ...COMMON, replace: [...COMMON.replace], 'rtcp-mux': ['demux'], 'transport-protocol': 'RTP/AVP', SDES: ['off'] };
}

/**
 * Whether an offer towards tenant `to` would reach it as SDES SRTP with the offerer's own keys (rtpengine passes
 * keys through between two SDES sides): the offer has `a=crypto` in an active RTP section and `to` is not `off`.
 */
export function needsSplitKeys(offerSdp: string, to: TenantMedia): boolean {
  return to.srtp !== 'off' && offersSdes(offerSdp);
}

/** Whether an SDP body has `a=crypto` (SDES keys) in an active (port not 0) media section. */
export function offersSdes(sdp: string): boolean {
  return mediaSections(sdp).some((s) => s.port !== 0 && s.sdes);
}

/** The parameters of the `answer` that carries the called side's SDP back towards the caller. */
export function answerParams(from: TenantMedia, to: TenantMedia): Record<string, unknown> {
  void from;
  void to;
  return { ...COMMON, replace: [...COMMON.replace] };
}

export type OfferCheck = { ok: true; anchored: boolean } | { ok: false; status: 488; reason: string };

/**
 * Whether an SDP body from tenant `from` can go to tenant `to` under their SRTP policies: a tenant with
 * `srtp: required` takes SDES SRTP only. Its own offer or answer must carry RTP/SAVP(F) with `a=crypto` in every
 * active RTP section; towards it, an anchored call is secured by rtpengine, a flow-around call only if the body
 * already is. A tenant with `srtp: off` gets no SDES keys: on an anchored call rtpengine removes them, on a
 * flow-around call a body that carries them is refused. The same holds for every offer and answer of the call,
 * initial or in the dialog.
 * RFC 3264 §6: an offer the answerer cannot accept is refused (488).
 * https://www.rfc-editor.org/rfc/rfc3264#section-6
 */
export function checkOffer(sdp: string, from: TenantMedia & { name: string }, to: TenantMedia & { name: string },
  part: 'offer' | 'answer' = 'offer'): OfferCheck {
  const through = anchored(from, to);
  if (!through && to.srtp === 'off') {
    const keyed = mediaSections(sdp).filter((s) => s.port !== 0 && s.sdes);
    if (keyed.length > 0) {
      const what = keyed.map((s) => `${s.media} ${s.proto}`).join(', ');
      return { ok: false, status: 488, reason: `SRTP off towards tenant ${to.name}, and media flows around the gateway: the ${part} has SDES keys in ${what}` };
    }
  }
  if (from.srtp !== 'required' && (to.srtp !== 'required' || through)) return { ok: true, anchored: through };
  const plain = mediaSections(sdp)
    .filter((s) => s.port !== 0 && /RTP/i.test(s.proto))
    .filter((s) => !(/^RTP\/SAVPF?$/i.test(s.proto) && s.sdes));
  if (plain.length === 0) return { ok: true, anchored: through };
  const what = plain.map((s) => `${s.media} ${s.proto}`).join(', ');
  if (from.srtp === 'required') {
    return { ok: false, status: 488, reason: `SRTP (SDES) required on tenant ${from.name}: the ${part} has ${what}` };
  }
  return { ok: false, status: 488, reason: `SRTP (SDES) required towards tenant ${to.name}, and media flows around the gateway: the ${part} has ${what}` };
}

/**
 * rtpengine's `received-from` for an SDP body: the address the SIP message carrying it came from. rtpengine uses it
 * in place of the SDP's addresses only under `SIP source address` (or its --sip-source switch), which the gateway
 * never sends, so a PBX may still name a separate media server; what the SDP may name is checked by sdp-address.ts.
 * Nothing when the source is not an address.
 * https://github.com/sipwise/rtpengine/blob/master/docs/ng_control_protocol.md
 */
export function receivedFrom(source: string | undefined): Record<string, unknown> {
  const family = source === undefined ? 0 : isIP(source);
  return family === 0 ? {} : { 'received-from': [family === 4 ? 'IP4' : 'IP6', source] };
}
