import { GatewayError } from '../common/index.js';

/** Stable codes of the media layer (rtpengine over its ng protocol); each log line is rate-limited per code. */
export type MediaErrorCode =
  /** No rtpengine instance is configured as live for a new call: the call gets 503 with a Reason. */
  | 'ERR_MEDIA_UNAVAILABLE'
  /** An instance did not answer an ng request within the timeout: marked down, a new call tries the next one. */
  | 'ERR_MEDIA_TIMEOUT'
  /** An instance answered an ng request with `result: error`: the request failed, the instance stays up. */
  | 'ERR_MEDIA_REFUSED'
  /** A health ping failed or was answered again: the instance's state changed. */
  | 'ERR_MEDIA_INSTANCE_DOWN'
  /** An ng reply that could not be decoded or matched no request (late after its timeout): dropped, unlogged content. */
  | 'ERR_MEDIA_REPLY'
  /** An instance may hold a session no call uses (a failed-over offer, an unanswered delete): its delete waits for it. */
  | 'ERR_MEDIA_ORPHAN'
  /**
   * An anchored call's SDP named a media address rtpengine must not send to (loopback, link-local, multicast,
   * broadcast, not an address, outside the tenant's media.allowedNetworks): 488 with a Reason (sdp-address.ts).
   */
  | 'ERR_MEDIA_ADDRESS_REFUSED'
  /** An ng request the socket would not send (EMSGSIZE, ...): that request fails, the instance stays up, no failover. */
  | 'ERR_MEDIA_SEND_FAILED'
  /**
   * An anchored call's offer or answer larger than one ng request can carry to rtpengine and back (sdp-size.ts):
   * 488 with a Reason, before rtpengine sees it.
   */
  | 'ERR_MEDIA_SDP_TOO_LARGE';

/** A failed ng request or a call that found no instance; `details` never holds SDP or keys. */
export class MediaError extends GatewayError<MediaErrorCode> {
  constructor(code: MediaErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'MediaError';
  }
}
