import { categoryDefaults, resolvePermissions } from '../../policy/index.js';
import { refuseCall } from '../cdr.js';
import { localsOf, refusalLine, type Middleware, type PipelineDeps } from '../pipeline-types.js';

/**
 * Step: the caller's permissions. The first certificate identity matching a TLS peer gives that peer's
 * permissions over the tenant's defaults; with none, the tenant's defaults apply and a warning names the
 * identities ("No matching TLS Peer found for …"), or the call is refused with 403 where the tenant says
 * `unknownPeer: reject`.
 */
export function mapPermissions(deps: PipelineDeps): Middleware {
  const { policy, stats } = deps;
  const defaults = categoryDefaults(policy.categories);
  const tlsPeers = policy.tlsPeers ?? {};
  return (req, res, next) => {
    const locals = localsOf(req);
    const tenantName = locals.tenantIn!;
    const tenant = policy.tenants[tenantName]!;
    const r = resolvePermissions({
      identities: locals.identities,
      tlsPeers,
      tenant: tenantName,
      categoryDefaults: defaults,
      ...(tenant.defaultPermissions ? { tenantDefaults: tenant.defaultPermissions } : {}),
      ...(tenant.unknownPeer ? { unknownPeer: tenant.unknownPeer } : {}),
    });
    if (!r.ok) {
      stats.unknownPeerRejected++;
      refusalLine(deps, req, 'warn', r.code, { identities: locals.identities }, r.reason);
      refuseCall(deps.clock, stats.calls, req, res, r.status, `SIP;cause=${r.status};text="${r.reason.replace(/["\\]/g, '')}"`, 'unknown-peer');
      return;
    }
    if (r.warning !== undefined) {
      stats.unknownPeerAllowed++;
      // Every call of such a peer meets it: one line per source a window, the count exact.
      refusalLine(deps, req, 'warn', 'EVT_TLS_PEER_UNMATCHED', { identities: locals.identities }, r.warning);
    }
    if (r.peer) {
      locals.tlsPeer = r.peer.name;
      locals.peerIdentity = r.peer.identity;
    }
    locals.permissions = r.permissions;
    next();
  };
}
