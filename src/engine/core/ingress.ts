import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import { checkRequest } from '../../sip/message/validate.js';
import { buildResponse } from '../../sip/transaction/index.js';
import type { CoreErrorCode } from './errors.js';
import { TOO_MANY_HOPS, maxForwardsOf } from './forward.js';
import type { Refusal } from './reject.js';
import { requestUriProblem } from './request-gate.js';
import { getHeaderValues, header, splitList, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

/** What the engine answers to OPTIONS by itself (RFC 3261 §11.2): the methods, bodies and extensions it takes. */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY, MESSAGE, SUBSCRIBE';
export const ACCEPT = 'application/sdp';
export const SUPPORTED = '100rel';

/** What the engine does with a request before any app or transaction state is spent on it. */
export type Screening =
  | { action: 'refuse'; refusal: Refusal; code: CoreErrorCode }
  | { action: 'options' }
  | { action: 'pass'; foreignRoute: boolean };

/**
 * The checks every request from the network gets (out-of-dialog ones fully, in-dialog ones where they apply):
 * RFC 3261 §8.2 (via the message layer), our Route entries removed in place (§16.4) while a Route naming another
 * host is only noted (never followed), Max-Forwards 0 → 483 (§16.3 step 2, OPTIONS excepted: the engine is
 * its final recipient), OPTIONS to the gateway itself answered here, and an INVITE's Contact (§8.1.1.8).
 * CANCEL is hop by hop and passes.
 */
export function screenRequest(request: SipRequest, inDialog: boolean, isOurs: (uri: string) => boolean): Screening {
  const method = request.method;
  if (method === 'CANCEL') return { action: 'pass', foreignRoute: false };
  if (!inDialog) {
    const problem = checkRequest(request);
    if (problem) return { action: 'refuse', refusal: { status: problem.status, phrase: problem.reason }, code: 'ERR_ENGINE_REQUEST_INVALID' };
  }
  const foreignRoute = stripOurRoutes(request, isOurs);
  const mf = maxForwardsOf(request);
  if (method === 'OPTIONS' && !inDialog && (mf === 0 || userOf(request.uri) === undefined)) return { action: 'options' };
  if (mf === 0 && method !== 'ACK') return { action: 'refuse', refusal: TOO_MANY_HOPS, code: 'ERR_ENGINE_TOO_MANY_HOPS' };
  if (method === 'INVITE') {
    const bad = contactProblem(request, inDialog);
    if (bad) return { action: 'refuse', refusal: bad, code: 'ERR_ENGINE_BAD_CONTACT' };
  }
  return { action: 'pass', foreignRoute };
}

/** The user part of a SIP URI; undefined when it has none (or is not a SIP URI). */
function userOf(uri: string): string | undefined {
  const u = uriOrUndefined(uri);
  return u?.user === '' ? undefined : u?.user;
}

/**
 * "The Contact header field MUST be present and contain exactly one SIP or SIPS URI in any request that can result
 * in the establishment of a dialog." https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1.8
 * A re-INVITE may leave its Contact out (the target stays); one it carries must be good.
 */
export function contactProblem(request: SipRequest, inDialog: boolean): Refusal | undefined {
  const contacts = getHeaderValues(request, 'contact');
  if (contacts.length === 0) {
    return inDialog ? undefined : { status: 400, phrase: 'Missing Contact', text: 'INVITE without Contact' };
  }
  if (contacts.length > 1) return { status: 400, phrase: 'Bad Contact', text: 'more than one Contact in an INVITE' };
  const uri = uriTextOf(contacts[0]!);
  const u = uriOrUndefined(uri);
  if (!u || (u.scheme !== 'sip' && u.scheme !== 'sips') || requestUriProblem(uri) !== undefined) {
    return { status: 400, phrase: 'Bad Contact', text: 'Contact is not a SIP or SIPS URI' };
  }
  return undefined;
}

/**
 * Removes, in place, the Route entries at the top of the Route set that name this engine (§16.4). Returns
 * whether entries naming another host remain: those are left for the app to see and never followed.
 */
export function stripOurRoutes(request: SipRequest, isOurs: (uri: string) => boolean): boolean {
  if (!request.headers.some((h) => h.name === 'route')) return false;
  const routes: string[] = [];
  for (const h of request.headers) if (h.name === 'route') routes.push(...splitList(h.value));
  let ours = 0;
  while (ours < routes.length && isOurs(uriTextOf(routes[ours]!))) ours++;
  const rest = routes.slice(ours);
  if (ours > 0) {
    const headers: SipHeader[] = [];
    let done = false;
    for (const h of request.headers) {
      if (h.name !== 'route') {
        headers.push(h);
        continue;
      }
      if (!done) for (const r of rest) headers.push(header('Route', r));
      done = true;
    }
    request.headers.length = 0;
    request.headers.push(...headers);
  }
  return rest.length > 0;
}

/** What a flow token may be to reach an app in X-Trunkgate-Peer `flow=` (base64url and dots, bounded). */
const FLOW_TOKEN = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * The user part of the top Route when that Route names this engine: the flow token an edge proxy put in the Path
 * it added to a REGISTER (RFC 3327 §4, RFC 5626 §5.2), which a request to that registration brings back in its
 * Route. Read before our Route entries are removed, so the app can find the flow; the app checks its signature.
 */
export function ourRouteToken(request: SipRequest, isOurs: (uri: string) => boolean): string | undefined {
  const h = request.headers.find((x) => x.name === 'route');
  if (h === undefined) return undefined;
  const top = splitList(h.value)[0];
  if (top === undefined) return undefined;
  const uri = uriTextOf(top);
  if (!isOurs(uri)) return undefined;
  const user = uriOrUndefined(uri)?.user;
  return user !== undefined && FLOW_TOKEN.test(user) ? user : undefined;
}

/** 200 to an OPTIONS the engine answers itself: Allow, Accept, Supported (RFC 3261 §11.2), as CUBE and Kamailio do. */
export function optionsResponse(request: SipRequest, toTag: string): SipResponse {
  return buildResponse(request, 200, 'OK', {
    toTag,
    headers: [header('Allow', ALLOW), header('Accept', ACCEPT), header('Supported', SUPPORTED), header('Accept-Encoding', 'identity')],
  });
}
