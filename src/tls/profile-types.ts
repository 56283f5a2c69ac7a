import type { ConnectionOptions, SecureContext, SecureContextOptions, TLSSocket } from 'node:tls';
import type { CertificateInfo } from '../pki/inspect-certificate.js';
import type { TrustpointMaterial } from '../pki/trustpoint.js';
import type { ResolvedCipherList } from './cipher-names.js';
import type { TlsFailure } from './failure.js';
import type { CnSanValidate, PeerIdentity } from './identity.js';

// A TLS profile as configured, the files it points at, and what buildTlsProfile (profile.ts) makes of them.

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** A TLS profile as configured (CUBE `voice class tls-profile`). */
export interface TlsProfileSpec {
  name: string;
  tenant?: string;
  /** Ordered; IANA, OpenSSL and CUBE names; TLS 1.2 ciphers and 1.3 suites in one list. Absent: Node's defaults. */
  ciphers?: string[];
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** Mutual TLS on listeners: a client certificate is required and must verify. */
  requireClientCertificate?: boolean;
  /** Default 'server': outbound connections check the server's name (fail closed). */
  cnSanValidate?: CnSanValidate;
  /** Permitted peer identities (CUBE `cn-san`), `*.domain` only with allowWildcard. */
  cnSan?: string[];
  allowWildcard?: boolean;
  /** Default 'send': SNI goes out when the target is a name, never an IP address (RFC 6066 §3). */
  sni?: 'send' | 'none';
  /** The name sent as SNI instead of the target's host (never an IP address). */
  sniName?: string;
  /** Server names that select this profile on a shared listener. */
  serverNames?: string[];
  /** Default true: the server's cipher order wins. */
  honorCipherOrder?: boolean;
  /** Default 'auto'. */
  ecdhCurve?: string;
  /** With an empty trust store, trust Node's bundled roots instead of nothing. Default false. */
  useSystemRoots?: boolean;
  /**
   * DHE key exchange as a server: 'auto' (OpenSSL's well-known groups, RFC 7919 sizes matched to the key), or
   * 'none'. Default: 'auto' when the cipher list names a DHE suite (or is Node's default list, which does).
   */
  dhparam?: 'auto' | 'none';
  /** Most CA certificates above the peer's own in the chain it verifies through, in both roles. Default 4. */
  maxChainDepth?: number;
}

/** The files a profile points at, already read. */
export interface TlsProfileMaterial {
  trustpoint: TrustpointMaterial;
  /** A separate identity for outbound connections (CUBE `trustpoint X client Y`). */
  clientTrustpoint?: TrustpointMaterial;
  trustedCaPems: string[];
  crlPems?: string[];
  /** How problems name each CRL of `crlPems` (its file); default its position, `CRL 1`. */
  crlLabels?: string[];
  /** How problems name the trustpoints (their files, when given by path); default `trustpoint`, `client trustpoint`. */
  trustpointLabel?: string;
  clientTrustpointLabel?: string;
}

export interface ProfileProblem {
  code: string;
  reason: string;
}

/** Where an outbound connection goes; `address` is already resolved, `domain` is the name wanted. */
export interface ClientTarget {
  address: string;
  port: number;
  /** The SIP domain of the target (URI host), checked against the server's identities and sent as SNI. */
  domain?: string;
  /** Overrides the SNI (CUBE remote application selection). */
  servername?: string;
}

/** `tls.connect` options, and a hook that gets the socket before its handshake (the transport calls it). */
export type ClientConnectOptions = ConnectionOptions & { onSocket?: (socket: TLSSocket) => void };

/** What a connection negotiated, as the inbound check read it (so it is not asked of OpenSSL twice). */
export interface NegotiatedTls {
  version: string;
  /** OpenSSL's name of the suite; IANA's (`standardName`) where Node gives it. */
  cipher: { name: string; standardName?: string } | null;
}

export type InboundCheck =
  | { ok: true; authorized: boolean; identities: PeerIdentity[]; negotiated: NegotiatedTls }
  | { ok: false; failure: TlsFailure };

export interface CompiledTlsProfile {
  readonly name: string;
  readonly tenant: string | undefined;
  readonly spec: Readonly<TlsProfileSpec>;
  readonly serverContext: SecureContext;
  readonly clientContext: SecureContext;
  /** Options that rebuild the server context: for `tls.createServer()` and `server.setSecureContext()`. Holds the key: never log it. */
  readonly serverContextOptions: SecureContextOptions;
  readonly requestCert: boolean;
  readonly ciphers: ResolvedCipherList | undefined;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  readonly certificate: CertificateInfo;
  readonly clientCertificate: CertificateInfo;
  /** `tls.connect()` options for one target: context, SNI, name check, versions. */
  clientOptions(target: ClientTarget): ClientConnectOptions;
  /** Call on the listener's `secureConnection`: verdict on the client's certificate and identities. */
  checkInbound(socket: TLSSocket): InboundCheck;
}
