import { topViaOf } from '../message/index.js';
import type { SipRequest } from '../message/types.js';
import type { Flow, SendTarget } from '../transport/types.js';

/** Where a server transaction sends its responses (RFC 3261 §18.2.2 with RFC 3581 rport). */
export function responseTarget(request: SipRequest, flow: Flow): SendTarget {
  if (flow.protocol !== 'udp') {
    // "If the "sent-protocol" is a reliable transport protocol such as TCP or SCTP, or TLS over those, the
    // response MUST be sent using the existing connection to the source of the original request that created
    // the transaction, if that connection is still open."
    // "If that connection is no longer open, the server SHOULD open a connection to the IP address in the
    // received parameter, if present, using the port in the sent-by value, or the default port for that transport, if no port is specified":
    // the connection's source port is the client's ephemeral one, where nothing listens once it is closed
    // (src/sip/transport/stream-connector.ts connects to the port here when the connection is gone).
    // https://www.rfc-editor.org/rfc/rfc3261#section-18.2.2
    const port = topViaOf(request)?.port ?? (flow.protocol === 'tls' ? 5061 : 5060);
    const t: SendTarget = { protocol: flow.protocol, address: flow.remoteAddress, port };
    if (flow.connectionId !== undefined) t.connectionId = flow.connectionId;
    return t;
  }
  // Responses over UDP go back to the address and port the request came from, whether or not the client asked
  // with rport (RFC 3581 §4 symmetric response): the Via is the sender's claim, the packet's source is not. A
  // "maddr" in the top Via is not followed (RFC 3261 §18.2.2 would send the response there), so a forged request
  // cannot turn the gateway's responses and their retransmissions on a third party.
  // "The response MUST be sent from the same address and port that the corresponding request was received on":
  // the listener the request came in on, so a gateway with several UDP listeners (a tenant's own port) answers
  // from the port the peer and its NAT or firewall expect.
  // https://www.rfc-editor.org/rfc/rfc3581#section-4
  const t: SendTarget = { protocol: 'udp', address: flow.remoteAddress, port: flow.remotePort };
  if (flow.listenerId !== undefined) t.listenerId = flow.listenerId;
  return t;
}
