import { generateKeyPair, type KeySpec } from './key-pair.js';
import { issueCertificate, type ExtendedKeyUsage } from './issue-certificate.js';
import type { TrustpointMaterial } from './trustpoint.js';

export interface LocalCa {
  certPem: string;
  /** Never log it. */
  keyPem: string;
}

export interface CreateLocalCaOptions {
  commonName?: string;
  organization?: string;
  key?: KeySpec;
  validityDays?: number;
  /** basicConstraints pathLenConstraint; absent: no limit, so the CA may sign issuing CAs. */
  pathLength?: number;
  now?: Date;
}

/** A self-signed root CA for the gateway (sipXecs "own CA"). */
export function createLocalCa(opts: CreateLocalCaOptions = {}): LocalCa {
  const keys = generateKeyPair(opts.key ?? { type: 'ec' });
  const certPem = issueCertificate({
    subject: { commonName: opts.commonName ?? 'trunkgate local CA', organization: opts.organization ?? 'trunkgate' },
    subjectKeyPem: keys.publicKeyPem,
    issuerKeyPem: keys.privateKeyPem,
    isCA: true,
    ...(opts.pathLength !== undefined ? { pathLength: opts.pathLength } : {}),
    ...(opts.validityDays !== undefined ? { validityDays: opts.validityDays } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { certPem, keyPem: keys.privateKeyPem };
}

export interface IssueGatewayCertificateOptions {
  /** The SIP domain; goes into SAN `URI:sip:<domain>` and `DNS:<domain>` and the CN. */
  domain: string;
  extraDns?: string[];
  ip?: string[];
  key?: KeySpec;
  extKeyUsage?: ExtendedKeyUsage[];
  validityDays?: number;
  notBefore?: Date;
  notAfter?: Date;
  now?: Date;
}

/**
 * A gateway certificate signed by the CA. RFC 5922 §7.1 takes identities from the subjectAltName URI
 * `sip:<domain>` and DNS entries, so both are set; the EKU allows both server and client use because one
 * certificate serves listeners and outbound connections (RFC 5924 §4 permits serverAuth/clientAuth).
 */
export function issueGatewayCertificate(ca: LocalCa, opts: IssueGatewayCertificateOptions): TrustpointMaterial {
  const keys = generateKeyPair(opts.key ?? { type: 'ec' });
  const certPem = issueCertificate({
    // A domain over the CN's 64 characters (RFC 5280 ub-common-name) is named by the SAN alone.
    subject: { ...([...opts.domain].length <= 64 ? { commonName: opts.domain } : {}), organization: 'trunkgate' },
    subjectKeyPem: keys.publicKeyPem,
    issuerKeyPem: ca.keyPem,
    issuerCertPem: ca.certPem,
    san: [
      { type: 'uri', value: `sip:${opts.domain}` },
      { type: 'dns', value: opts.domain },
      ...(opts.extraDns ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(opts.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ],
    extKeyUsage: opts.extKeyUsage ?? ['serverAuth', 'clientAuth'],
    ...(opts.validityDays !== undefined ? { validityDays: opts.validityDays } : {}),
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { keyPem: keys.privateKeyPem, certPem, chainPems: [ca.certPem] };
}
