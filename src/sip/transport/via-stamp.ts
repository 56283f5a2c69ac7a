import { formatVia, listElementEnd, parseOneVia, type SipHeader, type Via } from '../message/index.js';
import { normalizeAddress } from './address.js';

/**
 * Stamps the top Via of a received request with where it really came from, by editing the header value (read
 * and written by the message toolkit's Via parser and serializer). Returns false when there is no usable top Via
 * (the request cannot be answered).
 *
 * "When the server transport receives a request over any transport, it MUST examine the value of the
 * "sent-by" parameter in the top Via header field value. If the host portion of the "sent-by" field contains
 * a domain name, or if it contains an IP address that differs from the packet source address, the server
 * MUST add a "received" parameter to that Via header field value."
 * https://www.rfc-editor.org/rfc/rfc3261#section-18.2.1
 *
 * "If this Via header field value contains an "rport" parameter with no value, it MUST set the value of the
 * parameter to the source port of the request. ... the server MUST insert a "received" parameter containing
 * the source IP address that the request came from, even if it is identical to the value of the "sent-by"
 * component."
 * https://www.rfc-editor.org/rfc/rfc3581#section-4
 */
export function stampTopVia(headers: SipHeader[], sourceAddress: string, sourcePort: number): boolean {
  let h: SipHeader | undefined;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]!.name === 'via') {
      h = headers[i];
      break;
    }
  }
  if (!h) return false;
  const value = h.value;
  const end = listElementEnd(value);
  const r = parseOneVia(value.slice(0, end));
  if (!r.ok) return false;
  const via = r.value;
  const rportEmpty = 'rport' in via.params && (via.params['rport'] === null || via.params['rport'] === '');
  // An existing received parameter is always rewritten with the truth; a client does not get to choose it.
  if (normalizeAddress(via.host) === sourceAddress && !rportEmpty && !('received' in via.params)) return true;
  // The parser's result is shared (parseOneVia): the stamped Via is a copy.
  const params = { ...via.params };
  if (rportEmpty) params['rport'] = String(sourcePort);
  params['received'] = sourceAddress;
  const stamped: Via = { protocolName: via.protocolName, protocolVersion: via.protocolVersion, transport: via.transport, host: via.host, params };
  if (via.port !== undefined) stamped.port = via.port;
  h.value = `${formatVia(stamped)}${value.slice(end)}`;
  return true;
}
