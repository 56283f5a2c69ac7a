import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';
import { GatewayError, errorCodeOf } from '../../common/gateway-error.js';
import type { AppHub } from '../types.js';
import { bracketHost, ipLiteral, transportOf, unbracket, type LocalAddresses } from './addressing.js';
import type { AppNotify } from './app-notify.js';
import { appHeaders, NOOP_USER } from './core-util.js';
import type { CoreErrorCode } from './errors.js';
import { hopRefusal, type DialogHops } from './hop-check.js';
import type { NameLookups } from './name-lookups.js';
import type { EngineDialog } from './engine-dialog.js';
import type { DialogStore } from './dialog-store.js';
import { reasonHeader } from './reject.js';
import type { RequestGate } from './request-gate.js';
import { getHeader, getHeaderValues, header, serializeMessageText, tagOf, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

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

/** What ACKing a 2xx takes: where the ACK goes out, and what ending the dialog takes when its next hop is refused. */
export interface AckDeps extends DialogHops {
  readonly addr: Pick<LocalAddresses, 'viaFor' | 'isLocal'>;
  readonly send: Pick<RequestGate, 'sendStateless' | 'sendRequest'>;
  readonly names: Pick<NameLookups, 'resolve'>;
  readonly hub: Pick<AppHub, 'isConnected' | 'sendSip'>;
  readonly notify: Pick<AppNotify, 'cdr' | 'now'>;
  readonly dialogs: Pick<DialogStore, 'get' | 'end'>;
}

/**
 * The ACK for the 2xx `d` owes one, sent statelessly and kept as the dialog's last ACK (re-sent on a retransmitted
 * 2xx). It is handed to the transport while the app's command is handled when no name needs looking up, like the
 * app's other requests: an ACK and a BYE the app sends together leave in that order.
 *
 * When the dialog's next hop is refused (hop-check.ts), the ACK goes to the 2xx's source, the only address the
 * answer proves the peer is at, and the call is ended right after it with a BYE to the same source: a dialog whose
 * route set or Contact names this host, loopback or the like cannot be used, and a 2xx left without its ACK would
 * only have the peer retransmit it and tear the call down on its own.
 *
 * `wanted`, asked once the target is known (after a name lookup, maybe), may still withhold the ACK: it then
 * resolves undefined, nothing sent (an app's ACK whose app went away meanwhile, uac-in-dialog.ts).
 */
export function sendAck(c: AckDeps, d: EngineDialog, extra: SipHeader[], body: Buffer,
  wanted?: () => boolean): Promise<{ request: SipRequest; target: SendTarget } | undefined> {
  // "The UAC core MUST generate an ACK request for each 2xx received [...] The sequence number of the CSeq
  // header field MUST be the same as the INVITE being acknowledged" https://www.rfc-editor.org/rfc/rfc3261#section-13.2.2.4
  if (body.length > 0 && !extra.some((h) => h.name === 'content-type')) extra.push(header('Content-Type', 'application/sdp'));
  const ack = buildInDialog(d, 'ACK', d.remoteTarget, extra, body);
  const cf = d.confirmed;
  if (cf) cf.ackSeq = undefined;
  return new Promise((resolve, reject) => withDialogTarget(d, c.names, (target) => {
    if (wanted && !wanted()) {
      resolve(undefined);
      return;
    }
    ack.headers.unshift(header('Via', c.addr.viaFor(target.protocol)));
    const sent = { request: ack, target };
    if (cf) cf.lastAck = sent;
    const then = afterUnsafeAck(c, d);
    c.send.sendStateless(ack, target).then(() => {
      resolve(sent);
      then();
    }, (err: unknown) => {
      reject(err);
      then();
    });
  }, reject, undefined, c));
}

/**
 * What follows an ACK in a dialog whose next hop was refused: the engine's BYE, once the app has the ACK's echo
 * (a microtask after it). Not when the dialog has ended meanwhile (the BYE of a CANCEL race, sent by the caller of
 * sendAck) or the app has sent another request in it since the ACK (its own BYE, which went to the same source).
 */
function afterUnsafeAck(c: AckDeps, d: EngineDialog): () => void {
  if (d.unsafeHop === undefined) return () => undefined;
  const seq = d.localSeq;
  return () => queueMicrotask(() => {
    if (c.dialogs.get(d.id) === d && d.phase.kind === 'confirmed' && d.localSeq === seq) endUnsafeDialog(c, d);
  });
}

/** Reason of the BYE that ends such a dialog (RFC 3326); the peer reads it, so it names no address. */
const UNSAFE_HOP_REASON = 'Route set or Contact names an address this gateway does not send to';

/**
 * The BYE that ends a dialog whose next hop was refused, to the peer's source, with the app told (an unsolicited
 * BYE, docs/control-protocol.md §2.3) and the CDR stopped: the steps of byeFromEngine (uac-teardown.ts), which
 * builds on this module and so cannot be called from it, for a BYE whose target is already known.
 */
function endUnsafeDialog(c: AckDeps, d: EngineDialog): void {
  const f = d.flow;
  if (!f) return;
  const bye = buildInDialog(d, 'BYE', d.remoteTarget, [reasonHeader(403, UNSAFE_HOP_REASON)], Buffer.alloc(0));
  const target = sourceOf(f);
  bye.headers.unshift(header('Via', c.addr.viaFor(target.protocol)));
  try {
    c.send.sendRequest(bye, { target, user: NOOP_USER });
  } catch (err) {
    c.guard.counted('engineByesNotSent', 'ERR_ENGINE_SEND_FAILED', `${errorCodeOf(err)}: ${err instanceof Error ? err.message : String(err)}`, undefined,
      'a BYE of the engine\'s own was not sent');
  }
  const text = serializeMessageText(bye);
  c.notify.cdr('stop', ['application', c.notify.now(), 'unsafe-next-hop'], text);
  if (c.hub.isConnected(d.owner)) {
    c.hub.sendSip(d.owner, {
      source: 'application', protocol: target.protocol, address: target.address, port: target.port, time: c.notify.now(),
      transactionId: 'unsolicited', dialogId: d.id,
    }, text);
  }
  c.dialogs.end(d);
}

/**
 * Where requests inside `d` go: forced onto the dialog's connection for TCP/TLS (§2.8). At once, unless the next
 * hop is a name the system resolver must look up (then a Promise). Throws when the dialog has no route.
 *
 * Over UDP the next hop is the peer's word (its Record-Route, its Contact): one hop-check.ts refuses makes every
 * request of the dialog, this one on, go to the peer's source instead (counted and logged once when `hops` is
 * given; without it the gateway's own listeners are not recognised, the address classes are). A dialog without a
 * known source sends nothing (ERR_ENGINE_DIALOG_HOP_REFUSED).
 */
export function dialogTarget(d: EngineDialog, names: Pick<NameLookups, 'resolve'>, hops?: DialogHops): SendTarget | Promise<SendTarget> {
  const f = d.flow;
  if (f && f.protocol !== 'udp') {
    const t: SendTarget = {
      protocol: f.protocol, address: f.remoteAddress, port: f.remotePort, ...(f.protocol === 'tls' ? d.tlsTarget : undefined),
    };
    if (f.connectionId !== undefined) t.connectionId = f.connectionId;
    return t;
  }
  if (d.unsafeHop !== undefined) return peerSource(d, hops);
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
  const at = (address: string): SendTarget => checkedHop(d, {
    protocol, address, port: u.port ?? (protocol === 'tls' ? 5061 : 5060),
    ...(f?.listenerId ? { listenerId: f.listenerId } : {}),
    ...(protocol === 'tls' ? d.tlsTarget : undefined),
  }, hops);
  const ip = ipLiteral(u.host);
  return ip !== undefined ? at(ip) : names.resolve(u.host).then(at);
}

/** `t` when hop-check.ts takes it as the dialog's next hop; else the dialog is marked and its peer's source returned. */
function checkedHop(d: EngineDialog, t: SendTarget, hops: DialogHops | undefined): SendTarget {
  const why = hopRefusal(t.address, t.port, d.flow?.remoteAddress, hops?.addr);
  if (why === undefined) return t;
  d.unsafeHop = { hop: `${bracketHost(t.address)}:${t.port}`, why, counted: false };
  return peerSource(d, hops);
}

/**
 * Where a dialog whose next hop was refused sends: the source of the message that made it (the 2xx we got, or the
 * request we answered), as the NAT rule of §2.8 does. The refusal is counted and logged once, by the first caller
 * that has the engine's counters.
 */
function peerSource(d: EngineDialog, hops: DialogHops | undefined): SendTarget {
  const bad = d.unsafeHop!;
  const f = d.flow;
  if (hops && !bad.counted) {
    bad.counted = true;
    hops.guard.counted('dialogHopRefused', 'ERR_ENGINE_DIALOG_HOP_REFUSED', `next hop ${bad.hop} is ${bad.why}`, f,
      `requests of a ${d.role.toUpperCase()} dialog go to its peer's source${d.role === 'uac' ? ', the call is ended after the ACK' : ''}: next hop ${bad.hop} is ${bad.why}`);
  }
  if (!f) throw new GatewayError<CoreErrorCode>('ERR_ENGINE_DIALOG_HOP_REFUSED', `next hop ${bad.hop} is ${bad.why} and the peer's source is not known`);
  return sourceOf(f);
}

function sourceOf(f: Flow): SendTarget {
  return { protocol: f.protocol, address: f.remoteAddress, port: f.remotePort, ...(f.listenerId ? { listenerId: f.listenerId } : {}) };
}

/**
 * Runs `go` with the dialog's target: in this turn when no name needs looking up, so that what `go` sends and
 * echoes to the app leaves with the rest of this turn's work; `fail` when there is no route or `go` throws.
 * `hops`: the engine's listeners and counters for the hop check (dialogTarget).
 */
export function withDialogTarget(d: EngineDialog, names: Pick<NameLookups, 'resolve'>, go: (target: SendTarget) => void, fail: (err: unknown) => void,
  lookups?: { inFlight: number }, hops?: DialogHops): void {
  let t: SendTarget | Promise<SendTarget>;
  try {
    t = dialogTarget(d, names, hops);
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
  // A forked INVITE has one early dialog per fork that answered with a tag (§12.1.2): the engine keeps the one whose
  // response came last, as it keeps that response's Contact and route set, and the 2xx's fork confirms it. An early
  // tag kept past a 2xx from another fork would give the ACK and every later request a To tag that far end never had.
  if (!inDialog && d.phase.kind === 'early' && tag !== undefined && to !== undefined && tag !== d.remoteTag) {
    const previousKey = d.key;
    d.remoteTag = tag;
    d.remoteUri = to;
    dialogs.rekey(d, previousKey);
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
