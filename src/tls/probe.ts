import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { leafFields, type RevocationPointers } from './cert-pointers.js';
import { CIPHER_SUITES, supportedCipherNames } from './cipher-names.js';
import type { TlsFailure } from './failure.js';
import type { CertificateRequestSeen } from './handshake-sniff.js';
import { peerIdentities } from './identity.js';
import { decodeStapledOcsp, type OcspReport } from './ocsp.js';
import { attempt, describeChain, type Attempt, type ProbedCertificate } from './probe-attempt.js';
import type { CompiledTlsProfile } from './profile-types.js';

export type { ProbedCertificate } from './probe-attempt.js';
export type { OcspReport } from './ocsp.js';
export type { RevocationPointers } from './cert-pointers.js';

/** The far end's CertificateRequest, as a TLS 1.2 handshake showed it (in the clear there, encrypted in TLS 1.3). */
export type CertificateRequestReport =
  | ({ state: 'sent'; version: string } & CertificateRequestSeen)
  | { state: 'not sent'; version: string }
  | { state: 'unknown'; reason: string };

export interface TlsProbeReport {
  target: string;
  sni: string | undefined;
  /** Which versions a handshake limited to each one completed with. */
  versions: Record<'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3', boolean>;
  /** The suites (of those this OpenSSL has) the far end accepted, each offered alone; OpenSSL names. */
  ciphers: { tls12: string[]; tls13: string[] };
  /** The chain the far end sent, its own certificate first. */
  chain: ProbedCertificate[];
  /** Its certificate's identities (RFC 5922 §7.1: SAN URI, DNS, IP; CN only without SAN). */
  identities: string[];
  /**
   * Whether it wants a client certificate: refused without one ('required'), asked for one and went on without
   * ('requested', seen over TLS 1.2 only), did not ask or did not refuse ('not required').
   */
  clientCertificate: 'required' | 'requested' | 'not required' | 'unknown';
  certificateRequest: CertificateRequestReport;
  /** The CAs it names for client certificates: [] when it names none (any CA) or asks for none; null when unknown. */
  clientCaNames: string[] | null;
  /** The OCSP response it stapled when asked for one, decoded. */
  ocsp: OcspReport;
  /** Where its certificate says revocation is published (not fetched). */
  revocation: RevocationPointers;
  /** The first handshake completed, then the far end sent an alert or closed the connection: why, as far as it said. */
  refusedAfterHandshake?: TlsFailure;
  /** The first handshake's failure when nothing at all completed. */
  unreachable?: TlsFailure;
  /** The verdict of a profile: it connects as the gateway would, name check, trust store and depth included. */
  profile?: { name: string; ok: boolean; version?: string; cipher?: string; failure?: TlsFailure };
}

export interface TlsProbeOptions {
  host: string;
  port: number;
  /** SNI to send; default the host when it is a name (never an address, RFC 6066 §3). */
  sni?: string;
  profile?: CompiledTlsProfile;
  timeoutMs?: number;
}

const askedFor = (a: Attempt): boolean => (a.ok ? a.refusedAfter?.reason : a.failure.reason) === 'no-client-certificate';

/** What the TLS 1.2 handshake's plaintext flight said about a CertificateRequest. */
function certificateRequestOf(a12: Attempt, tls13: boolean): CertificateRequestReport {
  const f = a12.flight;
  if (f?.problem) return { state: 'unknown', reason: `the far end's TLS 1.2 handshake could not be read: ${f.problem}` };
  if (f?.hello && f.certificateRequest) return { state: 'sent', version: f.hello.version, ...f.certificateRequest };
  if (f?.hello && f.done) return { state: 'not sent', version: f.hello.version };
  if (f?.hello) return { state: 'unknown', reason: `the far end's TLS 1.2 flight ended before its ServerHelloDone${a12.ok ? '' : `: ${a12.failure.detail}`}` };
  if (tls13) return { state: 'unknown', reason: 'the far end speaks TLS 1.3 only, where the certificate request is encrypted' };
  return { state: 'unknown', reason: `no TLS 1.2 handshake${a12.ok ? '' : `: ${a12.failure.detail}`}` };
}

const closedAfter = (a: Attempt): boolean => a.ok && a.refusedAfter !== undefined;

function clientCertificateOf(first: Attempt, a12: Attempt, cr: CertificateRequestReport): TlsProbeReport['clientCertificate'] {
  if (askedFor(first) || askedFor(a12)) return 'required';
  // It asked, and closed right after a handshake without one: the close is about the certificate.
  if (cr.state === 'sent') return closedAfter(first) || closedAfter(a12) ? 'required' : 'requested';
  // A close without an alert right after the handshake says something was refused, not what.
  if (first.ok) return first.refusedAfter === undefined ? 'not required' : 'unknown';
  return cr.state === 'not sent' ? 'not required' : 'unknown';
}

