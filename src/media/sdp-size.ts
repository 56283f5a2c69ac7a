import { mediaSections } from './sdp-media.js';

/**
 * How large an SDP body an anchored call may hand rtpengine. Each offer and answer goes to rtpengine in one ng
 * request over UDP, and its SDP comes back in one reply: a datagram holds at most 65,507 bytes, and rtpengine's
 * reply adds to every active section (up to twelve SDES keys, its RTCP port), so a body that nearly fills a SIP
 * message could not be sent at all. One such body must fail its own call, never the relay (rtpengine-pool.ts counts
 * a request the socket would not send apart from one that went unanswered). Trunk SDP is a few kilobytes with one
 * to three media sections; these bounds leave room for video and for what rtpengine writes.
 */
export const MAX_ANCHORED_SDP_BYTES = 16_384;

/** The media sections an anchored call's SDP may have: each takes ports on rtpengine and grows its reply. */
export const MAX_ANCHORED_SECTIONS = 16;

/** Why an SDP body is too large to go through rtpengine, or undefined when it fits. */
export function sdpTooLarge(sdp: string, part: 'offer' | 'answer'): string | undefined {
  const bytes = Buffer.byteLength(sdp);
  if (bytes > MAX_ANCHORED_SDP_BYTES) return `The ${part} is too large for the media relay: ${bytes} bytes of SDP, at most ${MAX_ANCHORED_SDP_BYTES}`;
  const sections = mediaSections(sdp).length;
  if (sections > MAX_ANCHORED_SECTIONS) return `The ${part} has too many media sections for the media relay: ${sections}, at most ${MAX_ANCHORED_SECTIONS}`;
  return undefined;
}
