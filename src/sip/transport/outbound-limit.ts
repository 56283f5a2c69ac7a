import type { Socket } from 'node:net';
import { transportError, type TransportError, type TransportErrorCode } from './errors.js';
import type { RefusedInputLog } from './input-log.js';

/** Outbound TCP/TLS connections open or connecting at once, over every stream listener of a layer. */
export const DEFAULT_MAX_OUTBOUND_CONNECTIONS = 1_024;
/** Outbound TCP/TLS connections open or connecting at once to one remote address (the inbound per-source default). */
export const DEFAULT_MAX_OUTBOUND_CONNECTIONS_PER_ADDRESS = 64;

/** A connection refused by the bound: where it would have gone, and which bound was full. */
export interface OutboundRefusal {
  address: string;
  port: number;
  protocol: 'tcp' | 'tls';
  /** `total`: every slot of the layer is in use; `address`: every slot one remote address may hold. */
  scope: 'total' | 'address';
}

/**
 * The bound on connections the gateway opens itself. Their targets come from the network (a peer's Contact, a
 * redirect, a response whose inbound connection closed goes to the peer's ephemeral port), so without a bound input
 * could make the gateway open sockets, and spend file descriptors, without end. One count is shared by all the
 * layer's TCP and TLS listeners because the descriptors they spend are the process's; a second count per remote
 * address keeps one peer (say one that closes each connection before its answer and accepts the connect-back) from
 * taking every slot and starving the connections to the other trunks. A slot is taken before the socket exists and
 * given back when it closes, so a failed or timed-out connect frees it as a closed connection does; a reused
 * connection or an attempt already under way takes none.
 */
export class OutboundLimit {
  readonly max: number;
  readonly maxPerAddress: number;
  #open = 0;
  readonly #byAddress = new Map<string, number>();
  readonly #onRefuse: (r: OutboundRefusal) => void;

  constructor(max: number, onRefuse: (r: OutboundRefusal) => void, maxPerAddress = DEFAULT_MAX_OUTBOUND_CONNECTIONS_PER_ADDRESS) {
    this.max = max;
    this.maxPerAddress = Math.min(maxPerAddress, max);
    this.#onRefuse = onRefuse;
  }

  /** Outbound sockets open or connecting now. */
  get open(): number {
    return this.#open;
  }

  /** Outbound sockets open or connecting now to `address` (normalized, as given to take). */
  openTo(address: string): number {
    return this.#byAddress.get(address) ?? 0;
  }

  /** Remote addresses that hold at least one outbound socket now. */
  get addresses(): number {
    return this.#byAddress.size;
  }

  /** Takes a slot for `r.address`; false (and the refusal reported) when every slot, or every slot of that address, is in use. */
  take(r: Omit<OutboundRefusal, 'scope'>): boolean {
    const held = this.#byAddress.get(r.address) ?? 0;
    if (this.#open >= this.max || held >= this.maxPerAddress) {
      this.#onRefuse({ ...r, scope: this.#open >= this.max ? 'total' : 'address' });
      return false;
    }
    this.#open++;
    this.#byAddress.set(r.address, held + 1);
    return true;
  }

  /** Gives back a slot of `address`: taken for a socket that could not be created, or held by one that closed. */
  giveBack(address: string): void {
    this.#open--;
    const held = (this.#byAddress.get(address) ?? 1) - 1;
    if (held > 0) this.#byAddress.set(address, held);
    else this.#byAddress.delete(address);
  }

  /** The slot just taken for `address` stays with `socket` until it closes, however it ends. */
  holdUntilClosed(socket: Socket, address: string): void {
    socket.once('close', () => this.giveBack(address));
  }
}

/** The log line's words for each bound. */
const REFUSAL_TEXT = {
  total: ['too many outbound connections open or connecting', 'outbound connection refused: the gateway holds its most outbound connections'],
  address: ['too many outbound connections open or connecting to this address',
    'outbound connection refused: the gateway holds its most outbound connections to this address'],
} as const;

/** The stable code of a refusal by each bound. */
export const OUTBOUND_REFUSAL_CODE = {
  total: 'ERR_SIP_TRANSPORT_OUTBOUND_LIMIT',
  address: 'ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT',
} as const satisfies Record<OutboundRefusal['scope'], TransportErrorCode>;

/**
 * The layer's bound on outbound connections, `max` as fitted to the open-files limit (input-limits.ts
 * connectionLimits) and `maxPerAddress` per remote address; each refusal is counted by `count` under its bound's
 * code and logged through `refusedLog` (one line per code a window).
 */
export function outboundLimit(max: number, refusedLog: RefusedInputLog, count: (code: TransportErrorCode) => void,
  maxPerAddress = DEFAULT_MAX_OUTBOUND_CONNECTIONS_PER_ADDRESS): OutboundLimit {
  return new OutboundLimit(max, (r) => {
    const code = OUTBOUND_REFUSAL_CODE[r.scope];
    count(code);
    const [reason, msg] = REFUSAL_TEXT[r.scope];
    refusedLog.refused(code, reason, `${r.address}:${r.port}`, r.protocol, msg);
  }, maxPerAddress);
}

/** The error of a connect the bound refused (take returned false): the total bound's code, or the address bound's. */
export function outboundRefused(limit: OutboundLimit, address: string, port: number, protocol: 'tcp' | 'tls'): TransportError {
  const details = { address, port, protocol, maxOutboundConnections: limit.max, maxOutboundConnectionsPerAddress: limit.maxPerAddress };
  if (limit.open >= limit.max) {
    return transportError('ERR_SIP_TRANSPORT_OUTBOUND_LIMIT',
      `${protocol} to ${address}:${port} not opened: ${limit.max} outbound connections are open or connecting`, { details: { ...details, scope: 'total' } });
  }
  return transportError('ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT',
    `${protocol} to ${address}:${port} not opened: ${limit.maxPerAddress} outbound connections to ${address} are open or connecting`,
    { details: { ...details, scope: 'address' } });
}
