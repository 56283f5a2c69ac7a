import { isIP, type Server, type Socket } from 'node:net';
import { createServer, connect, type ConnectionOptions, type SecureContext, type TlsOptions, type TLSSocket } from 'node:tls';
import { GatewayError } from '../../common/gateway-error.js';
import { transportError } from './errors.js';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import { tlsPeerInfo } from './tls-peer-info.js';
import type { SendTarget, TlsPeerInfo } from './types.js';

/**
 * Client options for an outbound TLS connection made for a TLS profile and SNI name. The TLS-profile layer
 * (src/tls) supplies this. The transport sets host and port, and sets `servername` only when the target names
 * a host (never an IP); otherwise the resolver's own `servername` (for example '' for none) stands.
 */
export type TlsClientOptionsResolver = (profile: string | undefined, servername: string | undefined, target: SendTarget) => ConnectionOptions;

/**
 * A verdict on an inbound connection after its handshake, from the TLS-profile layer (client certificate
 * demanded by the profile, CN/SAN rules). A refusal closes the connection and is counted under `code`.
 */
export type InboundTlsVerdict =
  | { ok: true; authorized?: boolean; identities?: string[]; profile?: string; tenant?: string }
  | { ok: false; code: string; reason: string };
export type InboundTlsCheck = (socket: TLSSocket) => InboundTlsVerdict;

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

  constructor(o: TlsTransportOptions) {
    super(o);
    this.#tls = o.tls;
    this.#clientOptions = o.clientOptions;
    this.#checkInbound = o.checkInbound;
  }

  protected createServer(): Server {
    const server = createServer({ handshakeTimeout: this.o.connectTimeoutMs, ...this.#tls }, (socket: TLSSocket) => {
      const sn = (socket as TLSSocket & { servername?: string | false }).servername;
      const sni = typeof sn === 'string' && sn.length > 0 ? sn : undefined;
      const info = this.peerInfo(socket, sni, this.o.tlsProfile);
      if (this.#checkInbound) {
        let verdict: InboundTlsVerdict;
        try {
          verdict = this.#checkInbound(socket);
        } catch (e) {
          verdict = { ok: false, code: 'ERR_SIP_TRANSPORT_TLS_CONFIG', reason: `inbound check failed: ${(e as Error).message}` };
        }
        if (!verdict.ok) {
          this.o.user.onHandshakeError(this, new GatewayError(verdict.code, verdict.reason), socket.remoteAddress);
          socket.destroy();
          return;
        }
        if (verdict.authorized !== undefined) info.authorized = verdict.authorized;
        if (verdict.identities !== undefined) info.identities = verdict.identities;
        if (verdict.profile !== undefined) info.profile = verdict.profile;
        if (verdict.tenant !== undefined) info.tenant = verdict.tenant;
      }
      this.accept(socket, sni, info);
    });
    if (this.#tls.secureContext) useDefaultContext(server, this.#tls.secureContext);
    server.on('tlsClientError', (e: Error, socket: TLSSocket) => this.o.user.onHandshakeError(this, e, socket.remoteAddress));
    return server;
  }

  protected openSocket(address: string, port: number, target: SendTarget): OutboundSocket {
    const profile = target.tlsProfile ?? this.o.tlsProfile;
    const options = this.#clientOptions(profile, target.servername, target);
    // "Literal IPv4 and IPv6 addresses are not permitted in HostName" (RFC 6066 §3): no SNI for an IP.
    const servername = target.servername !== undefined && isIP(target.servername) === 0 ? target.servername : undefined;
    const socket = connect({ ...options, host: address, port, ...(servername !== undefined ? { servername } : {}) });
    const out: OutboundSocket = { socket, readyEvent: 'secureConnect' };
    if (target.servername !== undefined) out.servername = target.servername;
    if (profile !== undefined) out.tlsProfile = profile;
    return out;
  }

  protected peerInfo(socket: Socket, servername: string | undefined, tlsProfile: string | undefined): TlsPeerInfo {
    return tlsPeerInfo(socket as TLSSocket, {
      ...(tlsProfile !== undefined ? { profile: tlsProfile } : {}),
      ...(this.o.tenant !== undefined ? { tenant: this.o.tenant } : {}),
      ...(servername !== undefined ? { servername } : {}),
    });
  }
}

/**
 * Node's tls.Server builds its default context (used when the client sends no SNI, or SNICallback returns
 * none) from key/cert options only and ignores a `secureContext` option; install the given context there.
 */
function useDefaultContext(server: Server, context: SecureContext): void {
  const s = server as Server & { _sharedCreds?: unknown };
  if (typeof s._sharedCreds !== 'object' || s._sharedCreds === null) {
    throw transportError('ERR_SIP_TRANSPORT_TLS_CONFIG', 'this Node version offers no way to install a listener SecureContext');
  }
  s._sharedCreds = context;
}
