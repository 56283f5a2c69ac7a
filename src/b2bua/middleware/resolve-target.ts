import { bLegUri, parseServer, type BLegTarget } from '../b-leg-target.js';
import type { CallLocals, PipelineDeps } from '../pipeline-types.js';
import { ROUTE_HEADER } from '../policy-types.js';
import { sipReason } from '../reason.js';
import type { ReleasedBy } from '../supervise-legs.js';

/** Why a call got no B leg: the final response the caller gets, and what its CDR says. */
export interface Failure {
  status: number;
  reason?: string;
  reasonHeader?: string;
  /** Headers besides the Reason (Retry-After of a call-limit or call-rate 503, busy-refusal.ts). */
  headers?: Record<string, string>;
  cause: string;
  /** Who ended the call for its CDR (absent: the gateway, which had nothing to offer the call). */
  releasedBy?: ReleasedBy;
  /** The Reason of the B leg's final response, when it had one. */
  reasonOut?: string;
}

/**
 * The addresses of one target: a `dns:` target becomes the addresses RFC 3263 gives for it (the Request-URI
 * names the address; the configured name goes to the engine in X-Trunkgate-Route `domain=`, the identity a
 * TLS server must present and the SNI, RFC 5922 §4.1). A name that resolves to nothing is a failure of that
 * target (503), and the next one is tried.
 */
export async function resolveTarget(deps: PipelineDeps, locals: CallLocals, target: BLegTarget): Promise<BLegTarget[] | Failure> {
  const parsed = parseServer(target.server)!;
  const r = await deps.resolve!(parsed.host, parsed.port, target.transport);
  if (!r.ok) {
    deps.stats.dnsFailures++;
    // Once per name and code a window when the pipeline has a limiter: a trunk name that stops resolving fails
    // every call to it, and each would write its own line.
    if (deps.refusals) deps.refusals.line('warn', r.code, { dialPeer: target.dialPeer, server: target.server, callId: locals.callId }, `b2bua: ${r.reason}`, target.server);
    else locals.log.warn({ dialPeer: target.dialPeer, server: target.server, code: r.code }, `b2bua: ${r.reason}`);
    return { status: 503, reasonHeader: sipReason(503, `Trunk name does not resolve: ${target.server} (dial peer ${target.dialPeer})`), cause: 'dns' };
  }
  return r.targets.map((a) => {
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    const headers = { ...target.headers };
    if (headers[ROUTE_HEADER] !== undefined) headers[ROUTE_HEADER] += `;domain=${a.domain}`;
    return { ...target, transport: a.transport, uri: bLegUri(locals.calledNumber ?? '', { host, port: a.port }, a.transport, target.scheme), headers };
  });
}

