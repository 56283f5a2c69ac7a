import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type Middleware, type PipelineDeps } from '../pipeline-types.js';

/**
 * Step: a request that may not be forwarded again is answered 483, and the B leg gets the count less one.
 *
 * RFC 3261 §16.3 item 3: "If the request does not contain a Max-Forwards header field, this check is
 * passed. If the request contains a Max-Forwards header field with a field value greater than zero, the
 * check is passed. If the request contains a Max-Forwards header field with a field value of zero (0), the
 * element MUST NOT forward the request." A B2BUA that relays a call honours the same rule.
 * https://www.rfc-editor.org/rfc/rfc3261#section-16.3
 */
export function checkMaxForwards(deps: PipelineDeps): Middleware {
  return (req, res, next) => {
    const locals = localsOf(req);
    const raw = req.get('Max-Forwards')?.trim();
    if (raw !== undefined && /^\d{1,10}$/.test(raw)) {
      const n = Number(raw);
      if (n === 0) {
        deps.stats.tooManyHops++;
        refusalLine(deps, req, 'info', 'ERR_B2BUA_TOO_MANY_HOPS', {}, 'b2bua: Max-Forwards is 0');
        refuseCall(deps.clock, deps.stats.calls, req, res, 483, 'SIP;cause=483;text="Too Many Hops"', 'too-many-hops');
        return;
      }
      locals.maxForwards = Math.min(n, 255) - 1;
    }
    next();
  };
}
