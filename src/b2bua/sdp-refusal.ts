import type { MediaRefusal } from '../media/index.js';
import { sipReason } from './reason.js';

/** What a media refusal is about: the CDR cause of a call it ends, and the `policy` of an in-dialog refusal's line. */
export type SdpRefusalCause = 'srtp' | 'media-unavailable' | 'media-address' | 'sdp-size';

/** The code of the line that says a body was refused, by what it broke. */
export type SdpRefusalCode = 'ERR_B2BUA_SRTP_REFUSED' | 'ERR_MEDIA_REFUSED' | 'ERR_MEDIA_ADDRESS_REFUSED' | 'ERR_MEDIA_SDP_TOO_LARGE';

/** Thrown from localSdpA inside createB2BUA when the B side's answer cannot go to the caller. */
const ANSWER_REFUSED = Symbol('answer refused');
export interface AnswerRefused extends Error {
  [ANSWER_REFUSED]: true;
  status: number;
  reasonHeader: string;
  cause: SdpRefusalCause;
  /** The code of the line that says so. */
  code: SdpRefusalCode;
}

export function answerRefused(err: unknown): err is AnswerRefused {
  return typeof err === 'object' && err !== null && ANSWER_REFUSED in err;
}

function codeOf(cause: SdpRefusalCause): SdpRefusalCode {
  switch (cause) {
    case 'srtp': return 'ERR_B2BUA_SRTP_REFUSED';
    case 'media-address': return 'ERR_MEDIA_ADDRESS_REFUSED';
    case 'sdp-size': return 'ERR_MEDIA_SDP_TOO_LARGE';
    default: return 'ERR_MEDIA_REFUSED';
  }
}

export function refusal(status: 488 | 503, reason: string, reasonHeader: string, cause: SdpRefusalCause = status === 488 ? 'srtp' : 'media-unavailable'): AnswerRefused {
  return Object.assign(new Error(reason), { [ANSWER_REFUSED]: true as const, status, reasonHeader, cause, code: codeOf(cause) });
}

/** A called side's answer (or late offer, or the caller's answer to it in the ACK) that breaks a media policy. */
export const policyRefused = (r: MediaRefusal): AnswerRefused => refusal(488, r.reason, sipReason(488, r.reason), r.cause);

/** The answer of an attempt given up while the B leg's answer or late offer was on its way: nobody hears it (b-leg-attempt.ts). */
export const givenUp = (): AnswerRefused => refusal(503, 'The call attempt was given up', sipReason(503, 'The call attempt was given up'));

/**
 * What refused an offer before any B leg was placed: 488 (no SRTP both sides allow, a media address, an SDP too large
 * for the media relay) or 503 (no media relay), with the code of the line the pipeline writes about it, once per
 * source a window (call-sdp itself logs nothing).
 */
export interface OfferRefusal {
  status: 488 | 503;
  reason: string;
  reasonHeader: string;
  cause: SdpRefusalCause;
  code: SdpRefusalCode | 'ERR_MEDIA_UNAVAILABLE';
  /** What rtpengine's failure said (its code and message: never SDP or keys). */
  detail?: { mediaCode?: string; err: string };
}

export const unavailable = (): OfferRefusal => ({
  status: 503, reason: 'No media relay available', reasonHeader: sipReason(503, 'No media relay available'), cause: 'media-unavailable', code: 'ERR_MEDIA_UNAVAILABLE',
});
export const srtpRefusal = (reason: string, reasonHeader: string): OfferRefusal => ({ status: 488, reason, reasonHeader, cause: 'srtp', code: 'ERR_B2BUA_SRTP_REFUSED' });
export const offerRefusal = (r: MediaRefusal): OfferRefusal => ({
  status: 488, reason: r.reason, reasonHeader: sipReason(488, r.reason), cause: r.cause, code: codeOf(r.cause),
});
