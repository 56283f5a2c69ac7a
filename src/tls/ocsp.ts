/**
 * A stapled OCSP response (RFC 6960 §4.2.1), as the far end sent it in its handshake: whether the responder said
 * good, revoked or unknown for the far end's own certificate, when, and whether the issuer (or a responder it
 * certified for OCSP, §4.2.2.2) signed it. Decoded with the bounded DER reader; a response that does not decode is
 * reported with why, never thrown.
 */
import { X509Certificate, createHash, verify } from 'node:crypto';
import {
  DerError, TAG, children, ctx, expect, integerHex, oidOf, readTlv, smallInteger, timeOf, type Tlv,
} from './der.js';

export interface OcspReport {
  /** Whether the far end stapled a response at all (it was asked to). */
  stapled: boolean;
  /** The responder's status for the far end's certificate. */
  status?: 'good' | 'revoked' | 'unknown';
  /** Whether the answer is for the far end's own certificate (its serial and its issuer's name). */
  forLeaf?: boolean;
  producedAt?: string;
  thisUpdate?: string;
  nextUpdate?: string;
  revokedAt?: string;
  /** CRLReason (RFC 5280 §5.3.1) when the responder gave one. */
  reason?: string;
  /** The OCSPResponseStatus when it is not successful (RFC 6960 §4.2.1): no answer about the certificate. */
  responseStatus?: string;
  /** The response's signature against the issuer the far end sent: valid, invalid, or not checked; and by whom. */
  signature?: 'valid' | 'invalid' | 'not checked';
  signatureNote?: string;
  /** Why the stapled bytes could not be read. */
  problem?: string;
}

const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(4)', 'sigRequired', 'unauthorized'];
const CRL_REASONS = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', '(7)', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
];
const BASIC = '1.3.6.1.5.5.7.48.1.1';
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Signature algorithm → the hash node:crypto's verify takes (null: the key decides, as for EdDSA). */
const SIGNATURES: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, '1.3.101.113': null,
};

interface Single {
  hash: string;
  nameHash: Buffer;
  serial: string;
  status: Tlv;
  thisUpdate: string;
  nextUpdate?: string;
}

function single(buf: Uint8Array, t: Tlv): Single {
  const [certId, status, thisUpdate, ...more] = children(buf, t);
  if (!certId || !status || !thisUpdate) throw new DerError('a SingleResponse without its certID, status and thisUpdate');
  const [alg, nameHash, , serial] = children(buf, expect(buf, certId.at, certId.end, TAG.SEQUENCE, 'certID'));
  if (!alg || !nameHash || !serial) throw new DerError('a certID without its hash, names and serial');
  const algId = children(buf, expect(buf, alg.at, alg.end, TAG.SEQUENCE, 'certID hash algorithm'))[0];
  const next = more.find((m) => m.tag === ctx(0, true));
  return {
    hash: HASHES[algId ? oidOf(buf, algId) : ''] ?? '',
    nameHash: Buffer.from(buf.subarray(nameHash.start, nameHash.end)),
    serial: integerHex(buf, serial),
    status,
    thisUpdate: timeOf(buf, expect(buf, thisUpdate.at, thisUpdate.end, TAG.GENERALIZED_TIME, 'thisUpdate')),
    ...(next ? { nextUpdate: timeOf(buf, readTlv(buf, next.start, next.end)) } : {}),
  };
}

function matches(s: Single, leaf: X509Certificate | undefined, issuerName: Uint8Array | undefined): boolean {
  if (!leaf || s.serial !== leaf.serialNumber.toUpperCase().replace(/^0+(?=.)/, '')) return false;
  return issuerName === undefined || s.hash === '' || createHash(s.hash).update(issuerName).digest().equals(s.nameHash);
}

function checkSignature(buf: Uint8Array, tbs: Tlv, algTlv: Tlv, sigTlv: Tlv, certs: Tlv | undefined, issuer: X509Certificate | undefined): Pick<OcspReport, 'signature' | 'signatureNote'> {
  if (!issuer) return { signature: 'not checked', signatureNote: 'the far end sent no issuer certificate to check it with' };
  const algOid = oidOf(buf, expect(buf, algTlv.start, algTlv.end, TAG.OID, 'signature algorithm'));
  const hash = SIGNATURES[algOid];
  if (hash === undefined) return { signature: 'not checked', signatureNote: `signature algorithm ${algOid} is not one the probe checks` };
  if (sigTlv.tag !== TAG.BIT_STRING || sigTlv.end === sigTlv.start || buf[sigTlv.start] !== 0) throw new DerError('the signature is not a whole-byte BIT STRING');
  const data = buf.subarray(tbs.at, tbs.end);
  const sig = buf.subarray(sigTlv.start + 1, sigTlv.end);
  const by = (key: X509Certificate): boolean => {
    try {
      return verify(hash, data, key.publicKey, sig);
    } catch {
      return false;
    }
  };
  if (by(issuer)) return { signature: 'valid', signatureNote: `signed by the issuer (${issuer.subject.replace(/\n/g, ', ')})` };
  const responders = certs ? children(buf, expect(buf, certs.start, certs.end, TAG.SEQUENCE, 'certs')).slice(0, 4) : [];
  for (const c of responders) {
    let x: X509Certificate;
    try {
      x = new X509Certificate(Buffer.from(buf.subarray(c.at, c.end)));
    } catch {
      continue;
    }
    const delegated = x.checkIssued(issuer) && x.verify(issuer.publicKey) && (x.keyUsage ?? []).includes(OCSP_SIGNING);
    if (delegated && by(x)) {
      return { signature: 'valid', signatureNote: `signed by ${x.subject.replace(/\n/g, ', ')}, which the issuer certified for OCSP signing` };
    }
  }
  return { signature: 'invalid', signatureNote: 'neither the issuer nor a responder it certified for OCSP signed it' };
}

