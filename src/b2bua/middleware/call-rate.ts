import type { BLegTarget } from '../b-leg-target.js';
import type { B2buaLogCode } from '../errors.js';
import type { CallRates, OverRate } from '../call-rates.js';
import { localsOf, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest } from '../pipeline-types.js';
import { busyFailure, countRefusal, passOver, refuseBusy, type BusyFailure } from './busy-refusal.js';

const CODE: B2buaLogCode = 'ERR_B2BUA_CALL_RATE';

const perSecond = (r: number): string => `${r} call${r === 1 ? '' : 's'} a second`;

function rateFields(at: OverRate): Record<string, unknown> {
  return { [at.scope]: at.name, maxCallsPerSecond: at.perSecond, callBurst: at.burst, appShare: at.sharePerSecond, appBurst: at.shareBurst };
}

/**
 * Step, once the calling tenant is known and before its call-limit slot is taken: the call takes a token from that
 * tenant's bucket (call-rates.ts). A tenant whose bucket is empty gets this call refused: 503 with Retry-After and a
 * Reason naming the tenant and its rate, CDR cause `call-rate`; the call holds no slot. Without `deps.rates`, or for
 * a tenant with no maxCallsPerSecond, nothing is counted.
 */
export function admitRate(deps: PipelineDeps): Middleware {
  return (req, res, next) => {
    const rates = deps.rates;
    const tenant = rates ? localsOf(req).tenantIn! : '';
    if (!rates || rates.take('tenant', tenant)) {
      next();
      return;
    }
    const at = rates.rateOf('tenant', tenant)!;
    refuseBusy(deps, req, res, {
      counter: 'refusedOverTenantRate', code: CODE, fields: rateFields(at), msg: `b2bua: tenant ${tenant} over its call rate (${perSecond(at.perSecond)}): 503`,
    }, `Tenant ${tenant} over its call rate (${perSecond(at.perSecond)})`, 'call-rate');
  };
}

/**
 * One call's B-leg rates: a target whose dial peer's bucket is empty is passed over like one at its call limit
 * (counted in `skippedOverRate`, one rate-limited line per dial peer), before any slot is taken for it. The token is
 * taken only when the INVITE is sent (`spend`), so a target passed over later, or whose offer was refused, costs
 * none. The first one passed over names the refusal when every target was.
 */
export class LegRates {
  #first: { target: BLegTarget; at: OverRate } | undefined;

  constructor(private readonly deps: PipelineDeps, private readonly rates: CallRates, private readonly locals: CallLocals) {}

  /** Whether `target`'s dial peer has a token for it (none is taken). */
  allows(target: BLegTarget): boolean {
    if (this.rates.allows('dialPeer', target.dialPeer)) return true;
    const at = this.rates.rateOf('dialPeer', target.dialPeer)!;
    this.#first ??= { target, at };
    passOver(this.deps, this.locals, target.dialPeer, {
      counter: 'skippedOverRate', code: CODE, fields: { tenantOut: target.tenant, ...rateFields(at), callId: this.locals.callId },
      msg: `b2bua: dial peer ${target.dialPeer} passed over: over its call rate (${perSecond(at.perSecond)})`,
    });
    return false;
  }

  /** The attempt on `target` is made: its dial peer's token is taken. */
  spend(target: BLegTarget): void {
    this.rates.spend('dialPeer', target.dialPeer);
  }

  /** The call's failure when the first target passed over was over its rate. */
  failure(): BusyFailure {
    const f = this.#first!;
    return busyFailure(this.deps, `Dial peer ${f.target.dialPeer} over its call rate (${perSecond(f.at.perSecond)})`, 'call-rate');
  }

  /** The call is refused because every target was passed over, the first for its rate: counted, and one rate-limited line. */
  refused(req: PipelineRequest): void {
    const f = this.#first!;
    countRefusal(this.deps, req, {
      counter: 'refusedOverTargetRate', code: CODE, fields: rateFields(f.at),
      msg: `b2bua: every target passed over (first: dial peer ${f.target.dialPeer}, over its call rate): 503`,
    });
  }
}
