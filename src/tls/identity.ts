import type { PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { canonicalIp, isIpLiteral, normalizeDnsName, presentedNameMatches, sameIpAddress, wildcardCovers } from '../common/peer-name.js';
import { typedSan } from '../pki/inspect-certificate.js';
import { tlsError } from './errors.js';

/**
 * Identities of a TLS peer, typed as in `TlsPeerInfo.identities`: 'sip:host', 'dns:host', 'ip:addr',
 * and 'cn:name' only when the certificate has no subjectAltName.
 */
export type PeerIdentity = string;

export type CnSanValidate = 'none' | 'server' | 'client' | 'bidirectional';

export interface MatchOptions {
  /** `*.example.com` in a certificate matches one left-most label; off by default (RFC 5922 §7.2). */
  allowWildcard?: boolean;
}

/** The peer certificate as Node's `getPeerCertificate()` or `X509Certificate` gives it. */
export type PresentedCertificate = Pick<PeerCertificate, 'subject' | 'subjectaltname'> | X509Certificate;

const normalizeHost = normalizeDnsName;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * RFC 5922 §7.1: "If the scheme of the URI is not 'sip', then the implementation MUST NOT accept the value
 * as an identity. If the scheme of the URI value is 'sip', and the URI value that contains a userpart
 * (there is an '@'), the implementation MUST NOT accept the value as an identity." ... "If and only if the
 * subjectAltName does not appear in the certificate, the implementation MAY examine the CN field".
 * https://www.rfc-editor.org/rfc/rfc5922#section-7.1
 */
export function peerIdentities(cert: PresentedCertificate | undefined | null): PeerIdentity[] {
  if (!cert) return [];
  const san = cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname;
  const out: PeerIdentity[] = [];
  // An entry with control characters is no name (RFC 5280 §4.2.1.6: dNSName is LDH, a URI has none): never matched.
  for (const id of typedSan(san, { identitiesOnly: true })) {
    if (id.startsWith('sip:')) {
      const rest = id.slice(4);
      if (rest.includes('@')) continue;
      // host part only: drop ;params, ?headers and :port
      const host = rest.split(/[;?]/)[0]!.replace(/:\d+$/, '');
      out.push(`sip:${normalizeHost(host)}`);
    } else if (id.startsWith('dns:')) out.push(`dns:${normalizeHost(id.slice(4))}`);
    // One text per address (`ip:::1`, never `ip:0:0:0:0:0:0:0:1`), so identities compare and dedupe as addresses.
    else if (id.startsWith('ip:')) out.push(`ip:${canonicalIp(id.slice(3)) ?? id.slice(3)}`);
  }
  if (out.length > 0 || (san !== undefined && san !== '')) return dedupe(out);
  const cn = commonName(cert);
  return cn && !CONTROL.test(cn) ? [`cn:${normalizeHost(cn)}`] : [];
}

function commonName(cert: PresentedCertificate): string | undefined {
  const subject = (cert as { subject?: unknown }).subject;
  if (typeof subject === 'string') {
    for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
    return undefined;
  }
  const cn = (subject as Record<string, string | string[]> | undefined)?.['CN'];
  return Array.isArray(cn) ? cn[0] : cn;
}

function dedupe(a: string[]): string[] {
  return [...new Set(a)];
}

/** The host of a typed identity ('sip:h' → 'h'). */
export function identityHost(id: PeerIdentity): string {
  const i = id.indexOf(':');
  return i < 0 ? id : id.slice(i + 1);
}

/**
 * RFC 5922 §7.2 forbids wildcards; when a profile allows them (as carriers use them), only a whole
 * left-most label `*` matches, and it matches exactly one label: `*.example.com` matches
 * `a.example.com`, never `example.com` nor `a.b.example.com`; `*.com` and `f*.example.com` never match.
 * `expected` is a name we want, never a pattern; IP addresses compare as addresses (`::1` = `0:0:0:0:0:0:0:1`).
 * The rules are the policy's too (src/common/peer-name.ts).
 * https://www.rfc-editor.org/rfc/rfc5922#section-7.2
 */
export function hostMatches(presented: string, expected: string, opts: MatchOptions = {}): boolean {
  return presentedNameMatches(presented, expected, opts);
}

/**
 * The first presented identity matching the expected name, or undefined. An IP address is matched only
 * against `ip:` identities, as an address; names against `sip:`, `dns:` and (SAN-less certificates) `cn:`.
 * A `*.domain` expected entry (CUBE `cn-san *.domain`, only with allowWildcard) is a pattern for the peer's own
 * names; it never matches a presented wildcard (a wildcard in a certificate is no identity for a pattern).
 */
export function matchIdentity(presented: readonly PeerIdentity[], expected: string, opts: MatchOptions = {}): PeerIdentity | undefined {
  const wantIp = isIpLiteral(expected);
  for (const id of presented) {
    const isIpId = id.startsWith('ip:');
    if (wantIp !== isIpId) continue;
    const host = identityHost(id);
    if (wantIp) {
      if (sameIpAddress(host, expected)) return id;
      continue;
    }
    const pattern = normalizeHost(expected).startsWith('*.');
    if (pattern ? opts.allowWildcard === true && wildcardCovers(expected, host) : hostMatches(host, expected, opts)) return id;
  }
  return undefined;
}

/** The first (expected, presented) pair that matches, for any expected name in the list. */
export function matchAny(presented: readonly PeerIdentity[], expected: readonly string[], opts: MatchOptions = {}): { expected: string; presented: PeerIdentity } | undefined {
  for (const e of expected) {
    const m = matchIdentity(presented, e, opts);
    if (m) return { expected: e, presented: m };
  }
  return undefined;
}

export interface ServerIdentityOptions extends MatchOptions {
  /** The target's domain (the SIP URI host we connect for), when it is a name. */
  domain?: string;
  /** Further permitted identities (CUBE `cn-san`). */
  cnSan?: readonly string[];
}

/**
 * A `checkServerIdentity` for `tls.connect`. RFC 5922 §7.3: the client compares the domain it wanted with
 * the server's identities and "MUST NOT" go on when none matches. It fails closed: a certificate with no
 * identity, or no expected name at all, is a mismatch. The error carries `expected` and `presented`.
 * https://www.rfc-editor.org/rfc/rfc5922#section-7.3
 */
export function createCheckServerIdentity(opts: ServerIdentityOptions): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const expected = [...(opts.domain ? [opts.domain] : []), ...(opts.cnSan ?? [])];
  return (_hostname, cert) => {
    const presented = peerIdentities(cert);
    if (matchAny(presented, expected, opts)) return undefined;
    return tlsError('ERR_TLS_NAME_MISMATCH', `Certificate identity does not match requested domain: expected ${expected.join(', ') || '(none)'}, presented ${presented.join(', ') || '(none)'}`, {
      details: { expected, presented },
    });
  };
}

