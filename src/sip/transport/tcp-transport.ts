import { createServer, connect, type Server, type Socket } from 'node:net';
import { StreamTransport, type OutboundSocket } from './stream-transport.js';
import type { SendTarget, TlsPeerInfo } from './types.js';

/** SIP over TCP (RFC 3261 §18): one listener and its outbound connections. */
export class TcpTransport extends StreamTransport {
  readonly protocol = 'tcp' as const;

  protected createServer(): Server {
    // TCP_NODELAY and keepalive: set by the connection when it first carries bytes.
    return createServer((socket) => this.accept(socket, undefined, undefined));
  }

  protected openSocket(address: string, port: number, _target: SendTarget): OutboundSocket {
    return { socket: connect({ host: address, port, noDelay: true }), readyEvent: 'connect' };
  }

  protected peerInfo(_socket: Socket): TlsPeerInfo | undefined {
    return undefined;
  }
}
