import { checkPermission as check } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { sipReason } from '../reason.js';

/**
 * Step: a number in a category the caller may not dial gets 403 with a Reason naming the rule (RFC 3326): the
 * category, the permission that was missing, the tenant, and the TLS peer whose permissions applied.
 */
export function checkPermission(deps: PipelineDeps): Middleware {
  return (req, res, next) => {
    const locals = localsOf(req);
    const d = check(locals.category, locals.permissions ?? {});
    if (!d.ok) {
      deps.stats.denied(d.category);
      refusalLine(deps, req, 'info', 'ERR_B2BUA_DENIED', { calledNumber: locals.calledNumber, category: d.category, tlsPeer: locals.tlsPeer }, `b2bua: ${d.reason}`);
      const rule = `category ${d.category}: permission ${d.category} denied to tenant ${locals.tenantIn ?? '-'}`
        + (locals.tlsPeer !== undefined ? `, TLS peer ${locals.tlsPeer}` : '');
      refuseCall(deps.clock, deps.stats.calls, req, res, d.status, sipReason(d.status, `${d.reason} (${rule})`), `denied:${d.category}`);
      return;
    }
    next();
  };
}
