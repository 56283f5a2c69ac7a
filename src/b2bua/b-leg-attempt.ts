import type { Clock } from '../common/index.js';
import type { PipelineRequest, PipelineResponse } from './pipeline-types.js';
import type { PassLeg } from './pass-through.js';
import { sipReason } from './reason.js';
import { OutgoingInvite } from './outgoing-invite.js';
import { sendableStatus } from './sendable-status.js';

/** Texts for the failures createB2BUA answers the caller with by itself. */
const OWN_FAILURES: Record<number, string> = {
  487: 'Request terminated: the caller cancelled',
  500: 'The called side\'s answer could not be passed on',
};

/** The Reason createB2BUA's own failure of the A leg gets (487 after the caller's CANCEL, 500), if it is one. */
export function ownFailureReason(status: number): string | undefined {
  const text = OWN_FAILURES[status];
  return text === undefined ? undefined : sipReason(status, text);
}

/** What place-call needs from drachtio-srf. */
export interface PlaceCallSrf {
  createB2BUA(req: PipelineRequest, res: PipelineResponse, uri: string, opts: Record<string, unknown>,
    callbacks: { cbRequest(err: unknown, uacReq?: unknown): void }): Promise<{ uas: PassLeg; uac: PassLeg }>;
}

/** What an abandoned attempt's 200 fails with: createB2BUA then releases the B leg that answered it (BYE). */
export class AttemptAbandoned extends Error {
  constructor() {
    super('the attempt was given up before the B leg answered');
    this.name = 'AttemptAbandoned';
  }
}

/**
 * The A-leg response as createB2BUA sees it during one attempt: a 500 it sends because the B-leg INVITE
 * could not be sent at all (no connection to the trunk) is held back, so the next dial peer can be tried; once
 * the attempt is abandoned (no answer in time, the call cleared) nothing of it reaches the caller, and a final
 * response it sends with a callback (createUAS's 200 for a B leg that answered after all) fails through that
 * callback, so createB2BUA releases the B leg and settles. Everything else reaches the real response, a status
 * drachtio-srf does not know (a B leg's 607, 184) as its class (sendable-status.ts); `onAnswered` learns of a 2xx
 * that does.
 */
export function guardSendFailure(res: PipelineResponse, requestSent: () => boolean, abandoned: () => boolean = () => false,
  onAnswered?: () => void): PipelineResponse {
  return new Proxy(res, {
    get(target, prop, receiver) {
      if (prop === 'send') {
        return (status: number, ...rest: unknown[]) => {
          if (abandoned()) {
            // drachtio-srf's send(status, [reason], [opts], [callback], [fnPrack]): the callback is its first function.
            const callback = rest.find((a): a is (err: unknown) => void => typeof a === 'function');
            if (status >= 200) callback?.(new AttemptAbandoned());
            return;
          }
          if (status === 500 && !requestSent() && !target.finalResponseSent) return;
          if (status >= 200 && status < 300) onAnswered?.();
          // createB2BUA's own failures (487 after a CANCEL, 500 for an answer it could not use) get a Reason too.
          const opts = rest[1] as { headers?: Record<string, string> } | undefined;
          if (status >= 300 && OWN_FAILURES[status] !== undefined && !Object.keys(opts?.headers ?? {}).some((h) => h.toLowerCase() === 'reason')) {
            rest[1] = { ...opts, headers: { ...opts?.headers, Reason: ownFailureReason(status)! } };
          }
          return (target.send as (...a: unknown[]) => void).call(receiver, sendableStatus(status), ...rest);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

export type AttemptResult =
  | { ok: true; legs: { uas: PassLeg; uac: PassLeg } }
  | { ok: false; err: unknown; noAnswer?: false; cleared?: false }
  | { ok: false; noAnswer: true; cleared?: false }
  | { ok: false; cleared: true; noAnswer?: false };

export interface AttemptOptions {
  srf: PlaceCallSrf;
  req: PipelineRequest;
  res: PipelineResponse;
  uri: string;
  opts: Record<string, unknown>;
  clock: Clock;
  /** Give up when no final response came within this long: CANCEL the B leg and report `noAnswer`. */
  noAnswerMs?: number;
  /**
   * Receives the attempt's own way to give up now (the call was cleared, the caller cancelled): CANCEL the B leg (as
   * soon as its INVITE is sent) and report `cleared`; and whether drachtio-srf has reported the INVITE sent.
   */
  onStart?: (giveUp: () => void, sent: () => boolean) => void;
}

/**
 * One B-leg INVITE through createB2BUA. With a no-answer timeout, the attempt is cancelled when it fires and
 * the caller moves on at once (a dead target would otherwise hold the call for the 32 s of Timer B); anything
 * the abandoned attempt still does is kept from the A leg, and a late answer is released.
 */
export function attemptBLeg(o: AttemptOptions): Promise<AttemptResult> {
  const invite = new OutgoingInvite();
  let abandoned = false;
  let answered = false;
  const p = o.srf.createB2BUA(o.req, guardSendFailure(o.res, () => invite.sent, () => abandoned, () => {
    answered = true;
  }), o.uri, o.opts, { cbRequest: invite.onSent });
  return new Promise<AttemptResult>((resolve) => {
    let done = false;
    const abandon = (result: AttemptResult): void => {
      if (done) return;
      if (answered) {
        // The caller has had its 200: the B leg answered in time and createB2BUA waits only for the caller's ACK. No
        // CANCEL can undo an answered INVITE, and releasing both legs here ended an answered call with BYEs without
        // Reason and a no-answer CDR. The attempt settles as answered; a clear that came meanwhile ends the connected
        // call with its cause and Reason (middleware/place-call.ts), a no-answer timer has nothing left to time.
        timer?.cancel();
        return;
      }
      done = true;
      abandoned = true;
      timer?.cancel();
      invite.cancel();
      resolve(result);
    };
    const timer = o.noAnswerMs !== undefined ? o.clock.setTimeout(() => abandon({ ok: false, noAnswer: true }), o.noAnswerMs) : undefined;
    o.onStart?.(() => abandon({ ok: false, cleared: true }), () => invite.sent);
    p.then((legs) => {
      if (!done) {
        done = true;
        timer?.cancel();
        resolve({ ok: true, legs });
        return;
      }
      // Answered just as we gave up, the caller's 200 held back (guardSendFailure failed it, so createB2BUA released
      // the B leg itself); should it resolve anyway, both legs are released.
      const bye = { headers: { Reason: sipReason(487, 'The call attempt was given up before it was answered') } };
      legs.uac.destroy(bye, () => undefined);
      legs.uas.destroy(bye, () => undefined);
    }, (err: unknown) => {
      if (done) return;
      done = true;
      timer?.cancel();
      resolve({ ok: false, err });
    });
  });
}
