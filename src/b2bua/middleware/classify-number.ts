import { decidingCategory, dialableKind, normalizeNumber, orderCategories } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { sipReason } from '../reason.js';
import { relayedFlowOf } from '../register-relay.js';
import { addressUser, calledUser } from '../../policy/uri-user.js';

export { calledUser };

/** The Reason of a call to a number that cannot be dialled (RFC 3326). */
export const BAD_NUMBER_REASON = sipReason(484, 'Called number not dialable: digits with an optional leading +, or a feature code of *, # and digits');

/**
 * Step: the called number (the Request-URI user, normalised) and its permission category, if any. A call to a
 * registration trunk's contact has the contact user in its Request-URI (the registrar put the binding there): its
 * number is the To user, the number the carrier's caller dialled.
 *
 * A number must be dialable (policy/dialable-number.ts): digits with an optional leading `+`, or a feature code of
 * `*`, `#` and digits, whose carried numbers are classified too, so `*67` before a 900 number is a 900 call. Anything
 * else (`1900p5551234`, `19005551234#`, `19005551234;foo`, a name, no user at all) is in no category, and a number in
 * no category is allowed: it would reach the carrier unchecked, read there as the number it decorates. So it is
 * refused: 484 Address Incomplete (RFC 3261 §21.4.22: the Request-URI names no number the gateway can dial) with a
 * Reason, counted in `badNumber`, CDR cause `bad-number`. The one exception is a call to a phone registered through
 * the gateway (register-relay.ts verified its flow token): its Request-URI is the Contact the phone registered, whose
 * user may be a name (`alice`); it goes to that phone only (middleware/relayed-binding.ts), never to a dial peer.
 */
export function classifyNumber(deps: PipelineDeps): Middleware {
  const categories = orderCategories(deps.policy.categories);
  return (req, res, next) => {
    const locals = localsOf(req);
    const user = locals.tenantSource === 'registration' ? addressUser(req.get('To')) ?? calledUser(req.uri) : calledUser(req.uri);
    const number = normalizeNumber(user ?? '');
    locals.calledNumber = number;
    if (relayedFlowOf(req) === undefined && dialableKind(number) === undefined) {
      deps.stats.badNumber++;
      refusalLine(deps, req, 'info', 'ERR_B2BUA_NUMBER_INVALID', { calledNumber: number.slice(0, 64) }, 'b2bua: called number not dialable, 484');
      refuseCall(deps.clock, deps.stats.calls, req, res, 484, BAD_NUMBER_REASON, 'bad-number');
      return;
    }
    const c = number === '' ? undefined : decidingCategory(number, categories, locals.permissions ?? {});
    if (c !== undefined) locals.category = c;
    next();
  };
}
