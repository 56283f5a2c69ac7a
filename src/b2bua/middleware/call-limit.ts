import type { BLegTarget } from '../b-leg-target.js';
import { refuseCall } from '../cdr.js';
import type { B2buaLogCode } from '../errors.js';
import { CallHold, isAtLimit, type AtLimit, type CallLimits, type CallSlot } from '../call-limits.js';
import { localsOf, refusalLine, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest } from '../pipeline-types.js';
import { sipReason } from '../reason.js';

/** Retry-After of a call-limit 503 when the policy names none (the gateway's default). */
const DEFAULT_RETRY_AFTER_S = 5;
const CODE: B2buaLogCode = 'ERR_B2BUA_CALL_LIMIT';

const calls = (n: number): string => `${n} call${n === 1 ? '' : 's'}`;
/** The Retry-After of a 503 at a call limit or over a call rate. */
export const retryAfter = (deps: PipelineDeps): Record<string, string> => ({ 'Retry-After': String(deps.policy.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_S) });

/**
 * Step, once the calling tenant is known: the call takes a slot on that tenant's count (call-limits.ts), held until
 * its CDR is written, however the call ends. A tenant that already holds its maxCalls calls (its share of them in
 * this app) gets this call refused: 503 with Retry-After and a Reason naming the tenant and its limit, CDR cause
 * `call-limit`. Without `deps.limits` nothing is counted.
 */
export function admitCall(deps: PipelineDeps): Middleware {
  return (req, res, next) => {
    const limits = deps.limits;
    if (!limits) {
      next();
      return;
    }
    const locals = localsOf(req);
    const tenant = locals.tenantIn!;
    const slot = limits.take('tenant', tenant);
    if (slot !== undefined) {
      const hold = new CallHold();
      hold.add(slot);
      locals.callSlots = hold;
      next();
      return;
    }
    const at = limits.limitOf('tenant', tenant)!;
    deps.stats.refusedAtTenantLimit++;
    refusalLine(deps, req, 'warn', CODE, limitFields(at), `b2bua: tenant ${tenant} at its call limit (${calls(at.max)}): 503`);
    refuseCall(deps.clock, deps.stats.calls, req, res, 503, sipReason(503, `Tenant ${tenant} at its call limit (${calls(at.max)})`), 'call-limit',
      retryAfter(deps));
  };
}

function limitFields(at: AtLimit): Record<string, unknown> {
  return { [at.scope]: at.name, maxCalls: at.max, appShare: at.share, held: at.held };
}

/** A refusal of the B-leg loop: the status, its Reason and headers, and the CDR cause. */
export interface LimitFailure {
  status: 503;
  reasonHeader: string;
  headers: Record<string, string>;
  cause: 'call-limit';
}

/**
 * One call's B-leg slots: before a target is attempted its dial peer and its tenant each take a slot, which the
 * call keeps once answered; the slots of an attempt that failed go back before the next target is tried. A target
 * whose dial peer or tenant is at its limit is passed over like a trunk found down (counted in `skippedAtLimit`,
 * one rate-limited line per dial peer). The first one passed over names the refusal when every target was.
 */
export class LegSlots {
  #attempt: CallSlot | undefined;
  #first: { target: BLegTarget; at: AtLimit } | undefined;

  constructor(private readonly deps: PipelineDeps, private readonly limits: CallLimits, private readonly locals: CallLocals) {
    locals.callSlots ??= new CallHold();
  }

  /** Gives back the last attempt's slots and takes `target`'s: true when it may be attempted. */
  take(target: BLegTarget): boolean {
    this.#attempt?.release();
    this.#attempt = undefined;
    const r = this.limits.takeLeg(target.dialPeer, target.tenant);
    if (!isAtLimit(r)) {
      this.#attempt = r;
      this.locals.callSlots!.add(r);
      return true;
    }
    this.#first ??= { target, at: r };
    this.deps.stats.skippedAtLimit++;
    const msg = `b2bua: dial peer ${target.dialPeer} passed over: ${r.scope === 'tenant' ? `tenant ${r.name}` : 'it'} at its call limit (${calls(r.max)})`;
    const fields = { dialPeer: target.dialPeer, tenantOut: target.tenant, ...limitFields(r), callId: this.locals.callId };
    if (this.deps.refusals) this.deps.refusals.line('info', CODE, fields, msg, `dial-peer:${target.dialPeer}`);
    else this.locals.log.info({ code: CODE, ...fields }, msg);
    return false;
  }

  /** The call's failure when every target so far was passed over for its limit. */
  failure(): LimitFailure {
    const f = this.#first!;
    const text = f.at.scope === 'tenant'
      ? `Dial peer ${f.target.dialPeer}: tenant ${f.at.name} at its call limit (${calls(f.at.max)})`
      : `Dial peer ${f.target.dialPeer} at its call limit (${calls(f.at.max)})`;
    return { status: 503, reasonHeader: sipReason(503, text), headers: retryAfter(this.deps), cause: 'call-limit' };
  }

  /** The call is refused because every target was passed over: counted, and one rate-limited line. */
  refused(req: PipelineRequest): void {
    const f = this.#first!;
    this.deps.stats.refusedAtTargetLimit++;
    refusalLine(this.deps, req, 'warn', CODE, { dialPeer: f.target.dialPeer, ...limitFields(f.at) },
      `b2bua: every target at its call limit (first: dial peer ${f.target.dialPeer}): 503`);
  }
}
