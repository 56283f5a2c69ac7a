import type { SipTransport } from './policy-types.js';

/** What the engine says about the peer that sent a request (X-Trunkgate-Peer). */
export interface PeerHeader {
  tenant?: string;
  /** True when the engine verified the peer's certificate chain. */
  verified: boolean;
  transport?: SipTransport;
  /** Certificate identities (`sip:h`, `dns:h`, `cn:h`, `ip:a`), in the certificate's order. */
  identities: string[];
  /** TLS only: the negotiated version (`TLSv1.3`) and suite, as the engine saw the handshake. */
  tlsVersion?: string;
  cipher?: string;
  /**
   * On a response: `engine` when the engine made it (a timeout or a transport failure), not the far end. On a
   * request: `proxy` when the identities are the ones a trusted proxy verified (a tenant's `proxyIdentity`).
   */
  origin?: 'engine' | 'proxy';
}

const TOKEN = /^[A-Za-z0-9._~+-]+$/;
const TLS_VERSION = /^(?:TLSv1(?:\.[0-3])?|SSLv3)$/;
const CIPHER = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_LENGTH = 4096;
const MAX_IDENTITIES = 64;

/** `name=value` pairs split at `;` outside double quotes; undefined when a quote is left open. */
function splitParams(text: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let cur = '';
  let quoted = false;
  const flush = () => {
    const s = cur.trim();
    cur = '';
    if (s === '') return;
    const eq = s.indexOf('=');
    out.push(eq < 0 ? [s.toLowerCase(), ''] : [s.slice(0, eq).trim().toLowerCase(), s.slice(eq + 1).trim()]);
  };
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) flush();
    else cur += ch;
  }
  if (quoted) return undefined;
  flush();
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/**
 * Parses X-Trunkgate-Peer defensively: anything it cannot read makes the whole header undefined, so a
 * garbled header never grants an identity. Unknown parameters are ignored (newer engines may add some).
 */
export function parsePeerHeader(value: string | undefined): PeerHeader | undefined {
  if (value === undefined || value.length > MAX_LENGTH) return undefined;
  const params = splitParams(value);
  if (!params || params.length === 0) return undefined;
  const out: PeerHeader = { verified: false, identities: [] };
  const seen = new Set<string>();
  for (const [name, raw] of params) {
    if (seen.has(name)) return undefined;
    seen.add(name);
    const v = unquote(raw);
    switch (name) {
      case 'tenant':
        if (!TOKEN.test(v)) return undefined;
        out.tenant = v;
        break;
      case 'verified':
        if (v !== '0' && v !== '1') return undefined;
        out.verified = v === '1';
        break;
      case 'transport': {
        const t = v.toLowerCase();
        if (t !== 'udp' && t !== 'tcp' && t !== 'tls') return undefined;
        out.transport = t;
        break;
      }
      case 'tls':
        if (!TLS_VERSION.test(v)) return undefined;
        out.tlsVersion = v;
        break;
      case 'cipher':
        if (!CIPHER.test(v)) return undefined;
        out.cipher = v;
        break;
      case 'origin':
        if (v !== 'engine' && v !== 'proxy') return undefined;
        out.origin = v;
        break;
      case 'identities': {
        const ids = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (ids.length > MAX_IDENTITIES || ids.some((s) => /[\s"<>]/.test(s))) return undefined;
        out.identities = ids;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Formats the header as the engine does (tests and fakes use it). */
export function formatPeerHeader(p: PeerHeader): string {
  const parts: string[] = [];
  if (p.tenant !== undefined) parts.push(`tenant=${p.tenant}`);
  parts.push(`verified=${p.verified ? 1 : 0}`);
  if (p.transport !== undefined) parts.push(`transport=${p.transport}`);
  if (p.tlsVersion !== undefined) parts.push(`tls=${p.tlsVersion}`);
  if (p.cipher !== undefined) parts.push(`cipher=${p.cipher}`);
  if (p.origin !== undefined) parts.push(`origin=${p.origin}`);
  if (p.identities.length > 0) parts.push(`identities="${p.identities.join(',')}"`);
  return parts.join(';');
}
