/**
 * Reads a TLS far end's first flight from the bytes it sent, which Node does not expose: up to TLS 1.2 the handshake
 * before ChangeCipherSpec is in the clear, so its ServerHello (version, suite) and CertificateRequest (RFC 5246
 * §7.4.4: certificate types, signature algorithms, the CA names it accepts) can be read. From TLS 1.3 on, all
 * after the ServerHello is encrypted (RFC 8446 §2), and this says so.
 *
 * Bounded: the caller records at most FLIGHT_RECORD_LIMIT bytes, every length is checked against what remains, and
 * each byte is looked at a fixed number of times. A far end that breaks the rules gets `problem`, never an exception.
 */
import { decodeName, printable } from './der.js';

export const FLIGHT_RECORD_LIMIT = 64 * 1024;

export interface CertificateRequestSeen {
  /** ClientCertificateType names (RFC 5246 §7.4.4, RFC 8422 §5.5), or the number. */
  certificateTypes: string[];
  /** SignatureScheme names (RFC 8446 §4.2.3), or 0xHHHH; empty before TLS 1.2, which has none. */
  signatureAlgorithms: string[];
  /** The CAs it names, as `C=.., O=.., CN=..`; empty: any CA (RFC 5246 §7.4.4). */
  caNames: string[];
}

export interface ServerFlight {
  /** The far end's ServerHello: the version it chose (supported_versions for TLS 1.3) and its suite ("0xC0,0x2B"). */
  hello?: { version: string; cipher: string };
  /** Its Certificate message: the DER of each certificate, its own first (RFC 5246 §7.4.2). */
  certificates?: Uint8Array[];
  /** Its CertificateStatus: a stapled OCSPResponse's DER (RFC 6066 §8). */
  ocspStaple?: Uint8Array;
  certificateRequest?: CertificateRequestSeen;
  /** ServerHelloDone was read: the whole flight was in the clear, and a CertificateRequest would be in it. */
  done: boolean;
  /** What followed was encrypted (TLS 1.3 after its ServerHello, or a ChangeCipherSpec: a resumed session). */
  encrypted: boolean;
  /** A plaintext alert the far end sent before the flight ended. */
  alert?: { fatal: boolean; description: number };
  /** Why the bytes are not a TLS server's flight. */
  problem?: string;
}

class FlightError extends Error {}