/** The stapled response (Node's, or the one a failed TLS 1.2 handshake showed) and the leaf's pointers. */
function revocationOf(first: Attempt, chainDer: Uint8Array[]): { ocsp: OcspReport; revocation: RevocationPointers } {
  const { x509 } = describeChain(chainDer);
  const leaf = x509[0];
  const fields = chainDer[0] ? leafFields(chainDer[0]) : { ocspUrls: [], crlUrls: [], fetched: false as const, problem: 'the far end sent no certificate' };
  const { issuerName, ...revocation } = fields;
  const issuer = leaf && x509[1] && leaf.checkIssued(x509[1]) ? x509[1] : undefined;
  const staple = first.ocsp ?? first.flight?.ocspStaple;
  const ocsp = staple ? decodeStapledOcsp(staple, leaf, issuerName, issuer) : { stapled: false };
  return { ocsp, revocation };
}

/**
 * What a TLS far end accepts, before a trunk is turned up: versions, suites, its chain and identities, whether it
 * wants a client certificate and from which CAs, its stapled OCSP status, and the verdict of a profile with the
 * exact rule that decides it.
 */
export async function probeTls(o: TlsProbeOptions): Promise<TlsProbeReport> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const sni = o.sni ?? (isIP(o.host) === 0 ? o.host : undefined);
  const base: ConnectionOptions = {
    host: o.host, port: o.port, rejectUnauthorized: false, ...(sni ? { servername: sni } : { servername: '' }),
  };
  const report: TlsProbeReport = {
    target: `${o.host}:${o.port}`, sni, versions: { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false },
    ciphers: { tls12: [], tls13: [] }, chain: [], identities: [], clientCertificate: 'unknown',
    certificateRequest: { state: 'unknown', reason: 'not probed' }, clientCaNames: null,
    ocsp: { stapled: false }, revocation: { ocspUrls: [], crlUrls: [], fetched: false },
  };
  const first = await attempt({ ...base, requestOCSP: true }, timeoutMs, { lingerMs: 300, record: true });
  // A handshake refused for want of a client certificate still showed the chain when it was TLS 1.2.
  const chainDer: Uint8Array[] = first.ok ? first.raw : first.flight?.certificates ?? [];
  if (first.ok) {
    report.chain = first.chain;
    report.identities = first.identities;
    if (first.refusedAfter) report.refusedAfterHandshake = first.refusedAfter;
  } else {
    const { chain, x509 } = describeChain(chainDer);
    report.chain = chain;
    report.identities = peerIdentities(x509[0]).map(String);
    report.unreachable = first.failure;
  }
  Object.assign(report, revocationOf(first, chainDer));
  // Old versions need OpenSSL's lowest security level even to be offered.
  let a12: Attempt | undefined;
  for (const v of ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const) {
    const legacy = v === 'TLSv1' || v === 'TLSv1.1';
    // TLS 1.2's handshake waits, like the first, for a close that follows it: its CertificateRequest explains one.
    const a = await attempt({ ...base, minVersion: v, maxVersion: v, ...(legacy ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}) }, timeoutMs,
      { record: v !== 'TLSv1.3', lingerMs: v === 'TLSv1.2' ? 300 : 0 });
    report.versions[v] = a.ok || a.failure.reason === 'no-client-certificate';
    if (v === 'TLSv1.2') a12 = a;
  }
  report.certificateRequest = certificateRequestOf(a12!, report.versions['TLSv1.3']);
  report.clientCaNames = report.certificateRequest.state === 'sent' ? report.certificateRequest.caNames
    : report.certificateRequest.state === 'not sent' ? [] : null;
  report.clientCertificate = clientCertificateOf(first, a12!, report.certificateRequest);
  const after = report.refusedAfterHandshake;
  if (after && report.clientCertificate === 'required' && after.reason !== 'no-client-certificate') {
    report.refusedAfterHandshake = { ...after, reason: 'no-client-certificate', detail: `${after.detail}; it asks for a client certificate (its TLS 1.2 CertificateRequest)` };
  }
  const supported = supportedCipherNames();
  for (const s of CIPHER_SUITES) {
    if (!supported.has(s.openssl.toUpperCase())) continue;
    if (s.tls13 ? !report.versions['TLSv1.3'] : !report.versions['TLSv1.2']) continue;
    const version = s.tls13 ? { minVersion: 'TLSv1.3' as const } : { maxVersion: 'TLSv1.2' as const };
    const a = await attempt({ ...base, ...version, ciphers: s.openssl }, timeoutMs, { record: !s.tls13 });
    // Refused for want of a client certificate: its ServerHello (TLS 1.2) names the suite it took.
    const taken = a.ok ? a.cipher.toUpperCase() === s.openssl.toUpperCase()
      : a.failure.reason === 'no-client-certificate' && (a.flight?.hello === undefined || a.flight.hello.cipher === s.code);
    if (taken) (s.tls13 ? report.ciphers.tls13 : report.ciphers.tls12).push(s.openssl);
  }
  if (o.profile) {
    const a = await attempt(o.profile.clientOptions({ address: o.host, port: o.port, ...(sni ? { domain: sni } : {}) }), timeoutMs, { lingerMs: 300 });
    const failure = a.ok ? a.refusedAfter : a.failure;
    report.profile = a.ok && !failure
      ? { name: o.profile.name, ok: true, version: a.version, cipher: a.cipher }
      : { name: o.profile.name, ok: false, ...(failure ? { failure } : {}) };
  }
  return report;
}