/**
 * Decodes a stapled response for `leaf` (the far end's certificate, with `issuerName` its issuer Name's DER) and
 * checks its signature against `issuer` (the next certificate of the chain, when it issued the leaf).
 */
export function decodeStapledOcsp(der: Uint8Array, leaf?: X509Certificate, issuerName?: Uint8Array, issuer?: X509Certificate): OcspReport {
  try {
    const top = expect(der, 0, der.length, TAG.SEQUENCE, 'OCSPResponse');
    if (top.end !== der.length) throw new DerError(`${der.length - top.end} bytes after the OCSPResponse`);
    const [statusTlv, bytes] = children(der, top);
    if (!statusTlv || statusTlv.tag !== TAG.ENUMERATED) throw new DerError('no responseStatus');
    const code = smallInteger(der, statusTlv);
    if (code !== 0) return { stapled: true, responseStatus: RESPONSE_STATUS[code] ?? `(${code})` };
    if (!bytes || bytes.tag !== ctx(0, true)) throw new DerError('a successful response without responseBytes');
    const [type, response] = children(der, expect(der, bytes.start, bytes.end, TAG.SEQUENCE, 'responseBytes'));
    if (!type || !response || response.tag !== TAG.OCTET_STRING) throw new DerError('responseBytes without a type and a response');
    if (oidOf(der, type) !== BASIC) throw new DerError(`response type ${oidOf(der, type)} is not id-pkix-ocsp-basic`);
    const basic = expect(der, response.start, response.end, TAG.SEQUENCE, 'BasicOCSPResponse');
    const [tbs, alg, sig, certs] = children(der, basic);
    if (!tbs || !alg || !sig || tbs.tag !== TAG.SEQUENCE || alg.tag !== TAG.SEQUENCE) throw new DerError('a BasicOCSPResponse without its data, algorithm and signature');
    const data = children(der, tbs);
    const fields = data[0]?.tag === ctx(0, true) ? data.slice(1) : data;
    const [, producedAt, responses] = fields;
    if (!producedAt || !responses || responses.tag !== TAG.SEQUENCE) throw new DerError('ResponseData without producedAt and responses');
    const all = children(der, responses).map((r) => single(der, expect(der, r.at, r.end, TAG.SEQUENCE, 'SingleResponse')));
    if (all.length === 0) throw new DerError('no SingleResponse');
    const mine = all.find((s) => matches(s, leaf, issuerName));
    const s = mine ?? all[0]!;
    const report: OcspReport = {
      stapled: true, forLeaf: mine !== undefined, producedAt: timeOf(der, expect(der, producedAt.at, producedAt.end, TAG.GENERALIZED_TIME, 'producedAt')),
      thisUpdate: s.thisUpdate, ...(s.nextUpdate ? { nextUpdate: s.nextUpdate } : {}),
    };
    if (s.status.tag === ctx(0, false)) report.status = 'good';
    else if (s.status.tag === ctx(2, false)) report.status = 'unknown';
    else if (s.status.tag === ctx(1, true)) {
      const [at, why] = children(der, s.status);
      if (!at) throw new DerError('revoked without a revocationTime');
      report.status = 'revoked';
      report.revokedAt = timeOf(der, expect(der, at.at, at.end, TAG.GENERALIZED_TIME, 'revocationTime'));
      if (why?.tag === ctx(0, true)) {
        const n = smallInteger(der, expect(der, why.start, why.end, TAG.ENUMERATED, 'revocationReason'));
        report.reason = CRL_REASONS[n] ?? `(${n})`;
      }
    } else throw new DerError(`certStatus tag 0x${s.status.tag.toString(16)}`);
    const certsTlv = certs?.tag === ctx(0, true) ? certs : undefined;
    return { ...report, ...checkSignature(der, tbs, alg, sig, certsTlv, issuer) };
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    return { stapled: true, problem: e.message };
  }
}
