import { z } from 'zod';
import { NameSchema } from './common-schema.js';

/**
 * Our own identity (CUBE `crypto pki trustpoint`): a folder with key.pem, cert.pem and chain.pem, or the files by
 * path under any names (`certificate: publickey.pem`, `key: privateKey.pem`, `chain: CAList.pem`, as a CA
 * organisation hands them over). Relative paths are relative to the folder of the file that names them.
 */
export const TrustpointSchema = z.union([
  z.strictObject({ dir: z.string().min(1) }),
  z.strictObject({
    certificate: z.string().min(1),
    key: z.string().min(1),
    /** Intermediates (a bundle, or several files), leaf's issuer first. */
    chain: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  }),
]);

/** CA certificates trusted to sign peers' certificates: a folder (`*.pem`, `*.crt`), a bundle file, or a list of files. */
export const TrustStoreSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** An ordered cipher list; IANA, OpenSSL and CUBE names; TLS 1.2 ciphers and 1.3 suites together. */
export const TlsCipherListSchema = z.array(z.string().min(1)).min(1);

export const TlsVersionSchema = z.enum(['TLSv1.2', 'TLSv1.3']);

/** A TLS profile (CUBE `voice class tls-profile`). */
export const TlsProfileSchema = z.strictObject({
  trustpoint: NameSchema,
  /** A separate identity for outbound connections. */
  clientTrustpoint: NameSchema.optional(),
  trustStore: NameSchema.optional(),
  /** A `tlsCiphers` name; absent: Node's defaults. */
  ciphers: NameSchema.optional(),
  minVersion: TlsVersionSchema.default('TLSv1.2'),
  maxVersion: TlsVersionSchema.default('TLSv1.3'),
  /** Whose name is checked: the server's (outbound), the client's (inbound), both, or none. */
  cnSanValidate: z.enum(['none', 'server', 'client', 'bidirectional']).default('server'),
  /** Permitted peer identities (CUBE `cn-san`); `*.domain` only with allowWildcard. */
  cnSan: z.array(z.string().min(1)).default([]),
  allowWildcard: z.boolean().default(false),
  /** Send SNI on outbound connections (never to an IP address). */
  sni: z.enum(['send', 'none']).default('send'),
  /** The name sent as SNI instead of the target's host. */
  sniName: z.string().min(1).optional(),
  /** Server names that select this profile on a shared TLS listener. */
  serverNames: z.array(z.string().min(1)).default([]),
  /** Mutual TLS on this profile's listeners. */
  requireClientCert: z.boolean().default(false),
  /** DHE as a server: OpenSSL's well-known groups ('auto'), or none. Default: auto when the cipher list names a DHE suite. */
  dhparam: z.enum(['auto', 'none']).optional(),
  /** Most CA certificates above a peer's own in the chain it verifies through, in both roles. */
  maxChainDepth: z.number().int().min(1).max(16).default(4),
  revocation: z.strictObject({ crl: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) }).optional(),
});

export type TrustpointConfig = z.output<typeof TrustpointSchema>;
export type TlsProfileConfig = z.output<typeof TlsProfileSchema>;
