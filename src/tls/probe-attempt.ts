/**
 * One handshake of `trunkgate tls probe`, on a socket whose bytes from the far end are also recorded (the first
 * FLIGHT_RECORD_LIMIT of them), so that the plaintext part of a TLS 1.2 handshake (ServerHello, CertificateRequest)
 * can be read afterwards. Node's TLS socket reads a net.Socket's handle directly, so the recording sits in a Duplex
 * between the two.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { peerChain } from './chain-check.js';
import { classifyTlsFailure, type TlsFailure } from './failure.js';
import { FLIGHT_RECORD_LIMIT, readServerFlight, type ServerFlight } from './handshake-sniff.js';
import { peerIdentities } from './identity.js';

/** One certificate the far end sent, as the probe reports it. */
export interface ProbedCertificate {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
}

export type Attempt =
  | {
    ok: true; version: string; cipher: string; chain: ProbedCertificate[]; identities: string[]; refusedAfter: TlsFailure | undefined;
    /** The DER of the chain, its own certificate first. */
    raw: Buffer[];
    /** The stapled OCSP response (with `requestOCSP`), null when the far end stapled none. */
    ocsp: Buffer | null | undefined;
    flight?: ServerFlight;
  }
  | { ok: false; failure: TlsFailure; ocsp: Buffer | null | undefined; flight?: ServerFlight };

interface Tap {
  duplex: Duplex;
  recorded(): Buffer;
  destroy(): void;
}

/** A Duplex over a new TCP connection, keeping the first `limit` bytes the far end sends. */
function tappedConnection(host: string, port: number, limit: number): Tap {
  const raw = net.connect({ host, port });
  const chunks: Buffer[] = [];
  let kept = 0;
  const duplex = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      raw.write(chunk, cb);
    },
    final(cb) {
      raw.end();
      cb();
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  raw.on('data', (d: Buffer) => {
    if (kept < limit) {
      chunks.push(d.subarray(0, limit - kept));
      kept += Math.min(d.length, limit - kept);
    }
    if (!duplex.push(d)) raw.pause();
  });
  raw.on('end', () => duplex.push(null));
  // The TLS socket hears of the error through its own listener; this one only keeps a late one from being unhandled.
  duplex.on('error', () => undefined);
  raw.on('error', (e) => duplex.destroy(e));
  return { duplex, recorded: () => Buffer.concat(chunks), destroy: () => raw.destroy() };
}

/** Certificates as the report shows them; one that does not decode ends the list (what follows cannot be placed). */
export function describeChain(raw: Uint8Array[]): { chain: ProbedCertificate[]; x509: X509Certificate[] } {
  const x509: X509Certificate[] = [];
  for (const der of raw) {
    try {
      x509.push(new X509Certificate(Buffer.from(der)));
    } catch {
      break;
    }
  }
  const chain = x509.map((x) => ({
    subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(), sha256: x.fingerprint256,
  }));
  return { chain, x509 };
}

function chainOf(socket: TLSSocket): { chain: ProbedCertificate[]; raw: Buffer[] } {
  const raw = peerChain(socket.getPeerCertificate(true)).filter((c) => c.raw).map((c) => c.raw);
  return { raw, chain: describeChain(raw).chain };
}

function flightOf(tap: Tap | undefined): ServerFlight | undefined {
  if (!tap) return undefined;
  try {
    return readServerFlight(tap.recorded());
  } catch (e) {
    return { done: false, encrypted: false, problem: `the far end's bytes could not be read: ${(e as Error).message}` };
  }
}

/**
 * A TLS 1.2 far end that sent a CertificateRequest and then ended the handshake (an alert, often handshake_failure,
 * or a bare close) did so for want of a client certificate: the recorded flight shows it asked. A handshake that we
 * ended ourselves (a bad signature, a suite we did not offer) or that timed out is left as it was.
 */
function explain(failure: TlsFailure, flight: ServerFlight | undefined): TlsFailure {
  if (!flight?.hello || !flight.certificateRequest || failure.reason === 'no-client-certificate') return failure;
  if (!failure.peerReported && failure.code !== 'ECONNRESET' && failure.code !== 'EPIPE') return failure;
  return {
    ...failure, reason: 'no-client-certificate',
    detail: `it asked for a client certificate (CertificateRequest over ${flight.hello.version}) and ended the handshake without one: ${failure.detail}`,
  };
}

/**
 * One handshake, bounded in time; the socket is closed as soon as it is decided. With `lingerMs`, a completed
 * handshake waits that long for the alert a TLS 1.3 server sends only after the client has finished, when it
 * wanted a client certificate and got none or one it does not trust (`refusedAfter`). With `record`, the far end's
 * bytes are kept and its first flight read (`flight`).
 */
export function attempt(opts: ConnectionOptions & { requestOCSP?: boolean }, timeoutMs: number, o: { lingerMs?: number; record?: boolean } = {}): Promise<Attempt> {
  const lingerMs = o.lingerMs ?? 0;
  return new Promise((resolve) => {
    const tap = o.record ? tappedConnection(opts.host ?? 'localhost', opts.port ?? 0, FLIGHT_RECORD_LIMIT) : undefined;
    let ocsp: Buffer | null | undefined;
    const s = tls.connect(tap ? { ...opts, socket: tap.duplex } : opts);
    let done: (Attempt & { ok: true }) | undefined;
    let linger: NodeJS.Timeout | undefined;
    const finish = (a: Attempt): void => {
      clearTimeout(timer);
      clearTimeout(linger);
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      tap?.destroy();
      const flight = flightOf(tap);
      resolve(a.ok ? { ...a, ...(flight ? { flight } : {}) } : { ok: false, failure: explain(a.failure, flight), ocsp, ...(flight ? { flight } : {}) });
    };
    const closed = (): Attempt => (done
      ? { ...done, refusedAfter: classifyTlsFailure({ code: 'ECONNRESET', message: 'the far end closed the connection right after the handshake' }) }
      : { ok: false, failure: classifyTlsFailure({ code: 'ECONNRESET', message: 'closed by the far end' }), ocsp });
    const timer = setTimeout(() => finish({ ok: false, failure: classifyTlsFailure({ code: 'ETIMEDOUT', message: `no handshake in ${timeoutMs} ms` }), ocsp }), timeoutMs);
    s.on('OCSPResponse', (r: Buffer | null | undefined) => {
      ocsp = r && r.length > 0 ? r : null;
    });
    s.once('secureConnect', () => {
      done = {
        ok: true, version: s.getProtocol() ?? '', cipher: s.getCipher()?.name ?? '', ...chainOf(s),
        identities: peerIdentities(s.getPeerCertificate()).map(String), refusedAfter: undefined, ocsp,
      };
      if (lingerMs === 0) finish(done);
      else linger = setTimeout(() => finish(done!), lingerMs);
    });
    s.on('error', (e) => finish(done ? { ...done, refusedAfter: classifyTlsFailure(e) } : { ok: false, failure: classifyTlsFailure(e), ocsp }));
    // Read (and drop) what comes, so that the far end's end of the stream is seen: a close after the handshake.
    s.resume();
    s.on('end', () => finish(closed()));
    s.on('close', () => finish(closed()));
  });
}
