import type { RateLimitedLog } from '../log/index.js';
import { MediaError } from './errors.js';
import type { MediaStats } from './media-stats.js';
import type { NgCommand, NgReply, NgSendFailed } from './ng-transport.js';

/** What one ng request of the pool came to: the reply (with its SDP), or the error and whether another instance may take it. */
export type NgOutcome = { ok: true; sdp: string; reply: NgReply } | { ok: false; retry: boolean; error: MediaError };

/** Where a request went and how its failures are told (RtpenginePool's counters and rate-limited lines). */
export interface OutcomeContext {
  instance: string;
  command: Exclude<NgCommand, 'ping'>;
  failures: MediaStats['failures'];
  limited: RateLimitedLog;
  /** A refusal is counted but not logged (a delete or query of a session rtpengine no longer has). */
  quietRefusal: boolean;
}

/**
 * A request the socket would not send (an SDP too large for one datagram, no buffer space): the instance never saw
 * it, so only this request fails; the instance is not marked down and nothing fails over to the next one.
 */
export function notSent(c: OutcomeContext, cause: NgSendFailed): NgOutcome {
  c.failures.send++;
  c.limited.line('warn', 'ERR_MEDIA_SEND_FAILED', { instance: c.instance, command: c.command, why: cause.code },
    `media: ${c.command} to rtpengine ${c.instance} could not be sent (${cause.code ?? 'socket error'})`, c.instance);
  return { ok: false, retry: false, error: new MediaError('ERR_MEDIA_SEND_FAILED', `${c.command} to rtpengine ${c.instance} could not be sent`, { cause }) };
}

/** A request that went out and got no answer in time: the caller marks the instance down; another one may take it. */
export function unanswered(c: OutcomeContext, cause: unknown): NgOutcome {
  c.failures.timeout++;
  c.limited.line('warn', 'ERR_MEDIA_TIMEOUT', { instance: c.instance, command: c.command }, `media: rtpengine ${c.instance} did not answer ${c.command}`, c.instance);
  return { ok: false, retry: true, error: new MediaError('ERR_MEDIA_TIMEOUT', `rtpengine ${c.instance} did not answer ${c.command}`, { cause }) };
}

/** What an answered request came to, by its reply: counted and logged as RtpenginePool describes. */
export function replyOutcome(c: OutcomeContext, reply: NgReply): NgOutcome {
  const { instance, command } = c;
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    // A datagram with a pending request's cookie and no dictionary after it (empty, a number, a list).
    c.failures.refused++;
    c.limited.line('warn', 'ERR_MEDIA_REPLY', { instance, command }, `media: rtpengine ${instance} answered ${command} with no dictionary`, instance);
    return { ok: false, retry: true, error: new MediaError('ERR_MEDIA_REPLY', `rtpengine ${instance} answered ${command} with no dictionary`) };
  }
  if (reply.result === 'ok' && (command === 'delete' || command === 'query' || typeof reply.sdp === 'string')) {
    return { ok: true, sdp: typeof reply.sdp === 'string' ? reply.sdp : '', reply };
  }
  if (reply.result === 'load limit') {
    c.failures.refused++;
    // An instance at its limit (ng `supports: load limit`) takes no new call; the next one may.
    return { ok: false, retry: true, error: new MediaError('ERR_MEDIA_REFUSED', `rtpengine ${instance} is at its load limit`) };
  }
  const why = typeof reply['error-reason'] === 'string' ? reply['error-reason'] : 'no SDP in the reply';
  c.failures.refused++;
  if (!c.quietRefusal) {
    c.limited.line('warn', 'ERR_MEDIA_REFUSED', { instance, command, why }, `media: rtpengine ${instance} refused ${command}: ${why}`, instance);
  }
  return { ok: false, retry: false, error: new MediaError('ERR_MEDIA_REFUSED', `rtpengine refused ${command}: ${why}`) };
}
