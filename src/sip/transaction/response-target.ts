import type { SipRequest } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';
import { topVia } from './message-view.js';

/** Where a server transaction sends its responses (RFC 3261 §18.2.2 with RFC 3581 rport). */
export function responseTarget(request: SipRequest, flow: Flow): SendTarget {
  if (flow.protocol !== 'udp') {
    // "If the "sent-protocol" is a reliable transport protocol such as TCP or SCTP, or TLS over those, the
    // response MUST be sent using the existing connection to the source of the original request that created
    // the transaction, if that connection is still open."
    // https://www.rfc-editor.org/rfc/rfc3261#section-18.2.2
    const t: SendTarget = { protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort };
    if (flow.connectionId !== undefined) t.connectionId = flow.connectionId;
    return t;
  }
  const via = topVia(request);
  const sentByPort = via?.port ?? 5060;
  const maddr = via?.params.maddr;
  if (maddr) {
    // "Otherwise, if the Via header field value contains a "maddr" parameter, the response MUST be forwarded to
    // the address listed there, using the port indicated in "sent-by", or port 5060 if none is present."
    return { protocol: 'udp', address: maddr, port: sentByPort };
  }
  if (via && 'rport' in via.params) {
    // "the response MUST be sent to the IP address listed in the "received" parameter, and the port in the
    // "rport" parameter." https://www.rfc-editor.org/rfc/rfc3581#section-4
    return { protocol: 'udp', address: flow.remoteAddress, port: flow.remotePort };
  }
  // "Otherwise (for unreliable unicast transports), if the top Via has a "received" parameter, the response MUST
  // be sent to the address in the "received" parameter, using the port indicated in the "sent-by" value, or
  // using port 5060 if none is specified explicitly." (The source address is what "received" records.)
  return { protocol: 'udp', address: flow.remoteAddress, port: sentByPort };
}
