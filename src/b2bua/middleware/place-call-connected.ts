import type { ActiveCalls } from '../active-calls.js';
import { legCallIds } from '../active-calls.js';
import type { BLegTarget } from '../b-leg-target.js';
import { afterMedia, type CallSdp } from '../call-sdp.js';
import { writeCdr } from '../cdr.js';
import { runConnectedCall } from '../connected-call.js';
import { watchMedia } from '../media-watch.js';
import type { PassLeg } from '../pass-through.js';
import { parsePeerHeader } from '../peer-header.js';
import { localsOf, type PipelineDeps, type PipelineRequest } from '../pipeline-types.js';
import { PEER_HEADER } from '../policy-types.js';
import { sipReason } from '../reason.js';
import type { UasSessionDecision } from '../session-timer-terms.js';
import type { NoLegs } from './call-failed.js';
import type { Setup } from './ringing-call.js';

/** The attempt that was answered, as place-call.ts ends its failover with it. */
export interface Answered {
  legs: { uas: PassLeg; uac: PassLeg };
  used: BLegTarget;
  media: CallSdp | undefined;
  attempts: number;
  /** What the CDR names of the answered attempt. */
  out: NoLegs['out'];
  setup: Setup | undefined;
  aSession?: Extract<UasSessionDecision, { ok: true }>;
  /** The session interval the B leg was asked again with after its 422 (RFC 4028 §7.4). */
  bSessionAsked?: number;
}

/**
 * The call connected: its legs supervised until either ends (connected-call.ts), the call listed, its CDR written
 * as it ends (after rtpengine's figures, when anchored).
 */
export function connectAnswered(deps: PipelineDeps & { active?: ActiveCalls }, req: PipelineRequest, a: Answered): void {
  const { policy, stats, clock } = deps;
  const locals = localsOf(req);
  const { legs, used, media, attempts, out, setup } = a;
  const answerAt = clock.now();
  const tenantIn = policy.tenants[locals.tenantIn!]!;
  const tenantOut = policy.tenants[used.tenant]!;
  const bPeer = used.transport === 'tls' ? parsePeerHeader(legs.uac.res?.get(PEER_HEADER)) : undefined;
  const tlsOut = bPeer?.transport === 'tls'
    ? { ...(bPeer.tlsVersion !== undefined ? { version: bPeer.tlsVersion } : {}), ...(bPeer.cipher !== undefined ? { cipher: bPeer.cipher } : {}), identities: bPeer.verified ? bPeer.identities : [] }
    : undefined;
  const control = runConnectedCall({
    legs, log: locals.log, stats: stats.calls, clock, callId: locals.callId, limits: policy.calls, aInvite: req, refusals: deps.refusals,
    sources: { A: locals.sourceAddress ?? req.source_address, B: `dial-peer:${used.dialPeer}` },
    aSuites: tenantIn.srtpCrypto, bSuites: tenantOut.srtpCrypto, active: deps.active, media: media?.inDialog, listedAs: setup?.id,
    facts: {
      callIds: legCallIds(locals.callId, legs.uac), tenantIn: locals.tenantIn ?? null, tenantOut: used.tenant, dialPeer: used.dialPeer, callingNumber: locals.callingNumber ?? null,
      calledNumber: locals.calledNumber ?? null, startAt: locals.startedAt, answerAt,
    },
    ...(a.aSession ? { aSession: a.aSession } : {}),
    ...(a.bSessionAsked !== undefined ? { bSessionAsked: a.bSessionAsked } : {}),
    // The call's slots go back as it ends, before rtpengine's figures for its CDR come.
    onEnded: (end) => {
      locals.callSlots?.release();
      afterMedia(media, (m) => writeCdr(locals, {
        status: 200, cause: end.cause, attempts, answerAt, endAt: clock.now(), ...out, ...(end.releasedBy ? { releasedBy: end.releasedBy } : {}),
        ...(end.reason ? { reason: end.reason } : {}), ...(end.byeFailed > 0 ? { byeFailed: end.byeFailed } : {}),
        ...(end.reasonA !== undefined ? { reasonIn: end.reasonA } : {}), ...(end.reasonB !== undefined ? { reasonOut: end.reasonB } : {}),
        ...(tlsOut ? { tlsOut } : {}), ...(m ? { media: m } : {}),
      }));
    },
  });
  // Cleared after the caller had its 200 (b-leg-attempt.ts then settles the attempt as answered): a connected call
  // ended at once, BYEs with the clear's Reason and a CDR with its answer.
  if (setup?.cleared && !control.ended) {
    const c = setup.cleared;
    control.end(c.cause, c.reasonHeader ?? sipReason(c.status, `Call cleared: ${c.cause}`));
  }
  const rtpTimeoutMs = policy.media?.rtpTimeoutMs;
  if (media?.session && rtpTimeoutMs && !control.ended) {
    control.onEnd(watchMedia(media.session, clock, rtpTimeoutMs, (s) => control.end('media-timeout', sipReason(408, `No media for ${s} s`))));
  }
}
