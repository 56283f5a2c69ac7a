import { DEFAULT_RETRY_AFTER_SECONDS } from '../../common/index.js';
import { refuseCall } from '../cdr.js';
import type { B2buaLogCode } from '../errors.js';
import { refusalLine, type CallLocals, type PipelineDeps, type PipelineRequest, type PipelineResponse } from '../pipeline-types.js';
import { sipReason } from '../reason.js';

/** The CDR cause of a call refused at a call limit or over a call rate. */
export type BusyCause = 'call-limit' | 'call-rate';

/** The refusal counters of pipeline-stats.ts a busy refusal adds to. */
type BusyCounter = 'refusedAtTenantLimit' | 'refusedAtTargetLimit' | 'refusedOverTenantRate' | 'refusedOverTargetRate' | 'skippedAtLimit'
  | 'skippedOverRate';

/** A refusal of the B-leg loop at a call limit or over a call rate: the status, its Reason and headers, and the CDR cause. */
export interface BusyFailure {
  status: 503;
  reasonHeader: string;
  headers: Record<string, string>;
  cause: BusyCause;
}

/** Whether `f` is a refusal at a call limit or over a call rate. */
export const isBusy = <F extends { cause: string }>(f: F): f is F & BusyFailure => f.cause === 'call-limit' || f.cause === 'call-rate';

/** The Retry-After of a 503 at a call limit or over a call rate. */
export const retryAfter = (deps: PipelineDeps): Record<string, string> => ({ 'Retry-After': String(deps.policy.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) });

/** The B-leg loop's failure for `cause`: 503 with Reason `text` and Retry-After. */
export function busyFailure(deps: PipelineDeps, text: string, cause: BusyCause): BusyFailure {
  return { status: 503, reasonHeader: sipReason(503, text), headers: retryAfter(deps), cause };
}

/** What a busy refusal counts and logs: the counter, the log code, its fields and line. */
export interface BusyLine {
  counter: BusyCounter;
  code: B2buaLogCode;
  fields: Record<string, unknown>;
  msg: string;
}

/** Counts a refusal and writes its rate-limited warn line. */
export function countRefusal(deps: PipelineDeps, req: PipelineRequest, line: BusyLine): void {
  deps.stats[line.counter]++;
  refusalLine(deps, req, 'warn', line.code, line.fields, line.msg);
}

/** Refuses the call before any B leg: counted, logged, 503 with Reason `text` and Retry-After, CDR cause `cause`. */
export function refuseBusy(deps: PipelineDeps, req: PipelineRequest, res: PipelineResponse, line: BusyLine, text: string, cause: BusyCause): void {
  countRefusal(deps, req, line);
  refuseCall(deps.clock, deps.stats.calls, req, res, 503, sipReason(503, text), cause, retryAfter(deps));
}

/** Counts a target passed over and writes its info line, rate-limited per dial peer when the deps limit lines. */
export function passOver(deps: PipelineDeps, locals: CallLocals, dialPeer: string, line: BusyLine): void {
  deps.stats[line.counter]++;
  if (deps.refusals) deps.refusals.line('info', line.code, line.fields, line.msg, `dial-peer:${dialPeer}`);
  else locals.log.info({ code: line.code, ...line.fields }, line.msg);
}
