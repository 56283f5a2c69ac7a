import { selectDialPeers } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';

/**
 * Step: the dial peers that may carry the call, best first. None: 404.
 *
 * RFC 3261 §21.4.5: 404 Not Found, "The server has definitive information that the user does not exist at
 * the domain specified in the Request-URI."
 * https://www.rfc-editor.org/rfc/rfc3261#section-21.4.5
 */
export function selectDialPeer(deps: PipelineDeps): Middleware {
  const { policy, stats } = deps;
  return (req, res, next) => {
    const locals = localsOf(req);
    const candidates = selectDialPeers(locals.calledNumber ?? '', locals.tenantIn, policy.dialPeers)
      .filter((c) => Object.hasOwn(policy.tenants, c.dialPeer.tenant));
    if (candidates.length === 0) {
      stats.noRoute++;
      locals.log.info({ calledNumber: locals.calledNumber }, 'b2bua: no dial peer matches');
      refuseCall(deps.clock, req, res, 404, 'SIP;cause=404;text="No route to the called number"', 'no-route');
      return;
    }
    locals.dialPeers = candidates;
    next();
  };
}
