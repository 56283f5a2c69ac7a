import { isIP, type Server, type Socket } from 'node:net';
import { createServer, connect, type ConnectionOptions, type SecureContextOptions, type Server as TlsServer, type TlsOptions, type TLSSocket } from 'node:tls';
import { GatewayError } from '../../common/gateway-error.js';
import { printable } from '../../common/printable.js';
import { transportError } from './errors.js';
import { normalizeAddress } from './address.js';
import { tcpSocketOf } from './connection-gate.js';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import type { SendTarget, TlsPeerInfo } from './types.js';
import { tlsPeerInfo, type NegotiatedTls, type TlsPeerExtra } from './tls-peer-info.js';

/**
 * Client options for an outbound TLS connection made for a TLS profile and SNI name. The TLS-profile layer
 * (src/tls) supplies this. The transport sets host and port, and sets `servername` only when the target names
 * a host (never an IP); otherwise the resolver's own `servername` (for example '' for none) stands.
 */
export type TlsClientOptionsResolver = (profile: string | undefined, servername: string | undefined, target: SendTarget) => TlsClientConnectOptions;

/** `tls.connect` options, and a hook the TLS-profile layer gets the socket through before its handshake starts. */
export type TlsClientConnectOptions = ConnectionOptions & { onSocket?: (socket: TLSSocket) => void };

/**
 * A verdict on an inbound connection after its handshake, from the TLS-profile layer (client certificate
 * demanded by the profile, CN/SAN rules). A refusal closes the connection and is counted under `code`;
 * `details` travel with the error (for instance the classified failure and the tenant).
 */
export type InboundTlsVerdict =
  | { ok: true; authorized?: boolean; identities?: string[]; profile?: string; tenant?: string; negotiated?: NegotiatedTls }
  | { ok: false; code: string; reason: string; details?: Record<string, unknown> };
export type InboundTlsCheck = (socket: TLSSocket) => InboundTlsVerdict;

/**
 * The check a listener without a TLS-profile check gets when its options demand a verified client certificate
 * (`requestCert` and `rejectUnauthorized`). Node would drop such a client during the handshake without saying
 * why; instead the listener accepts the handshake and refuses here, naming OpenSSL's verify code. Fail closed.
 */
export const requireAuthorizedClient: InboundTlsCheck = (socket) => {
  if (socket.authorized) return { ok: true, authorized: true };
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { ok: false, code: 'ERR_TLS_NO_CLIENT_CERT', reason: 'no client certificate' };
  const e = socket.authorizationError as unknown as string | Error | null;
  const code = typeof e === 'string' ? e : typeof (e as { code?: unknown } | null)?.code === 'string' ? (e as unknown as { code: string }).code : 'CERT_UNTRUSTED';
  return { ok: false, code, reason: `client certificate refused: ${code}` };
};

/** The default resolver: Node's defaults, which verify the server's chain and name. */
export const defaultTlsClientOptions: TlsClientOptionsResolver = () => ({ rejectUnauthorized: true });

export interface TlsTransportOptions extends StreamTransportOptions {
  /** Listener options: certificate and key, or a `secureContext`, plus an optional `SNICallback`, `requestCert`… */
  tls: TlsOptions;
  clientOptions: TlsClientOptionsResolver;
  checkInbound?: InboundTlsCheck;
}

/** SIP over TLS (RFC 3261 §26.2): one listener and its outbound connections. */
export class TlsTransport extends StreamTransport {
  readonly protocol = 'tls' as const;
  readonly #tls: TlsOptions;
  readonly #clientOptions: TlsClientOptionsResolver;
  readonly #checkInbound: InboundTlsCheck | undefined;

  #server: TlsServer | undefined;

  constructor(o: TlsTransportOptions) {
    super(o);
    if (o.tls.secureContext) {
      // Node builds a listener's default context (no SNI, or SNICallback without a context) from key/cert options
      // only; a ready SecureContext there would need Node internals. Profiles hand over their options instead.
      throw transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', `tls listener '${o.id}': give key/cert options, not a secureContext (SNICallback may return contexts)`);
    }
    const demandsClientCert = o.tls.requestCert === true && o.tls.rejectUnauthorized !== false;
    this.#tls = demandsClientCert && !o.checkInbound ? { ...o.tls, rejectUnauthorized: false } : o.tls;
    this.#clientOptions = o.clientOptions;
    this.#checkInbound = o.checkInbound ?? (demandsClientCert ? requireAuthorizedClient : undefined);
  }

  /**
   * Replaces the listener's default context (what clients without a matching SNI get) and, when given, whether it
   * asks clients for a certificate; new handshakes use them, live connections keep theirs. Throws on unusable
   * options (the caller validated them first).
   */
  setSecureContext(options: SecureContextOptions, requestCert?: boolean): void {
    const server = this.#server as (TlsServer & { requestCert?: unknown }) | undefined;
    if (!server) throw transportError('ERR_SIP_TRANSPORT_STATE', `tls listener '${this.id}' is not listening`);
    // Node's tls.Server hands its `requestCert` to each connection it accepts (as its deprecated setOptions set
    // it); the listener's own verdict stays with checkInbound (rejectUnauthorized is false on profile listeners).
    if (requestCert !== undefined && typeof server.requestCert !== 'boolean') {
      throw transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', `tls listener '${this.id}': the client-certificate request cannot change on this listener`);
    }
    server.setSecureContext(options);
    if (requestCert !== undefined) server.requestCert = requestCert;
  }

