import { isIP, type Server, type Socket } from 'node:net';
import { createServer, connect, type ConnectionOptions, type SecureContext, type TlsOptions, type TLSSocket } from 'node:tls';
import { transportError } from './errors.js';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import { tlsPeerInfo } from './tls-peer-info.js';
import type { SendTarget, TlsPeerInfo } from './types.js';

/**
 * Client options for an outbound TLS connection made for a TLS profile and SNI name. The TLS-profile layer
 * (src/tls) supplies this; host, port and servername are set by the transport.
 */
export type TlsClientOptionsResolver = (profile: string | undefined, servername: string | undefined) => ConnectionOptions;

/** The default resolver: Node's defaults, which verify the server's chain and name. */
export const defaultTlsClientOptions: TlsClientOptionsResolver = () => ({ rejectUnauthorized: true });

export interface TlsTransportOptions extends StreamTransportOptions {
  /** Listener options: certificate and key, or a `secureContext`, plus an optional `SNICallback`, `requestCert`… */
  tls: TlsOptions;
  clientOptions: TlsClientOptionsResolver;
}

/** SIP over TLS (RFC 3261 §26.2): one listener and its outbound connections. */
export class TlsTransport extends StreamTransport {
  readonly protocol = 'tls' as const;
  readonly #tls: TlsOptions;
  readonly #clientOptions: TlsClientOptionsResolver;

  constructor(o: TlsTransportOptions) {
    super(o);
    this.#tls = o.tls;
    this.#clientOptions = o.clientOptions;
  }

  protected createServer(): Server {
    const server = createServer({ handshakeTimeout: this.o.connectTimeoutMs, ...this.#tls }, (socket: TLSSocket) => {
      const sni = (socket as TLSSocket & { servername?: string | false }).servername;
      this.accept(socket, typeof sni === 'string' && sni.length > 0 ? sni : undefined);
    });
    if (this.#tls.secureContext) useDefaultContext(server, this.#tls.secureContext);
    server.on('tlsClientError', (e: Error, socket: TLSSocket) => this.o.user.onHandshakeError(this, e, socket.remoteAddress));
    return server;
  }

  protected openSocket(address: string, port: number, target: SendTarget): OutboundSocket {
    const profile = target.tlsProfile ?? this.o.tlsProfile;
    const options = this.#clientOptions(profile, target.servername);
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
