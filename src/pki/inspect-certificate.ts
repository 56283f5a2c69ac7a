import { X509Certificate } from 'node:crypto';
import { withoutControls } from '../common/printable.js';
import { pkiError } from './errors.js';

/** A typed identity found in a certificate: 'sip:host', 'dns:host', 'ip:addr', 'uri:<other uri>', 'cn:name'. */
export type CertificateIdentity = string;

export interface CertificateInfo {
  subject: string;
  commonName: string | undefined;
  issuer: string;
  /** SAN entries, typed: `sip:` for SIP URIs, `uri:` for other URIs, `dns:`, `ip:`, `email:`. */
  san: CertificateIdentity[];
  notBefore: Date;
  notAfter: Date;
  keyType: 'rsa' | 'ec' | 'ed25519' | 'other';
  /** Modulus length for RSA, curve order bits for EC. */
  keySize: number;
  curve: string | undefined;
  /** Colon-separated upper-case hex, as OpenSSL prints it. */
  fingerprint256: string;
  serialNumber: string;
  isCA: boolean;
  selfSigned: boolean;
}

export function parseCertificate(pem: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw pkiError('ERR_PKI_CERT_INVALID', 'not a readable X.509 certificate', { cause });
  }
}

/** One subjectAltName entry; `value` never holds a control character (see splitSubjectAltName). */
export interface SanEntryText {
  kind: string;
  value: string;
  /** Set when the entry held control characters (shown as `?` in `value`): it is no identity and never matches a name. */
  controls?: true;
}

/**
 * Splits Node's `subjectAltName` text ("DNS:a, URI:sip:b, IP Address:1.2.3.4"), honouring JSON-quoted entries. Node
 * quotes an entry with special characters and escapes its control characters; unquoting brings them back, so each
 * goes through withoutControls (src/common/printable.ts): a far end's SAN cannot steer the terminal of `pki inspect`
 * or `tls probe`, nor forge a line of theirs.
 */
export function splitSubjectAltName(text: string | undefined): SanEntryText[] {
  if (!text) return [];
  const out: SanEntryText[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (i >= text.length) break;
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    if (text[colon + 1] === '"') {
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      i = j + 1;
    } else {
      const comma = text.indexOf(', ', colon + 1);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
      i = end;
    }
    const shown = withoutControls(value);
    out.push({ kind: withoutControls(kind), value: shown, ...(shown !== value ? { controls: true as const } : {}) });
  }
  return out;
}

/**
 * Typed SAN identities: `URI:sip:x` → `sip:x`, other URIs → `uri:…`, `DNS:` → `dns:`, `IP Address:` → `ip:`. Entries
 * with control characters are shown with `?` for each; `identitiesOnly` leaves them out, for name checks: `?` would
 * end a SIP URI's host there, so `sip:gw.example\0x` must not be read as `sip:gw.example`.
 */
export function typedSan(subjectAltName: string | undefined, opts: { identitiesOnly?: boolean } = {}): CertificateIdentity[] {
  const out: CertificateIdentity[] = [];
  for (const { kind, value, controls } of splitSubjectAltName(subjectAltName)) {
    if (controls && opts.identitiesOnly) continue;
    if (kind === 'DNS') out.push(`dns:${value.toLowerCase()}`);
    else if (kind === 'IP Address') out.push(`ip:${value.toLowerCase()}`);
    else if (kind === 'email') out.push(`email:${value}`);
    else if (kind === 'URI') out.push(/^sip:/i.test(value) ? `sip:${value.slice(4)}` : `uri:${value}`);
  }
  return out;
}

export function commonNameOf(subject: string): string | undefined {
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

function keyDetails(cert: X509Certificate): Pick<CertificateInfo, 'keyType' | 'keySize' | 'curve'> {
  const key = cert.publicKey;
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return { keyType: 'rsa', keySize: d.modulusLength ?? 0, curve: undefined };
  if (key.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve;
    const bits = curve === 'prime256v1' ? 256 : curve === 'secp384r1' ? 384 : curve === 'secp521r1' ? 521 : 0;
    return { keyType: 'ec', keySize: bits, curve: curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve };
  }
  if (key.asymmetricKeyType === 'ed25519') return { keyType: 'ed25519', keySize: 256, curve: undefined };
  return { keyType: 'other', keySize: 0, curve: undefined };
}

/** Everything an operator asks about a certificate, in one object. */
export function inspectCertificate(pem: string | Buffer | X509Certificate): CertificateInfo {
  const cert = pem instanceof X509Certificate ? pem : parseCertificate(pem);
  return {
    subject: cert.subject,
    commonName: commonNameOf(cert.subject),
    issuer: cert.issuer,
    san: typedSan(cert.subjectAltName),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    ...keyDetails(cert),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber.toLowerCase(),
    isCA: cert.ca,
    selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey),
  };
}
