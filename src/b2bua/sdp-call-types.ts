import type { MediaTotals, RtpenginePool } from '../media/index.js';
import type { TenantPolicy } from './policy-types.js';
import type { OfferRefusal } from './sdp-refusal.js';

/** The SDP of one B-leg attempt: what createB2BUA is given, and the media session to end with the attempt or the call. */
export interface CallSdp {
  ok: true;
  /** `localSdpB` (when the offer changed) and `localSdpA` for createB2BUA. */
  opts: {
    /** The offer to the B leg; a function for a late offer: the caller's ACK SDP in, the B leg's ACK SDP out. */
    localSdpB?: string | ((ackSdp: string | undefined) => Promise<string | undefined>);
    localSdpA: (sdpB: string | undefined, res?: { get?(name: string): string | undefined }) => string | undefined | Promise<string | undefined>;
  };
  /** True when the media is anchored on rtpengine. */
  anchored: boolean;
  /** Anchored calls: later offers and answers in the dialog (re-INVITE, UPDATE) go through the same session. */
  inDialog?: InDialogMedia;
  /** Anchored calls: rtpengine's session, for the media-timeout watch (media-watch.ts). */
  session?: { query(): Promise<Record<string, unknown> | undefined> };
  /** Deletes the rtpengine session (once); resolves with its per-leg figures, or undefined when not anchored. */
  end(): Promise<MediaTotals | undefined>;
}

/**
 * A re-INVITE's or UPDATE's SDP in an anchored call, on its way through rtpengine: `offer` from leg `from` to the
 * other leg, `answer` from the other leg back to `from`. Each resolves with the SDP to send on; a failure rejects,
 * with an AnswerRefused (488) when the body breaks the call's media policy, before rtpengine sees it.
 */
export interface InDialogMedia {
  offer(from: 'A' | 'B', sdp: string): Promise<string>;
  answer(from: 'A' | 'B', sdp: string): Promise<string>;
  /** The call's media flows around the gateway: offer and answer only check the SDP and hand it back as it came. */
  flowAround?: true;
}

export interface CallSdpInput {
  body: string;
  callId: string;
  /** The A leg's From header: its tag is the offerer's tag towards rtpengine. */
  from: string;
  tenantIn: { name: string; policy: TenantPolicy };
  tenantOut: { name: string; policy: TenantPolicy };
  /** This app's rtpengine pool; absent when the gateway lists none (then no tenant can be flow-through). */
  pool?: RtpenginePool;
  /** No live rtpengine: refuse the call with 503 (default), or let its media flow around the gateway. */
  whenDown?: 'reject' | 'flow-around';
  /** The address the caller's INVITE came from: rtpengine's `received-from` for the caller's SDP. */
  source?: string | undefined;
  /**
   * Which B-leg attempt of the call this is (0 for the first): each attempt's rtpengine session has an identity of
   * its own (sdp-anchored.ts attemptCallId).
   */
  attempt?: number;
}

export type CallSdpResult = CallSdp | { ok: false; refusal: OfferRefusal };
