import type { TLSSocket, PeerCertificate } from 'node:tls';
import { peerIdentities, type NegotiatedTls } from '../../tls/index.js';
import type { TlsPeerInfo } from './types.js';

export type { NegotiatedTls };

/** What the caller already knows about a TLS connection, so that it is not read from the socket again. */
export interface TlsPeerExtra {
  profile?: string;
  tenant?: string;
  servername?: string;
  /** An accepted connection: Node reports the key-exchange group to clients only, so it is not asked. */
  inbound?: boolean;
  /** The verdict of an inbound check that read the peer's certificate already. */
  authorized?: boolean;
  identities?: string[];
  /** Version and suite, when an inbound check read them already. */
  negotiated?: NegotiatedTls;
}

/**
 * What a TLS socket negotiated and whom it talks to: version, suite (IANA name for TLS 1.3, OpenSSL name for
 * 1.2), key-exchange group where Node reports it, whether the chain verified, and the peer's identities.
 */
export function tlsPeerInfo(socket: TLSSocket, extra: TlsPeerExtra): TlsPeerInfo {
  const version = extra.negotiated?.version ?? socket.getProtocol() ?? 'unknown';
  const c = extra.negotiated ? extra.negotiated.cipher : (socket.getCipher() as NegotiatedTls['cipher']);
  const cipher = c ? (version === 'TLSv1.3' ? (c.standardName ?? c.name) : c.name) : 'unknown';
  let identities = extra.identities;
  if (identities === undefined) {
    const cert = socket.getPeerCertificate(false) as PeerCertificate | Record<string, never> | null;
    identities = cert && Object.keys(cert).length > 0 ? certificateIdentities(cert as PeerCertificate) : [];
  }
  const info: TlsPeerInfo = { version, cipher, authorized: extra.authorized ?? socket.authorized === true, identities };
  if (extra.inbound !== true) {
    const key = socket.getEphemeralKeyInfo?.() as { name?: string } | null | undefined;
    if (key && typeof key.name === 'string') info.group = key.name;
  }
  if (extra.profile !== undefined) info.profile = extra.profile;
  if (extra.tenant !== undefined) info.tenant = extra.tenant;
  if (extra.servername !== undefined) info.servername = extra.servername;
  return info;
}

/**
 * Typed identities of a certificate, for both directions: the ones the TLS layer's name checks read (peerIdentities,
 * RFC 5922 §7.1), so a connection never carries an identity its check did not see. The CN only without any
 * subjectAltName, and then the first CN only; names in their normal form; a `sip:` URI with a user part is no
 * identity. An INVITE over our own connection to a server whose certificate passed as `a.example` carries `a.example`
 * as verified, never a second CN beside it.
 * https://www.rfc-editor.org/rfc/rfc5922#section-7.1
 */
export function certificateIdentities(cert: Pick<PeerCertificate, 'subjectaltname' | 'subject'>): string[] {
  return peerIdentities(cert);
}
