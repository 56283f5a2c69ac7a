import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import { cseqOf, header, headersNamed, topViaText } from '../message/index.js';

/** The ACK an INVITE client transaction sends for a 300-699 response (RFC 3261 §17.1.1.3). */
export function buildAck(invite: SipRequest, response: SipResponse): SipRequest {
  const via = topViaText(invite);
  const cseq = cseqOf(invite);
  if (via === undefined || cseq === undefined) throw new TypeError('buildAck: the INVITE lacks a Via or CSeq');
  const headers: SipHeader[] = [];
  // "The ACK MUST contain a single Via header field, and this MUST be equal to the top Via header field of the
  // original request." https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.3
  headers.push(header('Via', via));
  // "The ACK request constructed by the client transaction MUST contain values for the Call-ID, From, and
  // Request-URI that are equal to the values of those header fields in the request passed to the transport by
  // the client transaction"
  const from = headersNamed(invite, 'from')[0];
  if (from) headers.push(from);
  // "The To header field in the ACK MUST equal the To header field in the response being acknowledged"
  const to = headersNamed(response, 'to')[0] ?? headersNamed(invite, 'to')[0];
  if (to) headers.push(to);
  const callId = headersNamed(invite, 'call-id')[0];
  if (callId) headers.push(callId);
  // "The CSeq header field in the ACK MUST contain the same value for the sequence number as was present in the
  // original request, but the method parameter MUST be equal to "ACK"."
  headers.push(header('CSeq', `${cseq.seq} ACK`));
  // "If the INVITE request whose response is being acknowledged had Route header fields, those header fields MUST
  // appear in the ACK."
  for (const h of headersNamed(invite, 'route')) headers.push(h);
  headers.push(header('Max-Forwards', '70'));
  return { kind: 'request', method: 'ACK', uri: invite.uri, version: invite.version, headers, body: Buffer.alloc(0) };
}
