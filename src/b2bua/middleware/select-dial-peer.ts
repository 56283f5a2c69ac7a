import { selectDialPeers } from '../../policy/index.js';
import { dialPeerServers } from '../b-leg-target.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type CallLocals, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { sipReason } from '../reason.js';

/**
 * Step: the dial peers that may carry the call, best first. None: 404. A dial peer whose every target the
 * OPTIONS ping found down is skipped (CUBE busies out a dial peer whose keepalive fails), unless every
 * candidate is down: then all are kept, so a stale mark never leaves a call with nothing to try.
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
      refusalLine(deps, req, 'info', 'ERR_B2BUA_NO_ROUTE', { calledNumber: locals.calledNumber }, 'b2bua: no dial peer matches');
      refuseCall(deps.clock, stats.calls, req, res, 404,
        sipReason(404, `No route: no dial peer for ${locals.calledNumber ?? '(no number)'} from tenant ${locals.tenantIn ?? '-'}`), 'no-route');
      return;
    }
    const isDown = deps.trunks ? (tenant: string, server: string) => deps.trunks!.isDown(tenant, server) : undefined;
    if (isDown) {
      const live = candidates.filter((c) => {
        const servers = dialPeerServers(c.dialPeer, policy.tenants[c.dialPeer.tenant]);
        return servers.length === 0 || servers.some((s) => !isDown(c.dialPeer.tenant, s));
      });
      if (live.length > 0 && live.length < candidates.length) {
        stats.skippedDown += candidates.length - live.length;
        skippedLine(deps, locals, candidates.filter((c) => !live.includes(c)).map((c) => c.dialPeer.id));
        locals.dialPeers = live;
        next();
        return;
      }
    }
    locals.dialPeers = candidates;
    next();
  };
}

/**
 * While a trunk is down every call routed to it passes it over: the line goes once a window per set of dial peers
 * skipped, the count (`skippedDown`) stays exact.
 */
function skippedLine(deps: PipelineDeps, locals: CallLocals, skipped: string[]): void {
  const code = 'ERR_B2BUA_DIAL_PEER_SKIPPED';
  const msg = 'b2bua: dial peers skipped: trunk down';
  if (deps.refusals) deps.refusals.line('info', code, { skipped, callId: locals.callId }, msg, `skipped:${skipped.join(',')}`);
  else locals.log.info({ code, skipped, callId: locals.callId }, msg);
}