export type ClientIdentityResult =
  | { ok: true; identities: PeerIdentity[]; matched: PeerIdentity | undefined }
  | { ok: false; code: 'ERR_TLS_NAME_MISMATCH' | 'ERR_TLS_NO_CLIENT_CERT'; reason: string; expected: string[]; presented: PeerIdentity[] };

/**
 * Server side: a client's certificate against the profile's `cnSan` list (CUBE `cn-san validate client`).
 * With an empty list every verified client passes; with a list, one identity must match (fail closed).
 */
export function checkClientIdentity(cert: PresentedCertificate | undefined | null, cnSan: readonly string[], opts: MatchOptions = {}): ClientIdentityResult {
  const presented = peerIdentities(cert);
  const expected = [...cnSan];
  if (!cert || (!(cert instanceof X509Certificate) && Object.keys(cert).length === 0)) {
    return { ok: false, code: 'ERR_TLS_NO_CLIENT_CERT', reason: 'no client certificate', expected, presented };
  }
  if (expected.length === 0) return { ok: true, identities: presented, matched: undefined };
  const m = matchAny(presented, expected, opts);
  if (m) return { ok: true, identities: presented, matched: m.presented };
  return {
    ok: false,
    code: 'ERR_TLS_NAME_MISMATCH',
    reason: `No matching TLS Peer found for ${presented.join(', ') || '(no identities)'}`,
    expected,
    presented,
  };
}
