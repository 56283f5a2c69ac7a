import { constants as cryptoConstants } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { GatewayError } from '../common/gateway-error.js';
import { loadPrivateKey } from '../pki/key-pair.js';
import { inspectCertificate, parseCertificate, type CertificateInfo } from '../pki/inspect-certificate.js';
import type { TrustpointMaterial } from '../pki/trustpoint.js';
import { verifyCertificateChain } from '../pki/verify-chain.js';
import { resolveCipherList, type ResolvedCipherList } from './cipher-names.js';
import { tlsError } from './errors.js';
import { crlProblems } from './crl-check.js';
import { chainDepthProblem, chainReachesTrustStore, explainMissingCrl, withDepthCheck } from './chain-check.js';
import { classifyTlsFailure } from './failure.js';
import { checkClientIdentity, createCheckServerIdentity, peerIdentities } from './identity.js';
import type {
  ClientConnectOptions, ClientTarget, CompiledTlsProfile, InboundCheck, NegotiatedTls, ProfileProblem, TlsProfileMaterial, TlsProfileSpec, TlsVersion,
} from './profile-types.js';

const VERSION_ORDER: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The default of `maxChainDepth`: four CAs above the peer's certificate. */
export const DEFAULT_MAX_CHAIN_DEPTH = 4;

function versionIndex(v: TlsVersion): number {
  return VERSION_ORDER.indexOf(v);
}

function sendChain(m: TrustpointMaterial): string {
  // The leaf and its intermediates; a self-signed root is the peer's to have (RFC 8446 §4.4.2) — except
  // when it is the only chain certificate: a context picked by SNI replaces the listener's chain only when
  // its own is not empty (Node's SNI swap), so an empty chain would show the default profile's intermediates.
  const extra = m.chainPems.filter((p) => {
    const c = parseCertificate(p);
    return !(c.checkIssued(c) && c.verify(c.publicKey));
  });
  return [m.certPem, ...(extra.length > 0 ? extra : m.chainPems.slice(0, 1))].join('');
}

function checkTrustpoint(label: string, m: TrustpointMaterial, trusted: string[], now: Date, problems: ProfileProblem[]): CertificateInfo | undefined {
  let info: CertificateInfo;
  try {
    info = inspectCertificate(m.certPem);
    const cert = parseCertificate(m.certPem);
    if (!cert.checkPrivateKey(loadPrivateKey(m.keyPem))) {
      problems.push({ code: 'ERR_PKI_KEY_MISMATCH', reason: `${label}: key does not match the certificate` });
      return info;
    }
  } catch (e) {
    problems.push({ code: (e as GatewayError).code ?? 'ERR_PKI_CERT_INVALID', reason: `${label}: ${(e as Error).message}` });
    return undefined;
  }
  const r = verifyCertificateChain({ certPem: m.certPem, chainPems: [...m.chainPems, ...trusted], now });
  if (!r.ok) problems.push({ code: r.code, reason: `${label}: ${r.reason}` });
  return info;
}



export interface BuildTlsProfileOptions {
  now?: Date;
}

/**
 * Compiles and validates a profile before anything uses it: key matches certificate, chain verifies,
 * certificate in its validity window, cipher names known and negotiable, version range coherent, each CRL
 * issued and signed by a CA of the trust store and current (crl-check.ts). Throws one GatewayError whose `details.problems` lists every problem found.
 */
