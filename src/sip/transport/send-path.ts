import { addressFamily, normalizeAddress } from './address.js';
import { transportError } from './errors.js';
import type { StreamConnection } from './stream-connection.js';
import { noListener, type StreamConnector } from './stream-connector.js';
import type { TlsFailures } from './tls-failures.js';
import type { Flow, SendTarget } from './types.js';
import type { UdpTransport } from './udp-transport.js';

/** What the layer counts itself: sending and connections (receiving is counted by its ReceivePath). */
export interface SendCounters {
  messagesOut: number;
  bytesOut: number;
  connectionsOpened: number;
  connectionsClosed: number;
  connectFailures: number;
  sendFailures: number;
}

export const sendCounters = (): SendCounters =>
  ({ messagesOut: 0, bytesOut: 0, connectionsOpened: 0, connectionsClosed: 0, connectFailures: 0, sendFailures: 0 });

export interface SendPathDeps {
  /** The open UDP listeners, in the order they opened, and by listener id (the layer adds one bound on retry). */
  udp: readonly UdpTransport[];
  udpById: ReadonlyMap<string, UdpTransport>;
  connector: StreamConnector;
  tls: TlsFailures;
  counters: SendCounters;
}

/**
 * The sending half of the transport layer (RFC 3261 §18.1.1, §18.2.2): picks the UDP socket or the TCP/TLS connection
 * a message leaves by, and counts what was sent and what failed. The layer checks its own state first.
 */
export class SendPath {
  readonly #d: SendPathDeps;

  constructor(deps: SendPathDeps) {
    this.#d = deps;
  }

  /**
   * UDP: from the listener the flow came in on, else the first of the target's family. TCP/TLS: the target's
   * connection if still open, else a connection reused by key or flow, else a new one. Rejects with a GatewayError
   * (ERR_SIP_TRANSPORT_*), never throws.
   */
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    const family = addressFamily(target.address);
    if (family === 0) {
      return Promise.reject(transportError('ERR_SIP_TRANSPORT_ADDRESS', `'${target.address}' is not an IP address`, { details: { address: target.address } }));
    }
    if (target.protocol !== 'udp') return this.#sendStream(data, target, family);
    const { udp, udpById, counters: c } = this.#d;
    let u = target.listenerId !== undefined ? udpById.get(target.listenerId) : undefined;
    if (!u || u.family !== family) u = udp.find((x) => x.family === family);
    if (!u) return Promise.reject(noListener(target));
    c.messagesOut++;
    c.bytesOut += data.length;
    return u.send(data, normalizeAddress(target.address), target.port).catch((e: unknown) => {
      c.sendFailures++;
      throw e;
    });
  }

  async #sendStream(data: Buffer, target: SendTarget, family: 4 | 6): Promise<Flow> {
    const c = this.#d.counters;
    let conn: StreamConnection;
    try {
      conn = await this.#d.connector.connectionFor(target, family);
    } catch (e) {
      c.connectFailures++;
      this.#d.tls.connectFailed(e);
      throw e;
    }
    // A request of ours on it (a response can match only such a one) earns a connection the idle timeout.
    if (!isResponse(data)) conn.markUsed();
    try {
      await conn.write(data);
    } catch (e) {
      c.sendFailures++;
      throw e;
    }
    c.messagesOut++;
    c.bytesOut += data.length;
    return conn.flow;
  }
}

/** Whether the bytes are a SIP response: its status line starts `SIP/`, which no request line can (a method is a token). */
function isResponse(data: Buffer): boolean {
  return data.length >= 4 && data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f;
}
