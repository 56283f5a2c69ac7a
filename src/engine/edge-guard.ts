import { toTagOf, topViaText } from '../sip/message/accessors.js';
import { serializeMessage, type SipHeader, type SipMessage, type SipRequest } from '../sip/message/index.js';
import { buildResponse, responseTarget, type TransactionLayer } from '../sip/transaction/index.js';
import type { Flow } from '../sip/transport/types.js';
import type { TransportLayer, TransportUser } from '../sip/transport/index.js';
import { newTag } from './core/core-util.js';
import { header } from '../sip/message/index.js';
import { reasonHeader } from './core/reject.js';
import type { SourceRate } from './source-rate.js';
import type { SourceTrust } from './source-trust.js';
import { viaKey, type OverloadGuard } from './overload.js';
import type { RefusalReporter } from './refusal-record.js';
import { fromDialogPeer, type DialogPeer } from './core/dialog-peer.js';

export interface EdgeGuardDeps {
  transport: TransportLayer;
  transactions: TransactionLayer;
  trust: SourceTrust | undefined;
  rate: SourceRate | undefined;
  /** Sheds new INVITEs while the engine or its app falls behind. */
  overload?: OverloadGuard | undefined;
  /** The tenant of each listener, by listener id (read at each message: it is known once the listeners are open). */
  listenerTenant: (listenerId: string) => string | undefined;
  /** Retry-After (seconds) on the 503 a source over its rate or a shed INVITE gets; read at each (the engine's is a getter a reload changes). */
  readonly retryAfterSeconds: number;
  /**
   * The core's dialogs (core/edge-dialogs.ts): who may send in the dialog an in-dialog request names (`dialogPeer`;
   * a peer with no ends is not known, and its dialog's requests are judged as new ones), the count of the strays
   * answered 481 here (those that name none, and CANCELs for no INVITE), and of the requests refused here for coming
   * from neither their dialog's peer nor its tenant's sources. Absent: no check.
   */
  dialogs?: {
    dialogPeer?(request: SipRequest): DialogPeer | undefined;
    strayInDialog?(request: SipRequest, flow: Flow): void;
    dialogSourceRefused?(request: SipRequest, flow: Flow, tenant: string | undefined): void;
  };
  /** Where each refusal sent is told, for the CDR of a refused call (refusal-records.ts). */
  records?: RefusalReporter | undefined;
}

/** The Reason of the 403 an untrusted source gets. */
const UNTRUSTED_REASON = reasonHeader(403, 'untrusted source');
const RATE_REASON = reasonHeader(503, 'source over its request rate');
const OVERLOAD_REASON = reasonHeader(503, 'overloaded');
const NO_DIALOG_REASON = reasonHeader(481, 'no such dialog');
const NO_INVITE_REASON = reasonHeader(481, 'no such transaction');
const DIALOG_SOURCE_REASON = reasonHeader(403, 'not from the dialog\'s peer');

/**
 * The checks in front of the SIP core, in order: the trusted-source check (a new request from a source no tenant
 * trusts gets 403 with a Reason, or nothing; an admitted one carries the tenant that trusts it on its flow), then
 * the per-source request rate (503 with Retry-After and a Reason, or nothing), then overload control for new
 * INVITEs (the same 503, or nothing). All refuse statelessly: no transaction is made, no app is asked, and the
 * answers are bounded per second. Each refusal answered is told to `records`, which keeps the CDRs of new INVITEs; a
 * request dropped unanswered has no status to record and is only counted.
 *
 * An in-dialog request (To tag) that matches no dialog and no transaction is a stray: anyone can make one up, so it
 * gets no free pass. It is judged by the trusted-source check and charged to its source's rate as a new request
 * would be, then answered 481 with a Reason here, statelessly: no server transaction keeps it (and resends a 481
 * to an INVITE's claimed source ten times), so made-up dialogs cannot fill the transaction table. A CANCEL that
 * matches no INVITE server transaction, with a To tag or without, is such a stray too: it cancels nothing, and
 * each one let through made a transaction and a 481, unjudged and uncharged when it carried a To tag.
 *
 * An in-dialog request or ACK that names a dialog the core knows (by Call-ID and tags, which anyone who saw the call
 * may copy) must come from that dialog's peer (core/dialog-peer.ts: its address, its TCP/TLS connection, its
 * verified TLS identity; a proxied dialog's two ends) or from a source the dialog's tenant trusts (a carrier's
 * other nodes); when the dialog's peer is not known it is judged as a new request. Any other is refused here,
 * statelessly: 403 with a Reason, within the bound on 403s per source (an ACK dropped), counted in the core
 * (`dialogSourceRefused`, ERR_ENGINE_DIALOG_SOURCE): it never reaches the dialog, its app or its target.
 */
