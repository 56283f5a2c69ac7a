import type { TlsPeerInfo } from './types.js';

export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed';
export type ConnectionDirection = 'inbound' | 'outbound';

/**
 * One TCP or TLS connection as the admin API shows it (CUBE's `show sip-ua connections tcp tls detail`).
 * Times are milliseconds from the injected clock.
 */
export interface ConnectionInfo {
  id: string;
  protocol: 'tcp' | 'tls';
  direction: ConnectionDirection;
  state: ConnectionState;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  listenerId?: string;
  tenant?: string;
  tlsProfile?: string;
  /** SNI sent (outbound) or received (inbound). */
  servername?: string;
  createdAt: number;
  lastActivityAt: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  tls?: TlsPeerInfo;
}

/** What the table holds; the stream connection implements it. */
export interface ConnectionEntry {
  readonly info: ConnectionInfo;
  /** Outbound reuse key (see `outboundKey`); undefined for inbound connections. */
  readonly reuseKey: string | undefined;
}

/**
 * Key of an outbound connection. A TLS connection is reused only for the same profile, the same SNI and the same
 * tenant: a connection authenticated for one name or trust store must not carry traffic meant for another, and
 * the tenant a connection was opened for is the one the requests the peer sends back over it are attributed to
 * (it is stamped on the connection and, once the peer's certificate verified, trusted), so another tenant's calls
 * to the same SBC never ride it. TCP connections carry their listener's tenant, not a caller's, and are shared.
 */
export function outboundKey(protocol: 'tcp' | 'tls', address: string, port: number, tlsProfile?: string, servername?: string, tenant?: string): string {
  return protocol === 'tls' ? `tls|${address}|${port}|${tlsProfile ?? ''}|${servername ?? ''}|${tenant ?? ''}` : `tcp|${address}|${port}`;
}

function remoteKey(protocol: 'tcp' | 'tls', address: string, port: number): string {
  return `${protocol}|${address}|${port}`;
}

/** The live connections, indexed by id, by outbound reuse key and by remote address (flow reuse). */
export class ConnectionTable<E extends ConnectionEntry = ConnectionEntry> {
  readonly #byId = new Map<string, E>();
  readonly #byKey = new Map<string, E>();
  /** One entry per remote address and port; a Set only when several connections share one (rare). */
  readonly #byRemote = new Map<string, E | Set<E>>();
  #seq = 0;

  nextId(protocol: 'tcp' | 'tls'): string {
    return `${protocol}-${++this.#seq}`;
  }

  get size(): number {
    return this.#byId.size;
  }

  add(entry: E): void {
    const { info } = entry;
    this.#byId.set(info.id, entry);
    if (entry.reuseKey !== undefined) this.#byKey.set(entry.reuseKey, entry);
    const rk = remoteKey(info.protocol, info.remoteAddress, info.remotePort);
    const found = this.#byRemote.get(rk);
    if (found === undefined) this.#byRemote.set(rk, entry);
    else if (found instanceof Set) found.add(entry);
    else if (found !== entry) this.#byRemote.set(rk, new Set([found, entry]));
  }

  remove(entry: E): void {
    const { info } = entry;
    if (this.#byId.get(info.id) !== entry) return;
    this.#byId.delete(info.id);
    if (entry.reuseKey !== undefined && this.#byKey.get(entry.reuseKey) === entry) this.#byKey.delete(entry.reuseKey);
    const rk = remoteKey(info.protocol, info.remoteAddress, info.remotePort);
    const found = this.#byRemote.get(rk);
    if (found === entry) this.#byRemote.delete(rk);
    else if (found instanceof Set) {
      found.delete(entry);
      if (found.size === 1) this.#byRemote.set(rk, found.values().next().value as E);
      else if (found.size === 0) this.#byRemote.delete(rk);
    }
  }

  get(id: string): E | undefined {
    return this.#byId.get(id);
  }

  /** An open outbound connection made for exactly this key. */
  byKey(key: string): E | undefined {
    const e = this.#byKey.get(key);
    return e && e.info.state === 'open' ? e : undefined;
  }

  /** Open inbound connections from this remote address and port (RFC 5626 flow reuse candidates), newest first. */
  inbound(protocol: 'tcp' | 'tls', address: string, port: number): E[] {
    const found = this.#byRemote.get(remoteKey(protocol, address, port));
    if (found === undefined) return [];
    const open = (e: E): boolean => e.info.direction === 'inbound' && e.info.state === 'open';
    if (!(found instanceof Set)) return open(found) ? [found] : [];
    const out: E[] = [];
    for (const e of found) if (open(e)) out.unshift(e);
    return out;
  }

  entries(): IterableIterator<E> {
    return this.#byId.values();
  }

  /** Copies of every row, for the admin API. */
  list(): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (const e of this.#byId.values()) out.push({ ...e.info, ...(e.info.tls ? { tls: { ...e.info.tls, identities: [...e.info.tls.identities] } } : {}) });
    return out;
  }
}
