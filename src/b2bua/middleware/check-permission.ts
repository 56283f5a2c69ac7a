import { checkPermission as check } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';

/** Step: a number in a category the caller may not dial gets 403 with a Reason naming the category (RFC 3326). */
export function checkPermission(deps: PipelineDeps): Middleware {
  return (req, res, next) => {
    const locals = localsOf(req);
    const d = check(locals.category, locals.permissions ?? {});
    if (!d.ok) {
      deps.stats.denied(d.category);
      locals.log.info({ calledNumber: locals.calledNumber, category: d.category, tlsPeer: locals.tlsPeer }, `b2bua: ${d.reason}`);
      refuseCall(deps.clock, req, res, d.status, d.reasonHeader, `denied:${d.category}`);
      return;
    }
    next();
  };
}
