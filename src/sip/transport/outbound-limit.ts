import type { Socket } from 'node:net';
import type { TransportErrorCode } from './errors.js';
import type { RefusedInputLog } from './input-log.js';

/** Outbound TCP/TLS connections open or connecting at once, over every stream listener of a layer. */
export const DEFAULT_MAX_OUTBOUND_CONNECTIONS = 1_024;

/** A connection refused by the bound: where it would have gone. */
export interface OutboundRefusal {
  address: string;
  port: number;
  protocol: 'tcp' | 'tls';
}

/**
 * The bound on connections the gateway opens itself. Their targets come from the network (a peer's Contact, a
 * redirect, a response whose inbound connection closed goes to the peer's ephemeral port), so without a bound input
 * could make the gateway open sockets, and spend file descriptors, without end. One count is shared by all the
 * layer's TCP and TLS listeners because the descriptors they spend are the process's. A slot is taken before the
 * socket exists and given back when it closes, so a failed or timed-out connect frees it as a closed connection
 * does; a reused connection or an attempt already under way takes none.
 */
export class OutboundLimit {
  readonly max: number;
  #open = 0;
  readonly #onRefuse: (r: OutboundRefusal) => void;
  /** One close listener for every socket that holds a slot. */
  readonly #release = (): void => {
    this.#open--;
  };

  constructor(max: number, onRefuse: (r: OutboundRefusal) => void) {
    this.max = max;
    this.#onRefuse = onRefuse;
  }

  /** Outbound sockets open or connecting now. */
  get open(): number {
    return this.#open;
  }

  /** Takes a slot; false (and the refusal reported) when every slot is in use. */
  take(r: OutboundRefusal): boolean {
    if (this.#open >= this.max) {
      this.#onRefuse(r);
      return false;
    }
    this.#open++;
    return true;
  }

  /** A slot taken for a socket that could not be created. */
  giveBack(): void {
    this.#open--;
  }

  /** The slot just taken stays with `socket` until it closes, however it ends. */
  holdUntilClosed(socket: Socket): void {
    socket.once('close', this.#release);
  }
}

/**
 * The layer's bound on outbound connections, `max` as fitted to the open-files limit (input-limits.ts
 * connectionLimits); each refusal is counted by `count` and logged through `refusedLog`.
 */
export function outboundLimit(max: number, refusedLog: RefusedInputLog, count: (code: TransportErrorCode) => void): OutboundLimit {
  return new OutboundLimit(max, (r) => {
    const code = 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT';
    count(code);
    refusedLog.refused(code, 'too many outbound connections open or connecting', `${r.address}:${r.port}`, r.protocol,
      'outbound connection refused: the gateway holds its most outbound connections');
  });
}
