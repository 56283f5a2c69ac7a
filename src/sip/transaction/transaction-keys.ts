import type { CSeq, SipRequest, Via } from '../message/types.js';
import { callIdOf, cseqOf, fromTagOf, sentByOf, topViaText } from '../message/index.js';
import { MAGIC_COOKIE } from './new-branch.js';

// The keys the transaction layer (transaction-layer.ts) finds its transactions by (RFC 3261 §17.1.3, §17.2.3).

export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

export function isRfc3261Branch(via: Via): boolean {
  const b = via.params.branch;
  return typeof b === 'string' && b.startsWith(MAGIC_COOKIE);
}

/**
 * §17.2.3: with a magic-cookie branch, branch + sent-by + method (ACK counts as INVITE); otherwise the RFC 2543
 * fields: Request-URI, To tag, From tag, Call-ID, CSeq and the top Via.
 */
export function serverKey(req: SipRequest, via: Via, cseq: CSeq, method: string, toTag: string | undefined): string {
  if (isRfc3261Branch(via)) {
    // "1. the branch parameter in the request is equal to the one in the top Via header field of the request that
    // created the transaction, and 2. the sent-by value in the top Via of the request is equal to the one in the
    // request that created the transaction, and 3. the method of the request matches the one that created the
    // transaction, except for ACK, where the method of the request that created the transaction is INVITE."
    return `3261|${via.params.branch}|${sentByOf(via)}|${method}`;
  }
  // "The INVITE request matches a transaction if the Request-URI, To tag, From tag, Call-ID, CSeq, and top Via
  // header field match those of the INVITE request which created the transaction."
  return `2543|${req.uri}|${toTag ?? ''}|${fromTagOf(req) ?? ''}|${callIdOf(req) ?? ''}|${cseq.seq}|${method}|${topViaText(req)}`;
}

/**
 * Call-ID, CSeq number, From tag and To tag: an INVITE with the To tag of the 2xx sent to it, and the ACK for that
 * 2xx. The To tag is the one part a stray ACK cannot copy from the INVITE: without it, anyone who saw the INVITE
 * could stop our 2xx retransmission with an ACK for a dialog that does not exist, and its ACK timeout with it.
 */
export function ackKey(req: SipRequest, toTag: string | undefined): string | undefined {
  const callId = callIdOf(req);
  const cseq = cseqOf(req);
  if (callId === undefined || cseq === undefined) return undefined;
  return `${callId}|${cseq.seq}|${fromTagOf(req) ?? ''}|${toTag ?? ''}`;
}
