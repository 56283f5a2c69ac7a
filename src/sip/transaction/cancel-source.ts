import type { Flow, TlsPeerInfo } from '../transport/types.js';

/**
 * Whether a CANCEL came from where the INVITE it matches (§9.2) came from. A CANCEL is hop by hop: "the CANCEL
 * request [...] must be sent to the same address, port, and transport as the original request"
 * (https://www.rfc-editor.org/rfc/rfc3261#section-9.1), so only the previous hop that sent the INVITE may cancel
 * it, not whoever learnt its branch and Call-ID. Always the same transport protocol and the same remote address;
 * over UDP any port of it (a client may send from another socket); over TCP the same connection; over TLS the
 * same connection, or another one (a reconnect) whose verified peer identities and tenant are the INVITE's.
 */
export function cancelFromInviteSource(invite: Flow, cancel: Flow): boolean {
  if (cancel.protocol !== invite.protocol || cancel.remoteAddress !== invite.remoteAddress) return false;
  if (cancel.protocol === 'udp') return true;
  if (cancel.connectionId !== undefined && cancel.connectionId === invite.connectionId) return true;
  return cancel.protocol === 'tls' && sameVerifiedPeer(invite.tls, cancel.tls);
}

/** Both ends verified (a certificate the profile's trust store accepted), with the same identities and tenant. */
function sameVerifiedPeer(a: TlsPeerInfo | undefined, b: TlsPeerInfo | undefined): boolean {
  if (a?.authorized !== true || b?.authorized !== true || a.tenant !== b.tenant) return false;
  const x = new Set(a.identities);
  const y = new Set(b.identities);
  return x.size > 0 && x.size === y.size && [...x].every((i) => y.has(i));
}
