import type { Logger } from 'pino';
import { isFailoverStatus } from '../../policy/index.js';
import { sipErrorStatus } from '../bridge-call.js';
import { writeCdr } from '../cdr.js';
import { bLegTargets, bLegUri, liveTargets, parseServer, type BLegTarget } from '../b-leg-target.js';
import { passThrough, type PassLeg } from '../pass-through.js';
import { localsOf, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest, type PipelineResponse } from '../pipeline-types.js';
import { ROUTE_HEADER, type DigestCredentials } from '../policy-types.js';
import { filterCrypto } from '../sdp-crypto.js';
import { superviseLegs } from '../supervise-legs.js';

/** What place-call needs from drachtio-srf. */
export interface PlaceCallSrf {
  createB2BUA(req: PipelineRequest, res: PipelineResponse, uri: string, opts: Record<string, unknown>,
    callbacks: { cbRequest(err: unknown, uacReq?: unknown): void }): Promise<{ uas: PassLeg; uac: PassLeg }>;
}

/**
 * The A-leg response as createB2BUA sees it during one attempt: a 500 it sends because the B-leg INVITE
 * could not be sent at all (no connection to the trunk) is held back, so the next dial peer can be tried.
 * Everything else reaches the real response.
 */
export function guardSendFailure(res: PipelineResponse, requestSent: () => boolean): PipelineResponse {
  return new Proxy(res, {
    get(target, prop, receiver) {
      if (prop === 'send') {
        return (status: number, ...rest: unknown[]) => {
          if (status === 500 && !requestSent() && !target.finalResponseSent) return;
          return (target.send as (...a: unknown[]) => void).call(receiver, status, ...rest);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

export interface PlaceCallDeps extends PipelineDeps {
  srf: PlaceCallSrf;
}

/** Thrown from localSdpA inside createB2BUA when the B side's answer keeps no suite the caller's tenant allows. */
const ANSWER_REFUSED = Symbol('answer refused');
interface AnswerRefused extends Error {
  [ANSWER_REFUSED]: true;
  reasonHeader: string;
}

function answerRefused(err: unknown): err is AnswerRefused {
  return typeof err === 'object' && err !== null && ANSWER_REFUSED in err;
}

interface Failure {
  status: number;
  reason?: string;
  reasonHeader?: string;
  cause: string;
}

/**
 * The bridge step: places the B leg on each target of the selected dial peers in turn (transport, scheme,
 * TLS profile of the target tenant), moving on after 503, 408 or a transport failure, and joins the legs.
 * SDP offers keep only the `a=crypto` suites both tenants allow, in the called tenant's order; the answer is
 * filtered for the caller's tenant. The A leg gets the called party's own failure, else the last failover
 * status. Internal headers are never copied to either leg: createB2BUA copies none unless told, and the
 * B leg carries only X-Trunkgate-Route, which the engine consumes.
 */
export function placeCall(deps: PlaceCallDeps): Middleware {
  return (req, res) => {
    runCall(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err, callId: req.locals?.callId }, 'b2bua: call handler failed');
      if (!res.finalResponseSent) res.send(500);
    });
  };
}

/**
 * The addresses of one target: a `dns:` target becomes the addresses RFC 3263 gives for it (the Request-URI
 * names the address; the configured name goes to the engine in X-Trunkgate-Route `domain=`, the identity a
 * TLS server must present and the SNI, RFC 5922 §4.1). A name that resolves to nothing is a failure of that
 * target (503), and the next one is tried.
 */
async function resolveTarget(deps: PlaceCallDeps, locals: CallLocals, target: BLegTarget): Promise<BLegTarget[] | Failure> {
  const parsed = parseServer(target.server)!;
  const r = await deps.resolve!(parsed.host, parsed.port, target.transport);
  if (!r.ok) {
    deps.stats.dnsFailures++;
    locals.log.warn({ dialPeer: target.dialPeer, server: target.server, code: r.code }, `b2bua: ${r.reason}`);
    return { status: 503, reasonHeader: 'SIP;cause=503;text="Trunk name does not resolve"', cause: 'dns' };
  }
  return r.targets.map((a) => {
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    const headers = { ...target.headers };
    if (headers[ROUTE_HEADER] !== undefined) headers[ROUTE_HEADER] += `;domain=${a.domain}`;
    return { ...target, transport: a.transport, uri: bLegUri(locals.calledNumber ?? '', { host, port: a.port }, a.transport, target.scheme), headers };
  });
}

async function runCall(deps: PlaceCallDeps, req: PipelineRequest, res: PipelineResponse): Promise<void> {
  const { policy, stats, clock, srf } = deps;
  const locals = localsOf(req);
  const log = locals.log;
  const tenantIn = policy.tenants[locals.tenantIn!]!;
  const all = bLegTargets(locals.calledNumber ?? '', (locals.dialPeers ?? []).map((c) => c.dialPeer), policy.tenants);
  const targets = liveTargets(all, deps.trunks ? (t, s) => deps.trunks!.isDown(t, s) : undefined);
  if (targets.length < all.length) stats.skippedDown += all.length - targets.length;
  stats.calls.attempted++;

  let failure: Failure = { status: 503, reasonHeader: 'SIP;cause=503;text="No dial peer target reachable"', cause: 'no-target' };
  let attempts = 0;
  let used: BLegTarget | undefined;
  let legs: { uas: PassLeg; uac: PassLeg } | undefined;

  // Plain targets are tried without an await before them, so a call with no dns: target takes no extra turn.
  const queue = [...targets];
  const resolved = new Set<BLegTarget>();
  for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
    if (res.finalResponseSent) break;
    if (deps.resolve && target.server.startsWith('dns:') && !resolved.has(target)) {
      const expanded = await resolveTarget(deps, locals, target);
      if (!Array.isArray(expanded)) {
        failure = expanded;
        continue;
      }
      for (const t of expanded) resolved.add(t);
      queue.unshift(...expanded);
      continue;
    }
    const tenantOut = policy.tenants[target.tenant]!;
    const body = req.body ?? '';
    const fromCaller = filterCrypto(body, tenantIn.srtpCrypto);
    const offer = fromCaller.ok ? filterCrypto(fromCaller.sdp, tenantOut.srtpCrypto) : fromCaller;
    if (!offer.ok) {
      log.info({ dialPeer: target.dialPeer, tenantOut: target.tenant }, `b2bua: ${offer.reason}`);
      failure = { status: 488, reasonHeader: offer.reasonHeader, cause: 'srtp' };
      continue;
    }
    if (attempts > 0) stats.failovers++;
    attempts++;
    used = target;
    const headers: Record<string, string> = { ...target.headers };
    if (locals.maxForwards !== undefined) headers['Max-Forwards'] = String(locals.maxForwards);
    const opts: Record<string, unknown> = {
      headers,
      passFailure: false,
      ...(tenantOut.digest ? { auth: digestAnswer(tenantOut.digest, log, target.tenant) } : {}),
      ...(offer.changed ? { localSdpB: offer.sdp } : {}),
      localSdpA: (sdpB: string | undefined) => {
        if (!sdpB) return sdpB;
        const a = filterCrypto(sdpB, tenantIn.srtpCrypto);
        if (a.ok) return a.sdp;
        throw Object.assign(new Error(a.reason), { [ANSWER_REFUSED]: true, reasonHeader: a.reasonHeader });
      },
    };
    try {
      // A fresh options object per attempt (createB2BUA writes into it), and no Call-ID: drachtio makes a new
      // one for the B leg (drachtio-protocol.md §2.2, dispatch rule 4).
      let sent = false;
      legs = await srf.createB2BUA(req, guardSendFailure(res, () => sent), target.uri, opts, {
        cbRequest: (err) => {
          if (!err) sent = true;
        },
      });
      break;
    } catch (err) {
      if (answerRefused(err)) {
        log.info({ dialPeer: target.dialPeer }, `b2bua: answer refused: ${err.message}`);
        failure = { status: 488, reasonHeader: err.reasonHeader, cause: 'srtp' };
        break;
      }
      const status = sipErrorStatus(err);
      if (status === undefined) {
        log.warn({ err, dialPeer: target.dialPeer, uri: target.uri }, 'b2bua: B leg not placed');
        failure = { status: 503, reasonHeader: 'SIP;cause=503;text="Trunk unreachable"', cause: 'transport' };
        continue;
      }
      const reason = (err as { reason?: unknown }).reason;
      failure = { status, ...(typeof reason === 'string' ? { reason } : {}), cause: `b-leg-${status}` };
      if (!isFailoverStatus(status)) break;
      log.info({ status, dialPeer: target.dialPeer }, 'b2bua: trunk failed, trying the next dial peer');
    }
  }

  const out = used ? { tenantOut: used.tenant, transportOut: used.transport, dialPeer: used.dialPeer } : {};
  if (!legs) {
    // A CANCEL from the caller was answered 487 by createB2BUA itself, and the B leg's 487 ended the loop.
    const status = failure.status;
    if (!res.finalResponseSent) {
      res.send(failure.status, failure.reason, failure.reasonHeader ? { headers: { Reason: failure.reasonHeader } } : {});
    }
    if (failure.cause === 'srtp') stats.cryptoRejected++;
    stats.calls.fail(status);
    writeCdr(locals, { status, cause: failure.cause, attempts, endAt: clock.now(), ...out });
    return;
  }

  const answerAt = clock.now();
  const tenantOut = policy.tenants[used!.tenant]!;
  passThrough({ log, aSuites: tenantIn.srtpCrypto, bSuites: tenantOut.srtpCrypto }, legs);
  superviseLegs({
    stats: stats.calls, log, callId: locals.callId,
    onEnded: (releasedBy) => writeCdr(locals, {
      status: 200, cause: 'normal', attempts, answerAt, endAt: clock.now(), ...out, ...(releasedBy ? { releasedBy } : {}),
    }),
  }, legs);
}

/** The realm of a 401/407 challenge (WWW-Authenticate or Proxy-Authenticate), if it names one. */
export function challengeRealm(res: { get?(name: string): string | undefined; statusCode?: number }): string | undefined {
  const header = res.get?.(res.statusCode === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate');
  return header === undefined ? undefined : /realm\s*=\s*"([^"]*)"/i.exec(header)?.[1];
}

/**
 * drachtio-srf's `auth` callback for a tenant's credentials: given to a challenge from the configured realm (or
 * any realm when none is configured), refused with a log line otherwise, so credentials never go to a stranger.
 */
export function digestAnswer(d: DigestCredentials, log: Logger, tenant: string):
  (req: unknown, res: { get?(name: string): string | undefined; statusCode?: number }, cb: (err: Error | null, user?: string, pass?: string) => void) => void {
  return (_req, res, cb) => {
    const realm = challengeRealm(res);
    if (d.realm !== undefined && realm !== d.realm) {
      log.warn({ tenantOut: tenant, realm, expected: d.realm }, `b2bua: challenge from realm ${realm ?? '(none)'} on tenant ${tenant} not answered: credentials are for ${d.realm}`);
      cb(new Error(`challenge realm ${realm ?? '(none)'} is not ${d.realm}`));
      return;
    }
    cb(null, d.username, d.password);
  };
}
