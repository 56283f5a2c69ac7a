import { selectDialPeers } from '../../policy/index.js';
import { dialPeerServers } from '../b-leg-target.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type CallLocals, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import type { B2buaDialPeer } from '../policy-types.js';
import { sipReason } from '../reason.js';
import { holdOffsOf } from '../target-holdoff.js';
import { outboundBounds } from './resolve-target.js';

/**
 * Step: the dial peers that may carry the call, best first. None: 404. A dial peer whose every target the
 * OPTIONS ping found down, or a 503 with Retry-After holds off (target-holdoff.ts), is skipped (CUBE busies out a
 * dial peer whose keepalive fails), unless every candidate is: then all are kept, so a stale mark never leaves a call
 * with nothing to try.
 *
 * The dial peers kept stay within gateway.outbound.maxTargetsPerCall configured targets (the first is always kept):
 * the rest are dropped, counted and logged (ERR_B2BUA_TARGETS_CAPPED); resolve-target.ts keeps the `dns:` names'
 * addresses within the same bound.
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
    const trunks = deps.trunks;
    const holds = holdOffsOf(policy);
    const now = deps.clock.now();
    const isDown = (tenant: string, server: string): boolean => trunks?.isDown(tenant, server) === true;
    const passedOver = (tenant: string, server: string): boolean => isDown(tenant, server) || holds.isServerHeld(tenant, server, now);
    if (trunks || holds.size > 0) {
      const servers = (c: (typeof candidates)[number]) => dialPeerServers(c.dialPeer, policy.tenants[c.dialPeer.tenant]);
      const live = candidates.filter((c) => servers(c).length === 0 || servers(c).some((s) => !passedOver(c.dialPeer.tenant, s)));
      if (live.length > 0 && live.length < candidates.length) {
        const skipped = candidates.filter((c) => !live.includes(c));
        // Counted as down when every target of the dial peer is; else a hold-off kept it.
        const down = skipped.filter((c) => servers(c).every((s) => isDown(c.dialPeer.tenant, s))).length;
        stats.skippedDown += down;
        holds.counters.skipped += skipped.length - down;
        skippedLine(deps, locals, skipped.map((c) => c.dialPeer.id));
        locals.dialPeers = withinTargetBound(deps, locals, live);
        next();
        return;
      }
    }
    locals.dialPeers = withinTargetBound(deps, locals, candidates);
    next();
  };
}

/** The dial peers, best first, while their configured targets stay within maxTargetsPerCall; always the first. */
function withinTargetBound<T extends { dialPeer: B2buaDialPeer }>(deps: PipelineDeps, locals: CallLocals, list: T[]): T[] {
  const max = outboundBounds(deps.policy).maxTargetsPerCall;
  const size = (c: T) => dialPeerServers(c.dialPeer, deps.policy.tenants[c.dialPeer.tenant]).length;
  let n = 0;
  let i = 0;
  for (; i < list.length; i++) {
    const k = size(list[i]!);
    if (i > 0 && n + k > max) break;
    n += k;
  }
  if (i === list.length) return list;
  const dropped = list.slice(i);
  deps.stats.outbound.targetsCapped += dropped.reduce((sum, c) => sum + size(c), 0);
  const code = 'ERR_B2BUA_TARGETS_CAPPED';
  const fields = { callId: locals.callId, dialPeers: dropped.map((c) => c.dialPeer.id), maxTargetsPerCall: max };
  const msg = `b2bua: more targets than a call may try (${max}): the dial peers past them not tried`;
  if (deps.refusals) deps.refusals.line('warn', code, fields, msg, `capped:${fields.dialPeers.join(',')}`);
  else locals.log.warn({ code, ...fields }, msg);
  return list.slice(0, i);
}

/**
 * While a trunk is down (or held off) every call routed to it passes it over: the line goes once a window per set of dial peers
 * skipped, the count (`skippedDown`) stays exact.
 */
function skippedLine(deps: PipelineDeps, locals: CallLocals, skipped: string[]): void {
  const code = 'ERR_B2BUA_DIAL_PEER_SKIPPED';
  const msg = 'b2bua: dial peers skipped: trunk down, or held off by its 503 with Retry-After';
  if (deps.refusals) deps.refusals.line('info', code, { skipped, callId: locals.callId }, msg, `skipped:${skipped.join(',')}`);
  else locals.log.info({ code, skipped, callId: locals.callId }, msg);
}
