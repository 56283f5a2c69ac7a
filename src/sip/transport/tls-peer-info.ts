import type { TLSSocket, PeerCertificate } from 'node:tls';
import type { NegotiatedTls } from '../../tls/index.js';
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
 * Typed identities of a certificate. "If the subjectAltName extension is present, ... the implementation
 * MUST NOT use the CN" — the CN is reported only when there is no subjectAltName at all.
 * https://www.rfc-editor.org/rfc/rfc5922#section-7.1
 */
export function certificateIdentities(cert: Pick<PeerCertificate, 'subjectaltname' | 'subject'>): string[] {
  const san = cert.subjectaltname;
  if (san && san.length > 0) {
    const out: string[] = [];
    for (const entry of splitSubjectAltName(san)) {
      const colon = entry.indexOf(':');
      if (colon < 0) continue;
      const type = entry.slice(0, colon).trim();
      const value = unquote(entry.slice(colon + 1).trim());
      if (type === 'DNS') out.push(`dns:${value.toLowerCase()}`);
      else if (type === 'IP Address') out.push(`ip:${value.toLowerCase()}`);
      else if (type === 'URI' && /^sip:/i.test(value)) out.push(`sip:${value.slice(4)}`);
    }
    return out;
  }
  const cn = cert.subject?.CN;
  if (typeof cn === 'string' && cn.length > 0) return [`cn:${cn}`];
  if (Array.isArray(cn) && cn.length > 0) return (cn as string[]).map((n) => `cn:${n}`);
  return [];
}

/** Splits Node's "DNS:a, URI:\"sip:b,c\"" form at the commas outside double quotes. */
function splitSubjectAltName(san: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < san.length; i++) {
    const ch = san.charCodeAt(i);
    if (ch === 0x5c && quoted) i++;
    else if (ch === 0x22) quoted = !quoted;
    else if (ch === 0x2c && !quoted) {
      out.push(san.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(san.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}
