import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { tlsError } from './errors.js';
import { verifyCertificateChain } from '../pki/verify-chain.js';

/**
 * Whether the chain a peer presented reaches one of our trusted CAs (its dates aside). Used to tell a stranger's
 * chain from a revocation problem when OpenSSL, with a CRL loaded, reports only its last verify error.
 */
export function chainReachesTrustStore(socket: TLSSocket, trusted: string[], now: Date): boolean {
  return presentedChainReaches(socket.getPeerCertificate(true), trusted, now);
}

/**
 * The chain Node hands over for a peer, its own certificate first: followed through `issuerCertificate` until an
 * empty object, a missing link or the self-issued root (which Node links to itself, and which is listed once).
 */
export function peerChain(leaf: DetailedPeerCertificate | null | undefined): DetailedPeerCertificate[] {
  const out: DetailedPeerCertificate[] = [];
  let c = leaf;
  while (c && Object.keys(c).length > 0 && !out.includes(c)) {
    out.push(c);
    c = c.issuerCertificate;
  }
  return out;
}

function presentedChainReaches(leaf: DetailedPeerCertificate | undefined, trusted: string[], now: Date): boolean {
  const chain = peerChain(leaf).filter((c) => c.raw).map((c) => new X509Certificate(c.raw).toString());
  if (chain.length === 0) return false;
  const r = verifyCertificateChain({ certPem: chain[0]!, chainPems: chain.slice(1), trustedPems: trusted, now });
  return r.ok || (r.code !== 'ERR_PKI_CHAIN_INCOMPLETE' && r.code !== 'ERR_PKI_SIGNATURE_INVALID');
}

/**
 * With a CRL loaded, Node has OpenSSL check revocation for the whole chain and keeps only the last verify error: a
 * server whose chain ends in a root we do not trust is reported UNABLE_TO_GET_CRL (no CRL from its issuer), which
 * reads as revoked. The chain is gone once Node has refused the socket, so it is read when the handshake finishes,
 * before Node's own check: when it does not reach the trust store, the error says so (unknown CA), as on listeners.
 */
export function explainMissingCrl(socket: TLSSocket, trusted: string[]): void {
  let presented: DetailedPeerCertificate | undefined;
  // 'secure' is the event Node's client runs its own verdict on (onConnectSecure); ours runs first and only keeps
  // the chain Node already built; it is checked only if the handshake is then refused for a missing CRL.
  socket.prependOnceListener('secure', () => {
    presented = socket.getPeerCertificate(true);
  });
  socket.prependOnceListener('error', (e: Error & { code?: string }) => {
    if (e.code !== 'UNABLE_TO_GET_CRL' || !presented) return;
    let stranger: boolean;
    try {
      stranger = !presentedChainReaches(presented, trusted, new Date());
    } catch {
      stranger = false;
    }
    if (stranger) {
      e.code = 'UNABLE_TO_GET_ISSUER_CERT';
      e.message = `unable to get issuer certificate: the server's chain does not reach the trust store (OpenSSL said: ${e.message})`;
    }
  });
}

/** How many CA certificates stand above the peer's own in the chain Node verified (the trust anchor included). */
export function chainCaCount(cert: DetailedPeerCertificate | null | undefined): number {
  return Math.max(0, peerChain(cert).length - 1);
}

/** Why a peer's chain is too deep for `max` CAs above its certificate; undefined when it is not. */
export function chainDepthProblem(cert: DetailedPeerCertificate | null | undefined, max: number): string | undefined {
  const n = chainCaCount(cert);
  return n > max ? `the peer's chain has ${n} CA certificates above its own, more than maxChainDepth ${max}` : undefined;
}

/** Wraps an outbound name check with the chain-depth check: Node passes it the verified chain. */
export function withDepthCheck(
  max: number,
  check: (hostname: string, cert: PeerCertificate) => Error | undefined,
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  return (hostname, cert) => {
    const problem = chainDepthProblem(cert as DetailedPeerCertificate, max);
    if (problem) return tlsError('ERR_TLS_CHAIN_DEPTH', problem, { details: { maxChainDepth: max } });
    return check(hostname, cert);
  };
}
