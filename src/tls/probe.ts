import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { peerChain } from './chain-check.js';
import { CIPHER_SUITES, supportedCipherNames } from './cipher-names.js';
import { classifyTlsFailure, type TlsFailure } from './failure.js';
import { peerIdentities } from './identity.js';
import type { CompiledTlsProfile } from './profile.js';

/** One certificate the far end sent, as the probe reports it. */
export interface ProbedCertificate {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
}

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
  /** Whether a handshake without a client certificate was refused for want of one. */
  clientCertificate: 'required' | 'not required' | 'unknown';
  /** The first handshake completed, then the far end sent an alert or closed the connection: why, as far as it said. */
  refusedAfterHandshake?: TlsFailure;
  /** The first handshake's failure when nothing at all completed. */
  unreachable?: TlsFailure;
  /** The verdict of a profile: it connects as the gateway would, name check, trust store and depth included. */
  profile?: { name: string; ok: boolean; version?: string; cipher?: string; failure?: TlsFailure };
}

type Attempt =
  | { ok: true; version: string; cipher: string; chain: ProbedCertificate[]; identities: string[]; refusedAfter: TlsFailure | undefined }
  | { ok: false; failure: TlsFailure };

/**
 * One handshake, bounded in time; the socket is closed as soon as it is decided. With `lingerMs`, a completed
 * handshake waits that long for the alert a TLS 1.3 server sends only after the client has finished, when it
 * wanted a client certificate and got none or one it does not trust (`refusedAfter`).
 */
function attempt(opts: ConnectionOptions, timeoutMs: number, lingerMs = 0): Promise<Attempt> {
  return new Promise((resolve) => {
    const s = tls.connect(opts);
    let done: (Attempt & { ok: true }) | undefined;
    let linger: NodeJS.Timeout | undefined;
    const finish = (a: Attempt): void => {
      clearTimeout(timer);
      clearTimeout(linger);
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(a);
    };
    const closed = (): Attempt => (done
      ? { ...done, refusedAfter: classifyTlsFailure({ code: 'ECONNRESET', message: 'the far end closed the connection right after the handshake' }) }
      : { ok: false, failure: classifyTlsFailure({ code: 'ECONNRESET', message: 'closed by the far end' }) });
    const timer = setTimeout(() => finish({ ok: false, failure: classifyTlsFailure({ code: 'ETIMEDOUT', message: `no handshake in ${timeoutMs} ms` }) }), timeoutMs);
    s.once('secureConnect', () => {
      done = {
        ok: true, version: s.getProtocol() ?? '', cipher: s.getCipher()?.name ?? '', chain: chainOf(s),
        identities: peerIdentities(s.getPeerCertificate()).map(String), refusedAfter: undefined,
      };
      if (lingerMs === 0) finish(done);
      else linger = setTimeout(() => finish(done!), lingerMs);
    });
    s.on('error', (e) => finish(done ? { ...done, refusedAfter: classifyTlsFailure(e) } : { ok: false, failure: classifyTlsFailure(e) }));
    s.on('close', () => finish(closed()));
  });
}

function chainOf(socket: TLSSocket): ProbedCertificate[] {
  return peerChain(socket.getPeerCertificate(true)).map((c) => {
    const x = new X509Certificate(c.raw);
    return { subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(x.validTo).toISOString(), sha256: x.fingerprint256 };
  });
}

export interface TlsProbeOptions {
  host: string;
  port: number;
  /** SNI to send; default the host when it is a name (never an address, RFC 6066 §3). */
  sni?: string;
  profile?: CompiledTlsProfile;
  timeoutMs?: number;
}

/**
 * What a TLS far end accepts, before a trunk is turned up: versions, suites, its chain and identities, whether it
 * wants a client certificate, and the verdict of a profile with the exact rule that decides it.
 */
export async function probeTls(o: TlsProbeOptions): Promise<TlsProbeReport> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const sni = o.sni ?? (isIP(o.host) === 0 ? o.host : undefined);
  const base: ConnectionOptions = { host: o.host, port: o.port, rejectUnauthorized: false, ...(sni ? { servername: sni } : { servername: '' }) };
  const report: TlsProbeReport = {
    target: `${o.host}:${o.port}`, sni, versions: { 'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false },
    ciphers: { tls12: [], tls13: [] }, chain: [], identities: [], clientCertificate: 'unknown',
  };
  const first = await attempt(base, timeoutMs, 300);
  if (first.ok) {
    report.chain = first.chain;
    report.identities = first.identities;
    // A close without an alert right after the handshake says something was refused, not what.
    report.clientCertificate = first.refusedAfter === undefined ? 'not required'
      : first.refusedAfter.reason === 'no-client-certificate' ? 'required' : 'unknown';
    if (first.refusedAfter) report.refusedAfterHandshake = first.refusedAfter;
  } else {
    report.unreachable = first.failure;
    if (first.failure.reason === 'no-client-certificate') report.clientCertificate = 'required';
  }
  // Old versions need OpenSSL's lowest security level even to be offered.
  for (const v of ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const) {
    const legacy = v === 'TLSv1' || v === 'TLSv1.1';
    const a = await attempt({ ...base, minVersion: v, maxVersion: v, ...(legacy ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}) }, timeoutMs);
    report.versions[v] = a.ok || a.failure.reason === 'no-client-certificate';
  }
  const supported = supportedCipherNames();
  for (const s of CIPHER_SUITES) {
    if (!supported.has(s.openssl.toUpperCase())) continue;
    if (s.tls13 ? !report.versions['TLSv1.3'] : !report.versions['TLSv1.2']) continue;
    const version = s.tls13 ? { minVersion: 'TLSv1.3' as const } : { maxVersion: 'TLSv1.2' as const };
    const a = await attempt({ ...base, ...version, ciphers: s.openssl }, timeoutMs);
    if (a.ok ? a.cipher.toUpperCase() === s.openssl.toUpperCase() : a.failure.reason === 'no-client-certificate') {
      (s.tls13 ? report.ciphers.tls13 : report.ciphers.tls12).push(s.openssl);
    }
  }
  if (o.profile) {
    const a = await attempt(o.profile.clientOptions({ address: o.host, port: o.port, ...(sni ? { domain: sni } : {}) }), timeoutMs, 300);
    const failure = a.ok ? a.refusedAfter : a.failure;
    report.profile = a.ok && !failure
      ? { name: o.profile.name, ok: true, version: a.version, cipher: a.cipher }
      : { name: o.profile.name, ok: false, ...(failure ? { failure } : {}) };
  }
  return report;
}