export function buildTlsProfile(spec: TlsProfileSpec, material: TlsProfileMaterial, opts: BuildTlsProfileOptions = {}): CompiledTlsProfile {
  const now = opts.now ?? new Date();
  const problems: ProfileProblem[] = [];

  let ciphers: ResolvedCipherList | undefined;
  if (spec.ciphers !== undefined) {
    const r = resolveCipherList(spec.ciphers);
    if (r.ok) ciphers = r.value;
    else problems.push({ code: r.code, reason: r.reason });
  }
  let minVersion: TlsVersion = spec.minVersion ?? 'TLSv1.2';
  let maxVersion: TlsVersion = spec.maxVersion ?? 'TLSv1.3';
  if (versionIndex(minVersion) < 0 || versionIndex(maxVersion) < 0) problems.push({ code: 'ERR_TLS_VERSION_RANGE', reason: `unknown TLS version` });
  else if (versionIndex(minVersion) > versionIndex(maxVersion)) {
    problems.push({ code: 'ERR_TLS_VERSION_RANGE', reason: `minVersion ${minVersion} is above maxVersion ${maxVersion}` });
  }
  if (ciphers) {
    if (!ciphers.tls13 && maxVersion === 'TLSv1.3') {
      if (spec.maxVersion === 'TLSv1.3') problems.push({ code: 'ERR_TLS_VERSION_RANGE', reason: 'maxVersion TLSv1.3 but the cipher list has no TLS 1.3 suite' });
      else maxVersion = 'TLSv1.2';
    }
    if (!ciphers.tls12 && versionIndex(minVersion) <= versionIndex('TLSv1.2')) {
      if (spec.minVersion !== undefined && spec.minVersion !== 'TLSv1.3') problems.push({ code: 'ERR_TLS_VERSION_RANGE', reason: `minVersion ${spec.minVersion} but the cipher list has only TLS 1.3 suites` });
      else minVersion = 'TLSv1.3';
    }
  }
  const cnSanValidate = spec.cnSanValidate ?? 'server';
  if (!spec.allowWildcard && (spec.cnSan ?? []).some((n) => n.includes('*'))) {
    problems.push({ code: 'ERR_TLS_PROFILE_INVALID', reason: 'cnSan has a wildcard but allowWildcard is off' });
  }

  const trusted = material.trustedCaPems;
  const certificate = checkTrustpoint(material.trustpointLabel ?? 'trustpoint', material.trustpoint, trusted, now, problems);
  const clientTp = material.clientTrustpoint ?? material.trustpoint;
  const clientCertificate = material.clientTrustpoint ? checkTrustpoint(material.clientTrustpointLabel ?? 'client trustpoint', material.clientTrustpoint, trusted, now, problems) : certificate;
  // A CRL OpenSSL would load and then fail every handshake with (another issuer's, a broken signature, expired).
  if (material.crlPems && material.crlPems.length > 0) problems.push(...crlProblems(material.crlPems, material.crlLabels, trusted, now));

  if (problems.length > 0 || !certificate || !clientCertificate) {
    throw tlsError('ERR_TLS_PROFILE_INVALID', `TLS profile ${spec.name}: ${problems.map((p) => p.reason).join('; ')}`, {
      details: { profile: spec.name, problems, code: problems[0]?.code },
    });
  }

  const dhe = ciphers === undefined || ciphers.suites.some((s) => /^DHE-/.test(s.openssl));
  const dhparam = spec.dhparam ?? (dhe ? 'auto' : 'none');
  const maxDepth = spec.maxChainDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
  const common: SecureContextOptions = {
    ...(trusted.length > 0 || !spec.useSystemRoots ? { ca: trusted } : {}),
    ...(ciphers ? { ciphers: ciphers.node } : {}),
    minVersion,
    maxVersion,
    ecdhCurve: spec.ecdhCurve ?? 'auto',
    honorCipherOrder: spec.honorCipherOrder ?? true,
    ...(material.crlPems && material.crlPems.length > 0 ? { crl: material.crlPems } : {}),
  };
  // "A server that implements this extension MUST NOT accept the request to resume the session if the server_name
  // extension contains a different name." (https://www.rfc-editor.org/rfc/rfc6066#section-3)
  // No session tickets, so nothing resumes (Node keeps no server session cache of its own): a resumed session would
  // skip the checks of the profile its SNI picks now and of the trust store in force now. These options also rebuild
  // a listener's context at a reload, so a reloaded listener issues none either.
  const serverContextOptions: SecureContextOptions = {
    ...common, key: material.trustpoint.keyPem, cert: sendChain(material.trustpoint), ...(dhparam === 'auto' ? { dhparam: 'auto' } : {}),
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
  };
  const clientContextOptions: SecureContextOptions = { ...common, key: clientTp.keyPem, cert: sendChain(clientTp) };
  let serverContext: SecureContext;
  let clientContext: SecureContext;
  try {
    serverContext = createSecureContext(serverContextOptions);
    clientContext = createSecureContext(clientContextOptions);
  } catch (cause) {
    const crl = /crl/i.test(String((cause as Error).message));
    const code = crl ? 'ERR_TLS_CRL_INVALID' : 'ERR_TLS_CONTEXT';
    throw tlsError('ERR_TLS_PROFILE_INVALID', `TLS profile ${spec.name}: ${(cause as Error).message}`, {
      cause,
      details: { profile: spec.name, problems: [{ code, reason: (cause as Error).message }], code },
    });
  }
  Object.defineProperty(serverContextOptions, 'toJSON', { value: () => ({ key: '[redacted]' }), enumerable: false });

  const crlLoaded = material.crlPems !== undefined && material.crlPems.length > 0;
  const requestCert = spec.requireClientCertificate === true || cnSanValidate === 'client' || cnSanValidate === 'bidirectional';
  const frozenSpec = Object.freeze({ ...spec, cnSan: Object.freeze([...(spec.cnSan ?? [])]) as string[] });

  return Object.freeze({
    name: spec.name,
    tenant: spec.tenant,
    spec: frozenSpec,
    serverContext,
    clientContext,
    serverContextOptions,
    requestCert,
    ciphers,
    minVersion,
    maxVersion,
    certificate,
    clientCertificate,
    clientOptions(target: ClientTarget): ClientConnectOptions {
      const name = target.servername ?? target.domain;
      // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
      // https://www.rfc-editor.org/rfc/rfc6066#section-3
      const servername = (spec.sni ?? 'send') === 'send' && name !== undefined && isIP(name) === 0 ? name : undefined;
      const checkName = cnSanValidate === 'server' || cnSanValidate === 'bidirectional';
      return {
        host: target.address,
        port: target.port,
        secureContext: clientContext,
        minVersion,
        maxVersion,
        rejectUnauthorized: true,
        // Node sends the host as SNI unless told otherwise; '' keeps it from sending an IP or an unwanted name.
        servername: servername ?? '',
        checkServerIdentity: withDepthCheck(maxDepth, checkName
          ? createCheckServerIdentity({
              ...(target.domain !== undefined ? { domain: target.domain } : {}),
              cnSan: spec.cnSan ?? [],
              allowWildcard: spec.allowWildcard ?? false,
            })
          : () => undefined),
        ...(crlLoaded ? { onSocket: (socket: TLSSocket) => explainMissingCrl(socket, material.trustedCaPems) } : {}),
      };
    },
    checkInbound(socket: TLSSocket): InboundCheck {
      // On a listener shared by several profiles OpenSSL fixes the versions and cipher lists when the
      // connection starts, from the listener's base context; the context the SNI picks swaps only the
      // certificate and trust. So the profile's own versions and suites are enforced here, fail closed.
      const version = socket.getProtocol();
      if (version === null || versionIndex(version as TlsVersion) < versionIndex(minVersion) || versionIndex(version as TlsVersion) > versionIndex(maxVersion)) {
        const message = `${version ?? 'unknown version'} is outside ${minVersion}..${maxVersion} of profile ${spec.name}`;
        return { ok: false, failure: classifyTlsFailure({ code: 'ERR_TLS_PROFILE_VERSION', message }) };
      }
      const cipher = socket.getCipher() as NegotiatedTls['cipher'];
      if (ciphers) {
        const name = cipher?.name ?? '';
        if (!ciphers.suites.some((s) => s.openssl.toUpperCase() === name.toUpperCase())) {
          const message = `cipher ${name || 'unknown'} is not in the list of profile ${spec.name}`;
          return { ok: false, failure: classifyTlsFailure({ code: 'ERR_TLS_PROFILE_CIPHER', message }) };
        }
      }
      const negotiated: NegotiatedTls = { version, cipher };
      if (!requestCert) return { ok: true, authorized: false, identities: [], negotiated };
      const cert = socket.getPeerCertificate();
      const hasCert = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
      if (!hasCert) return { ok: false, failure: classifyTlsFailure({ code: 'ERR_TLS_NO_CLIENT_CERT', message: 'no client certificate' }) };
      const authErr = socket.authorizationError as unknown as string | Error | null | undefined;
      if (authErr) {
        let code = typeof authErr === 'string' ? authErr : String((authErr as { code?: unknown }).code);
        // With a CRL loaded OpenSSL checks revocation first and reports a missing CRL for a stranger's
        // chain; say what is really wrong when the chain does not reach our trust store at all.
        if (code === 'UNABLE_TO_GET_CRL' && !chainReachesTrustStore(socket, material.trustedCaPems, now)) code = 'UNABLE_TO_GET_ISSUER_CERT';
        return { ok: false, failure: classifyTlsFailure({ code, message: code }) };
      }
      const depth = chainDepthProblem(socket.getPeerCertificate(true), maxDepth);
      if (depth) return { ok: false, failure: classifyTlsFailure({ code: 'ERR_TLS_CHAIN_DEPTH', message: depth }) };
      if (cnSanValidate === 'client' || cnSanValidate === 'bidirectional') {
        const r = checkClientIdentity(cert, spec.cnSan ?? [], { allowWildcard: spec.allowWildcard ?? false });
        if (!r.ok) return { ok: false, failure: classifyTlsFailure({ code: r.code, message: r.reason, expected: r.expected, presented: r.presented }) };
        return { ok: true, authorized: true, identities: r.identities, negotiated };
      }
      return { ok: true, authorized: true, identities: peerIdentities(cert), negotiated };
    },
  });
}
