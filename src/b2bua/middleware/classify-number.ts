import { decidingCategory, normalizeNumber, orderCategories } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { sipReason } from '../reason.js';
import { relayedFlowOf } from '../register-relay.js';
import { addressUser, calledUser } from '../../policy/uri-user.js';

export { calledUser };

/** The Reason of a call whose Request-URI names no number nor user (RFC 3326). */
export const BAD_NUMBER_REASON = sipReason(484, 'No called number: the Request-URI has no user part');

/**
 * Step: the called number (the Request-URI user, normalised) and its permission category, if any. A call to a
 * registration trunk's contact has the contact user in its Request-URI (the registrar put the binding there): its
 * number is the To user, the number the carrier's caller dialled.
 *
 * The category is decided by every reading of the number a carrier may make (policy/dialable-number.ts): a feature
 * code's carried numbers (`*67` before a 900 number is a 900 call), and for a number that is not dialable as written
 * (`1900p5551234`, `19005551234#`, `19005551234;foo`, fullwidth digits) its digits alone; a denied category among them
 * refuses the call (check-permission.ts), so decoration cannot carry a number past a category that denies it. A name
 * (`alice`, URI dialling) is in no category and goes where a dial peer's pattern sends it. A Request-URI with no user
 * at all names nothing to dial: 484 Address Incomplete (RFC 3261 §21.4.22) with a Reason, counted in `badNumber`,
 * CDR cause `bad-number`.
 */
export function classifyNumber(deps: PipelineDeps): Middleware {
  const categories = orderCategories(deps.policy.categories);
  return (req, res, next) => {
    const locals = localsOf(req);
    const user = locals.tenantSource === 'registration' ? addressUser(req.get('To')) ?? calledUser(req.uri) : calledUser(req.uri);
    const number = normalizeNumber(user ?? '');
    locals.calledNumber = number;
    if (relayedFlowOf(req) === undefined && number === '') {
      deps.stats.badNumber++;
      refusalLine(deps, req, 'info', 'ERR_B2BUA_NUMBER_INVALID', { calledNumber: number.slice(0, 64) }, 'b2bua: no called number, 484');
      refuseCall(deps.clock, deps.stats.calls, req, res, 484, BAD_NUMBER_REASON, 'bad-number');
      return;
    }
    const c = number === '' ? undefined : decidingCategory(number, categories, locals.permissions ?? {});
    if (c !== undefined) locals.category = c;
    next();
  };
}
