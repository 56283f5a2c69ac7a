import { normalizeAddress } from './address.js';
import { outboundKey, type ConnectionTable } from './connection-table.js';
import { transportError } from './errors.js';
import { mayReuseInbound } from './flow-rules.js';
import type { StreamConnection } from './stream-connection.js';
import type { StreamTransport } from './stream-transport.js';
import type { SendTarget } from './types.js';
import type { GatewayError } from '../../common/gateway-error.js';

/**
 * Finds the TCP/TLS connection a message goes out on: the target's own if still open, else one reused by key or
 * by flow, else one connection attempt per key however many messages wait for it. Owns the attempts in progress.
 */
export class StreamConnector {
  readonly #table: ConnectionTable<StreamConnection>;
  readonly #streams: readonly StreamTransport[];
  readonly #connecting = new Map<string, Promise<StreamConnection>>();

  /** `streams` is the layer's list of stream listeners, read at each new connection. */
  constructor(table: ConnectionTable<StreamConnection>, streams: readonly StreamTransport[]) {
    this.#table = table;
    this.#streams = streams;
  }

  /**
   * "If the connection used to send the request is still open, the response MUST be sent over it; otherwise
   * the server SHOULD open a connection to the IP address in the received parameter" — the caller puts that
   * address in the target; a vanished connectionId falls through to reuse and connect.
   * https://www.rfc-editor.org/rfc/rfc3261#section-18.2.2
   */
  connectionFor(target: SendTarget, family: 4 | 6): Promise<StreamConnection> | StreamConnection {
    const protocol = target.protocol as 'tcp' | 'tls';
    if (target.connectionId !== undefined) {
      const c = this.#table.get(target.connectionId);
      if (c && c.isOpen && c.info.protocol === protocol) return c;
    }
    const address = normalizeAddress(target.address);
    const key = outboundKey(protocol, address, target.port, target.tlsProfile, target.servername, target.tenant);
    const reused = this.#table.byKey(key);
    if (reused) return reused;
    for (const c of this.#table.inbound(protocol, address, target.port)) if (mayReuseInbound(c, target)) return c;
    const pending = this.#connecting.get(key);
    if (pending) return pending;
    const t = this.#pick(protocol, family, target);
    if (!t) return Promise.reject(noListener(target));
    const p = t.connect(target, key).finally(() => this.#connecting.delete(key));
    this.#connecting.set(key, p);
    return p;
  }

  /** The listener a new connection leaves from: the target's own, else one with its TLS profile, else the first. */
  #pick(protocol: 'tcp' | 'tls', family: 4 | 6, target: SendTarget): StreamTransport | undefined {
    let best: StreamTransport | undefined;
    for (const t of this.#streams) {
      if (t.protocol !== protocol || t.family !== family) continue;
      if (t.id === target.listenerId) return t;
      if (!best || (target.tlsProfile !== undefined && t.info.tlsProfile === target.tlsProfile && best.info.tlsProfile !== target.tlsProfile)) best = t;
    }
    return best;
  }
}

/** No listener of the target's protocol and address family to send from. */
export function noListener(target: SendTarget): GatewayError {
  return transportError('ERR_SIP_TRANSPORT_NO_LISTENER', `no ${target.protocol} listener for ${target.address}`, {
    details: { protocol: target.protocol, address: target.address },
  });
}
