import type { BlockList } from 'node:net';
import { bLegTargets, bLegUri, liveTargets, parseServer, type BLegTarget } from '../b-leg-target.js';
import type { CallLocals, PipelineDeps } from '../pipeline-types.js';
import type { OutboundCounters } from '../pipeline-stats.js';
import { ROUTE_HEADER, type B2buaPolicy } from '../policy-types.js';
import { sipReason } from '../reason.js';
import { allowedResolved, refusedAddress } from '../resolved-address.js';
import { RESOLVE_DEFAULTS, type ResolveResult, type ResolvedTarget } from '../rfc3263.js';
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

/** gateway.outbound with every default filled in (config gateway-schema.ts OutboundSchema gives the same). */
export interface OutboundBounds {
  allowResolved: BlockList;
  maxSrvRecords: number;
  maxAddressesPerName: number;
  maxTargetsPerCall: number;
  resolveTimeoutMs: number;
  negativeCacheMs: number;
}

export const DEFAULT_MAX_TARGETS_PER_CALL = 16;

/** The rule every sender to a `dns:` name applies (../resolved-address.ts), here with the step that applies it to calls. */
export { refusedAddress };

const bounds = new WeakMap<B2buaPolicy, OutboundBounds>();

/** The policy's gateway.outbound with its defaults (built once per policy). */
export function outboundBounds(policy: B2buaPolicy): OutboundBounds {
  let b = bounds.get(policy);
  if (b === undefined) {
    const o = policy.outbound ?? {};
    b = {
      allowResolved: allowedResolved(policy),
      maxSrvRecords: o.maxSrvRecords ?? RESOLVE_DEFAULTS.maxSrvRecords,
      maxAddressesPerName: o.maxAddressesPerName ?? RESOLVE_DEFAULTS.maxAddressesPerName,
      maxTargetsPerCall: o.maxTargetsPerCall ?? DEFAULT_MAX_TARGETS_PER_CALL,
      resolveTimeoutMs: o.resolveTimeoutMs ?? RESOLVE_DEFAULTS.deadlineMs,
      negativeCacheMs: o.negativeCacheMs ?? RESOLVE_DEFAULTS.negativeCacheMs,
    };
    bounds.set(policy, b);
  }
  return b;
}

/** What one call has left of its bounds: the deadline of all its lookups and the targets it may still add. */
interface CallOutbound {
  deadlineAt: number;
  /** Targets the call's `dns:` names may still add. */
  slots: number;
  /** `dns:` targets of the call not resolved yet: each keeps one slot for itself. */
  dnsLeft: number;
}

const calls = new WeakMap<CallLocals, CallOutbound>();

/** The call's bounds, taken at its first `dns:` target: the configured targets it has count against maxTargetsPerCall. */
function callOutbound(deps: PipelineDeps, locals: CallLocals, b: OutboundBounds): CallOutbound {
  let c = calls.get(locals);
  if (c === undefined) {
    const all = bLegTargets(locals.calledNumber ?? '', (locals.dialPeers ?? []).map((d) => d.dialPeer), deps.policy.tenants);
    const listed = liveTargets(all, deps.trunks ? (t, s) => deps.trunks!.isDown(t, s) : undefined);
    const dns = listed.filter((t) => t.server.startsWith('dns:')).length;
    c = { deadlineAt: deps.clock.now() + b.resolveTimeoutMs, slots: b.maxTargetsPerCall - (listed.length - dns), dnsLeft: dns };
    calls.set(locals, c);
  }
  return c;
}

/** One rate-limited line per code and name a window (every call to a trunk meets the same answer). */
function outboundLine(deps: PipelineDeps, locals: CallLocals, code: string, target: BLegTarget, fields: Record<string, unknown>, msg: string): void {
  const all = { dialPeer: target.dialPeer, server: target.server, callId: locals.callId, ...fields };
  if (deps.refusals) deps.refusals.line('warn', code, all, msg, target.server);
  else locals.log.warn({ code, ...all }, msg);
}

function count(deps: PipelineDeps, field: keyof OutboundCounters, n: number): void {
  deps.stats.outbound[field] += n;
}

/** The resolver's answer, or ERR_B2BUA_DNS_DEADLINE once the call's deadline passes first. */
function withinDeadline(deps: PipelineDeps, p: Promise<ResolveResult>, ms: number, name: string): Promise<ResolveResult> {
  const late: ResolveResult = { ok: false, code: 'ERR_B2BUA_DNS_DEADLINE', reason: `${name}: not resolved within the call's deadline` };
  return new Promise((done) => {
    const timer = deps.clock.setTimeout(() => done(late), ms);
    p.then((r) => done(r), (err: unknown) => done({ ok: false, code: 'ERR_B2BUA_DNS', reason: `${name}: ${(err as Error).message}` }))
      .finally(() => timer.cancel());
  });
}

