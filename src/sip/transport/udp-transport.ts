import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import type { Logger } from '../../log/logger.js';
import { transportError } from './errors.js';
import { addressFamily, normalizeAddress } from './address.js';
import type { Flow, ListenerInfo } from './types.js';

export interface UdpTransportUser {
  /** One datagram is one message (RFC 3261 §18.3); `rinfo` is Node's own object. */
  onDatagram(data: Buffer, rinfo: RemoteInfo, transport: UdpTransport): void;
}

export interface UdpTransportOptions {
  id: string;
  host: string;
  port: number;
  tenant?: string;
  tlsProfile?: string;
  user: UdpTransportUser;
  log: Logger;
  /**
   * Kernel receive and send buffer sizes asked for, in bytes (default 16 MiB). With default buffers datagrams
   * were lost from about 1,500 calls per second; Linux caps the grant at net.core.rmem_max / wmem_max.
   */
  bufferBytes?: number;
  /** An error of the bound socket (counted and logged by the layer); a warn line when absent. */
  listenerError?: (e: NodeJS.ErrnoException) => void;
}

/** One UDP listener: a dgram socket (udp4 or udp6 by the host's family) that also sends. */
export class UdpTransport {
  readonly id: string;
  readonly family: 4 | 6;
  readonly #o: UdpTransportOptions;
  readonly #socket: Socket;
  #info: ListenerInfo | undefined;
  #closed = false;

  constructor(o: UdpTransportOptions) {
    this.#o = o;
    this.id = o.id;
    this.family = addressFamily(o.host) === 6 ? 6 : 4;
    this.#socket = createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', ipv6Only: this.family === 6 });
    this.#socket.on('message', (data, rinfo) => o.user.onDatagram(data, rinfo, this));
    this.#socket.on('error', o.listenerError ?? ((e) => o.log.warn({ err: e, listener: o.id, code: 'ERR_SIP_TRANSPORT_LISTENER' }, 'udp socket error')));
  }

  /** Binds, enlarges the kernel buffers and reports what the kernel granted. */
  async listen(): Promise<ListenerInfo> {
    const o = this.#o;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(transportError('ERR_SIP_TRANSPORT_BIND', `udp ${o.host}:${o.port}: ${e.message}`, { cause: e }));
      this.#socket.once('error', onError);
      this.#socket.bind({ address: normalizeAddress(o.host), port: o.port, exclusive: true }, () => {
        this.#socket.off('error', onError);
        resolve();
      });
    });
    const want = o.bufferBytes ?? 16 * 1024 * 1024;
    let recv = 0;
    let send = 0;
    try {
      this.#socket.setRecvBufferSize(want);
      this.#socket.setSendBufferSize(want);
    } catch (e) {
      o.log.warn({ err: e, listener: o.id }, 'udp buffer size refused');
    }
    try {
      recv = this.#socket.getRecvBufferSize();
      send = this.#socket.getSendBufferSize();
    } catch {
      // Reported as 0 below.
    }
    // Linux reports twice the size it books, and caps the booking at net.core.rmem_max / wmem_max.
    if (recv < want) {
      o.log.warn({ listener: o.id, requested: want, recvBuffer: recv, sendBuffer: send }, 'udp socket buffers smaller than requested; raise net.core.rmem_max and wmem_max');
    } else {
      o.log.info({ listener: o.id, requested: want, recvBuffer: recv, sendBuffer: send }, 'udp socket buffers');
    }
    const a = this.#socket.address();
    this.#info = { id: o.id, protocol: 'udp', address: normalizeAddress(a.address), port: a.port };
    if (o.tenant !== undefined) this.#info.tenant = o.tenant;
    if (o.tlsProfile !== undefined) this.#info.tlsProfile = o.tlsProfile;
    return this.#info;
  }

  get info(): ListenerInfo {
    if (!this.#info) throw new Error(`udp listener ${this.id} is not listening`);
    return this.#info;
  }

  /** The flow of a received datagram: one small object. */
  flowFor(rinfo: RemoteInfo): Flow {
    const info = this.#info!;
    return {
      protocol: 'udp',
      localAddress: info.address,
      localPort: info.port,
      remoteAddress: this.family === 6 ? normalizeAddress(rinfo.address) : rinfo.address,
      remotePort: rinfo.port,
      listenerId: this.id,
    };
  }

  send(data: Buffer, address: string, port: number): Promise<Flow> {
    if (this.#closed || !this.#info) {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_CLOSED', `udp listener ${this.id} is closed`));
    }
    const info = this.#info;
    return new Promise((resolve, reject) => {
      this.#socket.send(data, port, address, (e) => {
        if (e) {
          reject(transportError('ERR_SIP_TRANSPORT_SEND', `udp send to ${address}:${port} failed`, { cause: e, details: { address, port } }));
        } else {
          resolve({ protocol: 'udp', localAddress: info.address, localPort: info.port, remoteAddress: address, remotePort: port, listenerId: this.id });
        }
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
