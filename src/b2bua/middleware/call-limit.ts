import type { BLegTarget } from '../b-leg-target.js';
import type { B2buaLogCode } from '../errors.js';
import { CallHold, isAtLimit, type AtLimit, type CallLimits, type CallSlot } from '../call-limits.js';
import { localsOf, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest } from '../pipeline-types.js';
import { busyFailure, countRefusal, passOver, refuseBusy, type BusyFailure } from './busy-refusal.js';

const CODE: B2buaLogCode = 'ERR_B2BUA_CALL_LIMIT';

const calls = (n: number): string => `${n} call${n === 1 ? '' : 's'}`;

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
    refuseBusy(deps, req, res, {
      counter: 'refusedAtTenantLimit', code: CODE, fields: limitFields(at), msg: `b2bua: tenant ${tenant} at its call limit (${calls(at.max)}): 503`,
    }, `Tenant ${tenant} at its call limit (${calls(at.max)})`, 'call-limit');
  };
}

function limitFields(at: AtLimit): Record<string, unknown> {
  return { [at.scope]: at.name, maxCalls: at.max, appShare: at.share, held: at.held };
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
    passOver(this.deps, this.locals, target.dialPeer, {
      counter: 'skippedAtLimit', code: CODE, fields: { dialPeer: target.dialPeer, tenantOut: target.tenant, ...limitFields(r), callId: this.locals.callId },
      msg: `b2bua: dial peer ${target.dialPeer} passed over: ${r.scope === 'tenant' ? `tenant ${r.name}` : 'it'} at its call limit (${calls(r.max)})`,
    });
    return false;
  }

  /** The call's failure when every target so far was passed over for its limit. */
  failure(): BusyFailure {
    const f = this.#first!;
    const text = f.at.scope === 'tenant'
      ? `Dial peer ${f.target.dialPeer}: tenant ${f.at.name} at its call limit (${calls(f.at.max)})`
      : `Dial peer ${f.target.dialPeer} at its call limit (${calls(f.at.max)})`;
    return busyFailure(this.deps, text, 'call-limit');
  }

  /** The call is refused because every target was passed over: counted, and one rate-limited line. */
  refused(req: PipelineRequest): void {
    const f = this.#first!;
    countRefusal(this.deps, req, {
      counter: 'refusedAtTargetLimit', code: CODE, fields: { dialPeer: f.target.dialPeer, ...limitFields(f.at) },
      msg: `b2bua: every target at its call limit (first: dial peer ${f.target.dialPeer}): 503`,
    });
  }
}
