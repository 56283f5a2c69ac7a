import type { SipHeader, SipRequest } from '../message/types.js';
import { cseqOf, header, headersNamed, topViaText } from '../message/index.js';

/**
 * The CANCEL for an INVITE this element sent (RFC 3261 §9.1). Send it with `TransactionLayer.sendRequest` to the
 * same target as the INVITE; it gets its own non-INVITE client transaction (same branch, method CANCEL).
 */
export function buildCancel(invite: SipRequest): SipRequest {
  const via = topViaText(invite);
  const cseq = cseqOf(invite);
  if (via === undefined || cseq === undefined) throw new TypeError('buildCancel: the INVITE lacks a Via or CSeq');
  const headers: SipHeader[] = [];
  // "A CANCEL constructed by a client MUST have only a single Via header field value matching the top Via value
  // in the request being cancelled." https://www.rfc-editor.org/rfc/rfc3261#section-9.1
  headers.push(header('Via', via));
  // "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request MUST be
  // identical to those in the request being cancelled, including tags."
  for (const name of ['from', 'to', 'call-id']) {
    const h = headersNamed(invite, name)[0];
    if (h) headers.push(h);
  }
  headers.push(header('CSeq', `${cseq.seq} CANCEL`));
  // "If the request being cancelled contains a Route header field, the CANCEL request MUST include that Route
  // header field's values."
  for (const h of headersNamed(invite, 'route')) headers.push(h);
  headers.push(header('Max-Forwards', '70'));
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, version: invite.version, headers, body: Buffer.alloc(0) };
}