export function edgeGuard(user: TransportUser, deps: EdgeGuardDeps): TransportUser {
  const { trust, rate, overload, records } = deps;
  const reply = (request: SipRequest, flow: Flow, status: number, phrase: string, headers: SipHeader[]): void => {
    const res = buildResponse(request, status, phrase, { toTag: newTag(), headers });
    deps.transport.send(serializeMessage(res), responseTarget(request, flow)).catch(() => undefined);
  };
  // The header is built again only when a reload changed the value: refusals come in floods.
  let retryAfterHeader = header('Retry-After', String(deps.retryAfterSeconds));
  const retryAfter = (): SipHeader => {
    const s = String(deps.retryAfterSeconds);
    if (retryAfterHeader.value !== s) retryAfterHeader = header('Retry-After', s);
    return retryAfterHeader;
  };
  const dialogs = deps.dialogs;
  const peerOf = dialogs?.dialogPeer?.bind(dialogs);
  return {
    onMessage: (m, raw, flow) => {
      let admitted = flow;
      let judged = trust === undefined;
      const named = peerOf !== undefined && namesDialog(m, deps.transactions);
      const peer = named ? peerOf(m as SipRequest) : undefined;
      const stray = peerOf !== undefined && (named ? peer === undefined && (m as SipRequest).method !== 'ACK' : isStrayCancel(m, flow, deps.transactions));
      if (peer !== undefined && peer.ends.length > 0) {
        const tenant = fromDialogPeer(peer, flow) ? true : trust && trustingTenant(peer, flow, trust);
        if (tenant !== true) {
          const r = m as SipRequest;
          dialogs!.dialogSourceRefused?.(r, flow, tenant ?? peer.ends[0]?.tenant);
          if (r.method !== 'ACK' && (trust ? trust.refuseInDialog(flow) : 'reject') === 'reject') reply(r, flow, 403, 'Forbidden', [DIALOG_SOURCE_REASON]);
          return;
        }
        judged = true;
      } else if (trust) {
        const verdict = trust.judge(m, flow, flow.listenerId !== undefined ? deps.listenerTenant(flow.listenerId) : undefined, stray || peer !== undefined);
        if (!verdict.admit) {
          if (verdict.action === 'reject') {
            reply(m as SipRequest, flow, 403, 'Forbidden', [UNTRUSTED_REASON]);
            records?.refused(m as SipRequest, flow, 403, UNTRUSTED_REASON.value, 'ERR_ENGINE_UNTRUSTED_SOURCE', verdict.tenant);
          }
          return;
        }
        judged = verdict.tenant !== undefined;
        // A stream connection's flow is shared by its messages: the tenant goes on a copy.
        if (verdict.tenant !== undefined && flow.tenant !== verdict.tenant) admitted = { ...flow, tenant: verdict.tenant };
      }
      if (flow.connectionId !== undefined && earnsUse(m, judged, peerOf !== undefined)) deps.transport.markUsed(flow);
      const watched = (rate?.enabled === true || overload?.enabled === true) && (stray || chargeable(m, deps.transactions));
      if (watched && rate?.enabled) {
        const v = rate.take(flow);
        if (v !== 'admit') {
          if (v === 'reject') {
            reply(m as SipRequest, flow, 503, 'Service Unavailable', [retryAfter(), RATE_REASON]);
            records?.refused(m as SipRequest, admitted, 503, RATE_REASON.value, 'ERR_ENGINE_SOURCE_RATE');
          }
          return;
        }
      }
      if (stray) {
        deps.dialogs!.strayInDialog?.(m as SipRequest, flow);
        const reason = (m as SipRequest).method === 'CANCEL' ? NO_INVITE_REASON : NO_DIALOG_REASON;
        reply(m as SipRequest, flow, 481, 'Call/Transaction Does Not Exist', [reason]);
        return;
      }
      if (watched && overload?.enabled && (m as SipRequest).method === 'INVITE') {
        const v = overload.admitInvite(overload.watching ? viaKey(topViaText(m)) : undefined, flow.remoteAddress);
        if (v !== 'admit') {
          if (v === 'reject') {
            reply(m as SipRequest, flow, 503, 'Service Unavailable', [retryAfter(), OVERLOAD_REASON]);
            records?.refused(m as SipRequest, admitted, 503, OVERLOAD_REASON.value, 'ERR_ENGINE_OVERLOAD');
          }
          return;
        }
      }
      // The ACK of a 503 sent for a shed INVITE has no transaction to go to: it ends here.
      if (m.kind === 'request' && m.method === 'ACK' && overload?.watching && overload.absorbAck(viaKey(topViaText(m)))) return;
      user.onMessage(m, raw, admitted);
    },
  };
}

