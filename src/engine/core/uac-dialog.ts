import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';
import { ipLiteral, transportOf, unbracket, type LocalAddresses } from './addressing.js';
import { appHeaders } from './core-util.js';
import type { NameLookups } from './name-lookups.js';
import type { EngineDialog } from './engine-dialog.js';
import type { DialogStore } from './dialog-store.js';
import type { RequestGate } from './request-gate.js';
import { getHeader, getHeaderValues, header, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

/**
 * What the UAC side does inside a dialog that needs no state of its own: building a request of the dialog, finding
 * where it goes, ACKing a 2xx, and learning the remote end from a response (RFC 3261 §12.1.2, §12.2.1, §13.2.2.4).
 */

/** A request inside `d` without its Via (added once the target, hence the transport, is known). */
export function buildInDialog(d: EngineDialog, method: string, uri: string, extra: SipHeader[], body: Buffer): SipRequest {
  const headers: SipHeader[] = [header('Max-Forwards', '70')];
  for (const r of d.routeSet) headers.push(header('Route', r));
  // "The CSeq header field value MUST be [...] the local sequence number [...] incremented by one"
  // https://www.rfc-editor.org/rfc/rfc3261#section-12.2.1.1
  const seq = method === 'ACK' ? (d.confirmed?.ackSeq ?? d.localSeq) : d.nextSeq();
  headers.push(header('From', d.localUri), header('To', d.remoteUri), header('Call-ID', d.callId), header('CSeq', `${seq} ${method}`));
  for (const h of extra) headers.push(h);
  return { kind: 'request', method, uri, version: 'SIP/2.0', headers, body };
}

/**
 * The headers of an app's request inside `d`: its own, Content-Type for an SDP body without one, and the dialog's
 * Contact for INVITE, SUBSCRIBE and REFER without one; a string (the app's NOK) when a body's type is unknown.
 */
export function inDialogHeaders(msg: SipRequest, d: EngineDialog): SipHeader[] | string {
  const extra = appHeaders(msg);
  let hasContentType = false;
  let hasContact = false;
  for (const h of extra) {
    if (h.name === 'content-type') hasContentType = true;
    if (h.name === 'contact') hasContact = true;
  }
  if (msg.body.length > 0 && !hasContentType) {
    if (msg.body.subarray(0, 3).toString('latin1') !== 'v=0') return 'Server error: missing content-type';
    extra.push(header('Content-Type', 'application/sdp'));
  }
  const method = msg.method;
  if ((method === 'INVITE' || method === 'SUBSCRIBE' || method === 'REFER') && !hasContact) extra.push(header('Contact', d.localContact));
  return extra;
}

/**
 * The ACK for the 2xx `d` owes one, sent statelessly and kept as the dialog's last ACK (re-sent on a retransmitted
 * 2xx). It is handed to the transport while the app's command is handled when no name needs looking up, like the
 * app's other requests: an ACK and a BYE the app sends together leave in that order.
 */
export function sendAck(
  c: { readonly addr: Pick<LocalAddresses, 'viaFor'>; readonly send: Pick<RequestGate, 'sendStateless'>; readonly names: Pick<NameLookups, 'resolve'> },
  d: EngineDialog, extra: SipHeader[], body: Buffer,
): Promise<{ request: SipRequest; target: SendTarget }> {
  // "The UAC core MUST generate an ACK request for each 2xx received [...] The sequence number of the CSeq
  // header field MUST be the same as the INVITE being acknowledged" https://www.rfc-editor.org/rfc/rfc3261#section-13.2.2.4
  if (body.length > 0 && !extra.some((h) => h.name === 'content-type')) extra.push(header('Content-Type', 'application/sdp'));
  const ack = buildInDialog(d, 'ACK', d.remoteTarget, extra, body);
  const cf = d.confirmed;
  if (cf) cf.ackSeq = undefined;
  return new Promise((resolve, reject) => withDialogTarget(d, c.names, (target) => {
    ack.headers.unshift(header('Via', c.addr.viaFor(target.protocol)));
    const sent = { request: ack, target };
    if (cf) cf.lastAck = sent;
    c.send.sendStateless(ack, target).then(() => resolve(sent), reject);
  }, reject));
}

/**
 * Where requests inside `d` go: forced onto the dialog's connection for TCP/TLS (§2.8). At once, unless the next
 * hop is a name the system resolver must look up (then a Promise). Throws when the dialog has no route.
 */
export function dialogTarget(d: EngineDialog, names: Pick<NameLookups, 'resolve'>): SendTarget | Promise<SendTarget> {
  const f = d.flow;
  if (f && f.protocol !== 'udp') {
    const t: SendTarget = {
      protocol: f.protocol, address: f.remoteAddress, port: f.remotePort, ...(f.protocol === 'tls' ? d.tlsTarget : undefined),
    };
    if (f.connectionId !== undefined) t.connectionId = f.connectionId;
    return t;
  }
  // "If the route set is not empty, and its first URI contains the lr parameter [...] the UAC MUST [...] send
  // the request to the first URI of the route set" https://www.rfc-editor.org/rfc/rfc3261#section-12.2.1.1
  const next = d.routeSet.length > 0 ? uriTextOf(d.routeSet[0]!) : d.remoteTarget;
  const u = uriOrUndefined(next);
  if (!u) {
    if (f) return { protocol: f.protocol, address: f.remoteAddress, port: f.remotePort };
    throw new Error(`unable to find route for dialog ${d.id}`);
  }
  const protocol = f?.protocol ?? transportOf(u);
  if (f && d.role === 'uac' && d.routeSet.length === 0 && unbracket(u.host) !== f.remoteAddress) {
    // NAT detection: the 200's Contact differs from where it came from; use the source (§2.8).
    return { protocol, address: f.remoteAddress, port: f.remotePort, ...(f.listenerId ? { listenerId: f.listenerId } : {}) };
  }
  const at = (address: string): SendTarget => ({
    protocol, address, port: u.port ?? (protocol === 'tls' ? 5061 : 5060),
    ...(f?.listenerId ? { listenerId: f.listenerId } : {}),
    ...(protocol === 'tls' ? d.tlsTarget : undefined),
  });
  const ip = ipLiteral(u.host);
  return ip !== undefined ? at(ip) : names.resolve(u.host).then(at);
}

/**
 * Runs `go` with the dialog's target: in this turn when no name needs looking up, so that what `go` sends and
 * echoes to the app leaves with the rest of this turn's work; `fail` when there is no route or `go` throws.
 */
export function withDialogTarget(d: EngineDialog, names: Pick<NameLookups, 'resolve'>, go: (target: SendTarget) => void, fail: (err: unknown) => void,
  lookups?: { inFlight: number }): void {
  let t: SendTarget | Promise<SendTarget>;
  try {
    t = dialogTarget(d, names);
  } catch (err) {
    fail(err);
    return;
  }
  if (t instanceof Promise) {
    // While the name is looked up the request is counted in `lookups` (the owner's cap counts it).
    if (lookups) lookups.inFlight++;
    t.finally(() => {
      if (lookups) lookups.inFlight--;
    }).then(go).catch(fail);
    return;
  }
  try {
    go(t);
  } catch (err) {
    fail(err);
  }
}

/** Remote tag, target and route set from a response to the dialog-creating request (§12.1.2). */
export function learnRemote(dialogs: Pick<DialogStore, 'rekey'>, d: EngineDialog, res: SipResponse, flow: Flow, inDialog: boolean): void {
  const to = getHeader(res, 'to');
  const tag = tagOf(to);
  if (!inDialog && d.remoteTag === undefined && tag !== undefined && to !== undefined) {
    d.remoteTag = tag;
    d.remoteUri = to;
    dialogs.rekey(d);
  }
  const contact = getHeader(res, 'contact');
  // "The remote target MUST be set to the URI from the Contact header field of the response."
  if (contact !== undefined) d.remoteTarget = uriTextOf(contact);
  if (!inDialog) {
    // "The route set MUST be set to the list of URIs in the Record-Route header field from the response, taken
    // in reverse order and preserving all URI parameters." https://www.rfc-editor.org/rfc/rfc3261#section-12.1.2
    d.routeSet = getHeaderValues(res, 'record-route').reverse();
    if (flow.localPort !== 0) d.flow = flow;
  }
}
