import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';
import { errorCodeOf } from '../../common/gateway-error.js';
import type { LocalAddresses } from './addressing.js';
import type { CoreGuard } from './core-guard.js';
import { cseqNumber, NOOP_USER } from './core-util.js';
import type { EngineDialog } from './engine-dialog.js';
import { reasonHeader } from './reject.js';
import type { RequestGate } from './request-gate.js';
import { getHeader, getHeaderValues, header, tagOf, uriTextOf } from '../../sip/message/index.js';

/** Answers of other forks one INVITE has acknowledged and ended; a 2xx of yet another fork is dropped, counted. */
export const MAX_EXTRA_FORKS = 4;

/** Reason of the BYE that ends a fork's answer (RFC 3326); the far end reads it. */
const EXTRA_FORK_REASON = 'Call answered by another fork';

export interface ForkDeps {
  readonly addr: Pick<LocalAddresses, 'viaFor'>;
  readonly send: Pick<RequestGate, 'sendStateless' | 'sendRequest'>;
  readonly guard: Pick<CoreGuard, 'counted' | 'count'>;
}

/** What one dialog-creating INVITE remembers of other forks' answers: the ACK each got, by its To tag. */
export interface ForkMemo {
  extraForks: Map<string, { request: SipRequest; target: SendTarget }> | undefined;
}

/**
 * A 2xx to an app's INVITE after the one that made dialog `d`, while the INVITE client transaction is Accepted
 * (RFC 6026 §8.4). The same fork's, retransmitted: the dialog's ACK again. Another fork's (`forks` given, another
 * To tag): "The UAC core MUST generate an ACK request for each 2xx received [...] If the UAC does not want to
 * continue with that dialog, then the UAC MUST terminate the dialog by sending a BYE request"
 * https://www.rfc-editor.org/rfc/rfc3261#section-13.2.2.4
 *
 * The app has one dialog per INVITE, so the engine ACKs and BYEs another fork's on its own, to where its 2xx came
 * from (the only address it proves the fork at), and the app sees nothing. A retransmission of that 2xx gets the
 * same ACK again. At most MAX_EXTRA_FORKS per INVITE: past that a 2xx is dropped and counted, so a far end that
 * invents To tags cannot make the gateway send ever more requests. Once the call has ended nothing is sent: the
 * far end's own ACK wait ends what it answered.
 */
export function answerAgain(c: ForkDeps, d: EngineDialog | undefined, res: SipResponse, flow: Flow, forks: ForkMemo | undefined): void {
  if (d === undefined) return;
  const tag = forks ? tagOf(getHeader(res, 'to')) : undefined;
  if (forks === undefined || tag === undefined || tag === d.remoteTag) {
    const lastAck = d.confirmed?.lastAck;
    if (lastAck) c.send.sendStateless(lastAck.request, lastAck.target).catch(() => undefined);
    return;
  }
  const acked = (forks.extraForks ??= new Map());
  const known = acked.get(tag);
  if (known) {
    c.send.sendStateless(known.request, known.target).catch(() => undefined);
    return;
  }
  if (acked.size >= MAX_EXTRA_FORKS) {
    c.guard.counted('forkAnswersDropped', 'ERR_ENGINE_FORK_LIMIT', `more than ${MAX_EXTRA_FORKS} other forks answered one INVITE`, flow,
      '2xx of another fork dropped, neither ACKed nor ended');
    return;
  }
  const target: SendTarget = {
    protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort,
    ...(flow.connectionId !== undefined ? { connectionId: flow.connectionId } : {}),
    ...(flow.listenerId ? { listenerId: flow.listenerId } : {}),
    ...(flow.protocol === 'tls' ? d.tlsTarget : undefined),
  };
  const seq = cseqNumber(res);
  const ack = forkRequest(c, d, res, 'ACK', seq, [], target);
  acked.set(tag, { request: ack, target });
  c.send.sendStateless(ack, target).catch(() => undefined);
  c.guard.count.forkAnswersEnded++;
  try {
    c.send.sendRequest(forkRequest(c, d, res, 'BYE', seq + 1, [reasonHeader(200, EXTRA_FORK_REASON)], target), { target, user: NOOP_USER });
  } catch (err) {
    c.guard.counted('engineByesNotSent', 'ERR_ENGINE_SEND_FAILED', `${errorCodeOf(err)}: ${err instanceof Error ? err.message : String(err)}`, flow,
      'the BYE ending another fork\'s answer was not sent');
  }
}

/** A request of the fork's dialog (§12.1.2 from its 2xx: its To, its Contact, its Record-Route reversed). */
function forkRequest(c: ForkDeps, d: EngineDialog, res: SipResponse, method: string, seq: number, extra: SipHeader[], target: SendTarget): SipRequest {
  const contact = getHeader(res, 'contact');
  const headers: SipHeader[] = [header('Via', c.addr.viaFor(target.protocol)), header('Max-Forwards', '70')];
  for (const r of getHeaderValues(res, 'record-route').reverse()) headers.push(header('Route', r));
  headers.push(header('From', d.localUri), header('To', getHeader(res, 'to') ?? d.remoteUri), header('Call-ID', d.callId),
    header('CSeq', `${seq} ${method}`), ...extra);
  return { kind: 'request', method, uri: contact !== undefined ? uriTextOf(contact) : d.remoteTarget, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}