/**
 * The addresses of one target: a `dns:` target becomes the addresses RFC 3263 gives for it (the Request-URI
 * names the address; the configured name goes to the engine in X-Trunkgate-Route `domain=`, the identity a
 * TLS server must present and the SNI, RFC 5922 §4.1). A name that resolves to nothing is a failure of that
 * target (503), and the next one is tried.
 *
 * The answer is the network's (gateway.outbound, docs in config gateway-schema.ts): an address it names that is
 * loopback, link-local, multicast, unspecified or the gateway's own is refused unless allowResolved holds it
 * (ERR_B2BUA_TARGET_REFUSED); the lookups of one call share one deadline (ERR_B2BUA_DNS_DEADLINE); records and
 * addresses past their bounds are not used (ERR_B2BUA_DNS_CAPPED); and a call's targets, configured and resolved,
 * stay within maxTargetsPerCall (ERR_B2BUA_TARGETS_CAPPED), each later `dns:` target keeping one. Each is counted
 * and logged once a window per name.
 */
export async function resolveTarget(deps: PipelineDeps, locals: CallLocals, target: BLegTarget): Promise<BLegTarget[] | Failure> {
  const b = outboundBounds(deps.policy);
  const call = callOutbound(deps, locals, b);
  call.dnsLeft = Math.max(0, call.dnsLeft - 1);
  const parsed = parseServer(target.server)!;
  const ms = call.deadlineAt - deps.clock.now();
  const limits = { maxSrvRecords: b.maxSrvRecords, maxAddressesPerName: b.maxAddressesPerName, deadlineMs: ms, negativeCacheMs: b.negativeCacheMs };
  const r: ResolveResult = ms > 0
    ? await withinDeadline(deps, deps.resolve!(parsed.host, parsed.port, target.transport, limits), ms, parsed.host)
    : { ok: false, code: 'ERR_B2BUA_DNS_DEADLINE', reason: `${parsed.host}: not resolved, the call's ${b.resolveTimeoutMs} ms for lookups are over` };
  if (!r.ok) {
    deps.stats.dnsFailures++;
    if (r.code === 'ERR_B2BUA_DNS_DEADLINE') count(deps, 'resolveDeadline', 1);
    // Once per name and code a window when the pipeline has a limiter: a trunk name that stops resolving fails
    // every call to it, and each would write its own line.
    if (deps.refusals) deps.refusals.line('warn', r.code, { dialPeer: target.dialPeer, server: target.server, callId: locals.callId }, `b2bua: ${r.reason}`, target.server);
    else locals.log.warn({ dialPeer: target.dialPeer, server: target.server, code: r.code }, `b2bua: ${r.reason}`);
    return { status: 503, reasonHeader: sipReason(503, `Trunk name does not resolve: ${target.server} (dial peer ${target.dialPeer})`), cause: 'dns' };
  }
  const cut = r.capped;
  if (cut?.deadline) {
    count(deps, 'resolveDeadline', 1);
    outboundLine(deps, locals, 'ERR_B2BUA_DNS_DEADLINE', target, { deadlineMs: b.resolveTimeoutMs }, 'b2bua: resolution cut by the call\'s deadline; the addresses found so far are tried');
  }
  if (cut?.records || cut?.addresses) {
    count(deps, 'srvRecordsCapped', cut.records ?? 0);
    count(deps, 'addressesCapped', cut.addresses ?? 0);
    outboundLine(deps, locals, 'ERR_B2BUA_DNS_CAPPED', target, { recordsDropped: cut.records ?? 0, addressesDropped: cut.addresses ?? 0 },
      `b2bua: DNS answer past its bounds (${b.maxSrvRecords} records, ${b.maxAddressesPerName} addresses a name): the rest not used`);
  }
  const kept: ResolvedTarget[] = [];
  for (const a of r.targets) {
    const why = refusedAddress(a.address, deps.policy);
    if (why === undefined) {
      kept.push(a);
      continue;
    }
    count(deps, 'resolvedRefused', 1);
    outboundLine(deps, locals, 'ERR_B2BUA_TARGET_REFUSED', target, { address: a.address, port: a.port, why },
      `b2bua: resolved target ${a.address}:${a.port} refused: ${why} (gateway.outbound.allowResolved)`);
  }
  if (kept.length === 0) {
    return { status: 503, reasonHeader: sipReason(503, `Trunk name resolves to no address the gateway may call: ${target.server} (dial peer ${target.dialPeer})`), cause: 'dns' };
  }
  // The later dns: targets of the call keep a slot each, so a name with many addresses cannot crowd out the failover.
  const reserve = Math.max(0, Math.min(call.dnsLeft, call.slots - 1));
  const take = Math.max(0, Math.min(kept.length, call.slots - reserve));
  call.slots -= take;
  if (take < kept.length) {
    count(deps, 'targetsCapped', kept.length - take);
    outboundLine(deps, locals, 'ERR_B2BUA_TARGETS_CAPPED', target, { dropped: kept.length - take, maxTargetsPerCall: b.maxTargetsPerCall },
      `b2bua: more targets than a call may try (${b.maxTargetsPerCall}): the rest not tried`);
  }
  if (take === 0) {
    return { status: 503, reasonHeader: sipReason(503, `Too many targets for one call: ${target.server} not tried (dial peer ${target.dialPeer})`), cause: 'no-target' };
  }
  return kept.slice(0, take).map((a) => {
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    const headers = { ...target.headers };
    if (headers[ROUTE_HEADER] !== undefined) headers[ROUTE_HEADER] += `;domain=${a.domain}`;
    return { ...target, transport: a.transport, uri: bLegUri(locals.calledNumber ?? '', { host, port: a.port }, a.transport, target.scheme), headers };
  });
}