/**
 * Whether a request past the trust check earns its TCP/TLS connection the idle timeout (else the connection is closed
 * at the unused one): a request the check judged and admitted (every one when there is no check), or an in-dialog one
 * that matched a dialog or transaction. Never an ACK, or a CANCEL with a To tag for an INVITE under way: those pass
 * unjudged.
 */
function earnsUse(m: SipMessage, judged: boolean, dialogsChecked: boolean): boolean {
  if (m.kind !== 'request' || m.method === 'ACK') return false;
  return judged || (dialogsChecked && m.method !== 'CANCEL' && toTagOf(m) !== undefined);
}

/**
 * An in-dialog request (To tag; not CANCEL) with no server transaction yet, or an ACK with a To tag: it goes to the
 * dialog it names, if any (a retransmission goes to its own transaction).
 */
function namesDialog(m: SipMessage, transactions: TransactionLayer): m is SipRequest {
  if (m.kind !== 'request' || m.method === 'CANCEL' || toTagOf(m) === undefined) return false;
  return m.method === 'ACK' || !transactions.hasServerTransaction(m);
}

/**
 * A CANCEL with no server transaction yet (a retransmission goes to its own) that matches no INVITE server
 * transaction (§9.2) that came from where it comes from (src/sip/transaction/cancel-source.ts): one from elsewhere
 * is judged, charged and answered as a CANCEL for nothing. A CANCEL that matches goes on to the core, which matches
 * it the same way (network-cancel.ts).
 */
function isStrayCancel(m: SipMessage, flow: Flow, transactions: TransactionLayer): boolean {
  if (m.kind !== 'request' || m.method !== 'CANCEL') return false;
  return !transactions.hasServerTransaction(m) && transactions.findInviteServerTransaction(m, flow) === undefined;
}

/**
 * Whether a tenant of the dialog trusts `flow` (true), else the tenant it was judged by: each end's own (the
 * tenant its request was admitted for), or else the one whose sources have the end's address.
 */
function trustingTenant(peer: DialogPeer, flow: Flow, trust: SourceTrust): true | string | undefined {
  let judgedBy: string | undefined;
  for (const e of peer.ends) {
    const tenant = e.tenant ?? trust.tenantOf(e.address);
    if (tenant === undefined) continue;
    if (trust.trustedBy(tenant, flow)) return true;
    judgedBy ??= tenant;
  }
  return judgedBy;
}

/**
 * A request that would start something new: not a response, ACK or CANCEL, no To tag, and no server transaction of
 * its own yet (a retransmission is never charged twice).
 */
function chargeable(m: SipMessage, transactions: TransactionLayer): boolean {
  if (m.kind !== 'request' || m.method === 'ACK' || m.method === 'CANCEL') return false;
  return toTagOf(m) === undefined && !transactions.hasServerTransaction(m);
}