  protected createServer(): Server {
    // TCP_NODELAY and keepalive: set by the connection when it first carries bytes, not for every handshake.
    const server = createServer({ handshakeTimeout: this.o.connectTimeoutMs, ...this.#tls }, (socket: TLSSocket) => this.#onSecure(socket));
    server.on('tlsClientError', (e: Error, socket: TLSSocket) => {
      this.o.handshakeDone?.(socket);
      const sn = (socket as TLSSocket & { servername?: string | false }).servername;
      this.o.user.onHandshakeError(this, e, socket.remoteAddress, typeof sn === 'string' && sn.length > 0 ? printable(sn) : undefined, socket.remotePort);
      // With a tlsClientError listener Node leaves the socket open: a failed or timed-out handshake would keep its
      // file descriptor until the peer went away.
      socket.destroy();
    });
    this.#server = server;
    return server;
  }

  /**
   * A handshake finished: the inbound check (if any) gives its verdict first, and the peer's TLS details are read
   * once, with the identities and verification the check found.
   */
  #onSecure(socket: TLSSocket): void {
    this.o.handshakeDone?.(socket);
    const sn = (socket as TLSSocket & { servername?: string | false }).servername;
    const sni = typeof sn === 'string' && sn.length > 0 ? printable(sn) : undefined;
    // Built field by field: this runs once per accepted handshake, and a flood of them is the case that counts.
    const extra: TlsPeerExtra = { inbound: true };
    let profile = this.o.tlsProfile;
    let tenant = this.o.tenant;
    if (this.#checkInbound) {
      let verdict: InboundTlsVerdict;
      try {
        verdict = this.#checkInbound(socket);
      } catch (e) {
        verdict = { ok: false, code: 'ERR_SIP_TRANSPORT_TLS_CONFIG', reason: `inbound check failed: ${(e as Error).message}` };
      }
      if (!verdict.ok) {
        this.o.user.onHandshakeError(this, new GatewayError(verdict.code, verdict.reason, verdict.details ? { details: verdict.details } : {}), socket.remoteAddress, sni, socket.remotePort);
        socket.destroy();
        return;
      }
      if (verdict.authorized !== undefined) extra.authorized = verdict.authorized;
      if (verdict.identities !== undefined) extra.identities = verdict.identities;
      if (verdict.negotiated !== undefined) extra.negotiated = verdict.negotiated;
      if (verdict.profile !== undefined) profile = verdict.profile;
      if (verdict.tenant !== undefined) tenant = verdict.tenant;
    }
    if (profile !== undefined) extra.profile = profile;
    if (tenant !== undefined) extra.tenant = tenant;
    if (sni !== undefined) extra.servername = sni;
    const info = tlsPeerInfo(socket, extra);
    // The TCP socket under it read its peer's address at admission; the TLS socket would ask the kernel again.
    const tcp = tcpSocketOf(socket);
    const remote = tcp !== socket && tcp.remoteAddress !== undefined ? { address: normalizeAddress(tcp.remoteAddress), port: tcp.remotePort ?? 0 } : undefined;
    this.accept(socket, sni, info, remote);
  }

  protected openSocket(address: string, port: number, target: SendTarget): OutboundSocket {
    const profile = target.tlsProfile ?? this.o.tlsProfile;
    const options = this.#clientOptions(profile, target.servername, target);
    // "Literal IPv4 and IPv6 addresses are not permitted in HostName" (RFC 6066 §3): no SNI for an IP.
    const servername = target.servername !== undefined && isIP(target.servername) === 0 ? target.servername : undefined;
    // A profile's resolver decides the SNI itself (a name, or '' for none); otherwise the target's name is sent.
    const sni = options.servername === undefined && servername !== undefined ? { servername } : {};
    const { onSocket, ...connectOptions } = options;
    const socket = connect({ ...connectOptions, host: address, port, ...sni });
    onSocket?.(socket);
    const out: OutboundSocket = { socket, readyEvent: 'secureConnect' };
    const sent = options.servername ?? servername;
    if (sent !== undefined && sent !== '') out.servername = sent;
    if (profile !== undefined) out.tlsProfile = profile;
    if (target.tenant !== undefined) out.tenant = target.tenant;
    return out;
  }

  protected peerInfo(socket: Socket, servername: string | undefined, tlsProfile: string | undefined, tenant: string | undefined = this.o.tenant): TlsPeerInfo {
    return tlsPeerInfo(socket as TLSSocket, {
      ...(tlsProfile !== undefined ? { profile: tlsProfile } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
      ...(servername !== undefined ? { servername } : {}),
    });
  }
}