const VERSIONS: Record<number, string> = { 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };
const CERT_TYPES: Record<number, string> = {
  1: 'rsa_sign', 2: 'dss_sign', 3: 'rsa_fixed_dh', 4: 'dss_fixed_dh', 64: 'ecdsa_sign', 65: 'rsa_fixed_ecdh', 66: 'ecdsa_fixed_ecdh',
};
const SCHEMES: Record<number, string> = {
  0x0201: 'rsa_pkcs1_sha1', 0x0203: 'ecdsa_sha1', 0x0301: 'rsa_pkcs1_sha224', 0x0303: 'ecdsa_sha224',
  // TLS 1.2's DSA pairs (RFC 5246 §7.4.1.4.1: hash, then signature 2 = dsa).
  0x0202: 'dsa_sha1', 0x0302: 'dsa_sha224', 0x0402: 'dsa_sha256', 0x0502: 'dsa_sha384', 0x0602: 'dsa_sha512',
  0x0401: 'rsa_pkcs1_sha256', 0x0501: 'rsa_pkcs1_sha384', 0x0601: 'rsa_pkcs1_sha512',
  0x0403: 'ecdsa_secp256r1_sha256', 0x0503: 'ecdsa_secp384r1_sha384', 0x0603: 'ecdsa_secp521r1_sha512',
  0x0804: 'rsa_pss_rsae_sha256', 0x0805: 'rsa_pss_rsae_sha384', 0x0806: 'rsa_pss_rsae_sha512', 0x0807: 'ed25519', 0x0808: 'ed448',
  0x0809: 'rsa_pss_pss_sha256', 0x080a: 'rsa_pss_pss_sha384', 0x080b: 'rsa_pss_pss_sha512',
  0x081a: 'ecdsa_brainpoolP256r1tls13_sha256', 0x081b: 'ecdsa_brainpoolP384r1tls13_sha384', 0x081c: 'ecdsa_brainpoolP512r1tls13_sha512',
};
/** RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';
const SUPPORTED_VERSIONS = 43;

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** A cursor over [pos, end) whose every read is checked against `end`. */
class Reader {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}
  get left(): number {
    return this.end - this.pos;
  }
  take(n: number, what: string): number {
    if (n > this.left) throw new FlightError(`${what}: ${n} bytes announced, ${this.left} remain`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  uint(n: 1 | 2 | 3, what: string): number {
    const at = this.take(n, what);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[at + i]!;
    return v;
  }
  /** A vector with an n-byte length: a Reader over its content. */
  vector(n: 1 | 2 | 3, what: string): Reader {
    const len = this.uint(n, `${what} length`);
    return new Reader(this.buf, this.take(len, what), this.pos);
  }
  finished(what: string): void {
    if (this.left !== 0) throw new FlightError(`${this.left} bytes after ${what}`);
  }
}

function serverHello(r: Reader): { version: string; cipher: string; retry: boolean } {
  let version = r.uint(2, 'ServerHello version');
  const random = Buffer.from(r.buf.subarray(r.take(32, 'ServerHello random'), r.pos)).toString('hex');
  const session = r.vector(1, 'ServerHello session id');
  if (session.left > 32) throw new FlightError(`ServerHello session id of ${session.left} bytes (at most 32)`);
  const suite = r.uint(2, 'ServerHello cipher suite');
  r.take(1, 'ServerHello compression');
  if (r.left > 0) {
    const exts = r.vector(2, 'ServerHello extensions');
    r.finished('the ServerHello extensions');
    while (exts.left > 0) {
      const type = exts.uint(2, 'extension type');
      const body = exts.vector(2, `extension ${type}`);
      if (type === SUPPORTED_VERSIONS) {
        version = body.uint(2, 'supported_versions');
        body.finished('supported_versions');
      }
    }
  }
  const cipher = `0x${(suite >> 8).toString(16).toUpperCase().padStart(2, '0')},0x${(suite & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
  return { version: VERSIONS[version] ?? hex4(version), cipher, retry: random === HRR_RANDOM };
}

function certificateRequest(r: Reader, tls12: boolean): CertificateRequestSeen {
  const types = r.vector(1, 'certificate_types');
  if (types.left === 0) throw new FlightError('CertificateRequest with no certificate type (at least one)');
  const certificateTypes: string[] = [];
  while (types.left > 0) {
    const t = types.uint(1, 'certificate type');
    certificateTypes.push(CERT_TYPES[t] ?? String(t));
  }
  const signatureAlgorithms: string[] = [];
  if (tls12) {
    const algs = r.vector(2, 'supported_signature_algorithms');
    if (algs.left < 2 || algs.left % 2 !== 0) throw new FlightError(`supported_signature_algorithms of ${algs.left} bytes (even, at least 2)`);
    while (algs.left > 0) {
      const s = algs.uint(2, 'signature algorithm');
      signatureAlgorithms.push(SCHEMES[s] ?? hex4(s));
    }
  }
  const cas = r.vector(2, 'certificate_authorities');
  r.finished('the CertificateRequest');
  const caNames: string[] = [];
  while (cas.left > 0) {
    const dn = cas.vector(2, `CA name ${caNames.length + 1}`);
    if (dn.left === 0) throw new FlightError(`CA name ${caNames.length + 1} is empty (at least 1 byte)`);
    try {
      caNames.push(decodeName(dn.buf.subarray(dn.pos, dn.end)));
    } catch (e) {
      throw new FlightError(`CA name ${caNames.length + 1} is not a DER name: ${(e as Error).message}`);
    }
  }
  return { certificateTypes, signatureAlgorithms, caNames };
}

function certificateList(r: Reader): Uint8Array[] {
  const list = r.vector(3, 'certificate_list');
  r.finished('the Certificate message');
  const out: Uint8Array[] = [];
  while (list.left > 0) {
    const c = list.vector(3, `certificate ${out.length + 1}`);
    if (c.left === 0) throw new FlightError(`certificate ${out.length + 1} is empty`);
    out.push(c.buf.subarray(c.pos, c.end));
  }
  return out;
}

/** CertificateStatus (RFC 6066 §8): status_type 1 (ocsp), then the OCSPResponse. */
function certificateStatus(r: Reader): Uint8Array {
  const type = r.uint(1, 'CertificateStatus type');
  if (type !== 1) throw new FlightError(`CertificateStatus of type ${type} (1, ocsp)`);
  const der = r.vector(3, 'OCSPResponse');
  r.finished('the CertificateStatus');
  if (der.left === 0) throw new FlightError('an empty OCSPResponse');
  return der.buf.subarray(der.pos, der.end);
}

/** Splits records: the handshake bytes up to the first ChangeCipherSpec, application data or alert. */
function handshakeBytes(bytes: Uint8Array, flight: ServerFlight): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let off = 0; off + 5 <= bytes.length; ) {
    const type = bytes[off]!;
    const major = bytes[off + 1]!;
    const len = bytes[off + 3]! * 256 + bytes[off + 4]!;
    if (type < 20 || type > 23 || major !== 3) {
      throw new FlightError(`not a TLS record at byte ${off}: ${printable(Buffer.from(bytes.subarray(off, off + 5)).toString('latin1'))}`);
    }
    if (len > 16384) throw new FlightError(`a record of ${len} bytes (at most 2^14 in the clear)`);
    if (off + 5 + len > bytes.length) break; // cut short: what was read is all there is
    if (type === 20 || type === 23) {
      flight.encrypted = true;
      break;
    }
    if (type === 21) {
      if (len !== 2) throw new FlightError(`an alert of ${len} bytes (2)`);
      flight.alert = { fatal: bytes[off + 5] === 2, description: bytes[off + 6]! };
      break;
    }
    if (len === 0) throw new FlightError('an empty handshake record (RFC 5246 §6.2.1)');
    out.set(bytes.subarray(off + 5, off + 5 + len), n);
    n += len;
    off += 5 + len;
  }
  return out.subarray(0, n);
}

/** The far end's first flight, read from what it sent on the connection (at most FLIGHT_RECORD_LIMIT bytes of it). */
export function readServerFlight(bytes: Uint8Array): ServerFlight {
  const flight: ServerFlight = { done: false, encrypted: false };
  try {
    const hs = handshakeBytes(bytes.subarray(0, FLIGHT_RECORD_LIMIT), flight);
    const r = new Reader(hs, 0, hs.length);
    while (r.left >= 4) {
      const type = r.uint(1, 'handshake type');
      const len = r.uint(3, 'handshake length');
      if (len > r.left) break; // the rest of this message never came
      const body = new Reader(hs, r.take(len, 'handshake message'), r.pos);
      if (type === 0) {
        body.finished('a HelloRequest');
        continue;
      }
      if (!flight.hello && type !== 2) throw new FlightError(`handshake message ${type} before the ServerHello`);
      if (type === 2) {
        if (flight.hello) throw new FlightError('a second ServerHello');
        const h = serverHello(body);
        flight.hello = { version: h.version, cipher: h.cipher };
        // TLS 1.3 (or its HelloRetryRequest): the rest of the server's flight is encrypted.
        if (h.version === 'TLSv1.3' || h.retry) {
          flight.encrypted = true;
          return flight;
        }
      } else if (type === 13) {
        if (flight.certificateRequest) throw new FlightError('a second CertificateRequest');
        flight.certificateRequest = certificateRequest(body, flight.hello!.version === 'TLSv1.2');
      } else if (type === 14) {
        body.finished('the ServerHelloDone');
        flight.done = true;
        return flight;
      } else if (type === 11) {
        if (flight.certificates) throw new FlightError('a second Certificate');
        flight.certificates = certificateList(body);
      } else if (type === 22) {
        if (flight.ocspStaple) throw new FlightError('a second CertificateStatus');
        flight.ocspStaple = certificateStatus(body);
      } else if (type !== 12) {
        throw new FlightError(`handshake message ${type} in the server's first flight`);
      }
    }
    return flight;
  } catch (e) {
    if (!(e instanceof FlightError)) throw e;
    return { ...flight, problem: e.message };
  }
}
