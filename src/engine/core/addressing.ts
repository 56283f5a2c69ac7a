import { isIP } from 'node:net';
import { hostInterfaceAddresses, plainAddress } from '../../common/address-class.js';
import { newBranch } from '../../sip/transaction/index.js';
import type { Flow, ListenerInfo, TransportProtocol, TransportSender } from '../../sip/transport/types.js';
import type { SipUri } from '../../sip/message/index.js';

/** `[v6]` for IPv6 literals written in a hostport, anything else as it is. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function unbracket(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The transport a URI asks for with `;transport=` (udp when absent; `sips:` alone does not force TLS). */
export function transportOf(u: SipUri): TransportProtocol {
  const t = u.params.transport;
  if (t) {
    const l = t.toLowerCase();
    if (l === 'tcp' || l === 'tls' || l === 'udp') return l;
  }
  return 'udp';
}

/** A route URI with the loose-routing `lr` parameter (https://www.rfc-editor.org/rfc/rfc3261#section-16.6). */
export function withLr(uri: string): string {
  return /;lr\b/i.test(uri) ? uri : `${uri};lr`;
}

/** The default port of a transport (https://www.rfc-editor.org/rfc/rfc3261#section-19.1.2). */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

/** The address of an IP literal (brackets off), or undefined for a name, which needs a lookup (name-lookups.ts). */
export function ipLiteral(host: string): string | undefined {
  const h = unbracket(host);
  return isIP(h) !== 0 ? h : undefined;
}


/** How long the list of this host's interface addresses is used again. */
const INTERFACES_MS = 10_000;

export interface LocalAddressesOptions {
  /** This host's interface addresses, which a wildcard bind listens on (default: os.networkInterfaces). */
  interfaceAddresses?: () => readonly string[];
  /** Milliseconds now, for how long that list is used again (default Date.now). */
  now?: () => number;
}

/**
 * The engine's own addresses as peers must see them: which listener a protocol leaves from, the host:port for
 * Via, Contact and Record-Route (a wildcard bind is advertised as `advertise`), and whether an address is ours.
 */
export class LocalAddresses {
  readonly #transport: TransportSender;
  readonly advertise: string;
  readonly #interfaceAddresses: () => readonly string[];
  readonly #now: () => number;
  #interfaces: { at: number; set: Set<string> } | undefined;

  constructor(transport: TransportSender, advertise: string, o: LocalAddressesOptions = {}) {
    this.#transport = transport;
    this.advertise = advertise;
    this.#interfaceAddresses = o.interfaceAddresses ?? hostInterfaceAddresses;
    this.#now = o.now ?? Date.now;
  }

  /** The listener a request on `protocol` leaves from (IPv4 preferred). */
  listenerFor(protocol: TransportProtocol): ListenerInfo | undefined {
    let found: ListenerInfo | undefined;
    for (const l of this.#transport.listeners()) {
      if (l.protocol !== protocol) continue;
      if (isIP(unbracket(l.address)) !== 6) return l;
      found ??= l;
    }
    return found;
  }

  hostOf(l: ListenerInfo): string {
    const a = unbracket(l.address);
    return a === '0.0.0.0' || a === '::' ? this.advertise : a;
  }

  hostportOf(l: ListenerInfo): string {
    return `${bracketHost(this.hostOf(l))}:${l.port}`;
  }

  /** host:port of the listener for `protocol`, or the advertised host. */
  hostportFor(protocol: TransportProtocol): string {
    const l = this.listenerFor(protocol);
    return l ? this.hostportOf(l) : this.advertise;
  }

  /** Our host:port on the flow a message came in on. */
  flowHostport(f: Flow): string {
    const a = f.localAddress;
    if (a && a !== '0.0.0.0' && a !== '::' && f.localPort) {
      if (f.protocol === 'udp' || f.connectionId === undefined) return `${bracketHost(a)}:${f.localPort}`;
      // An inbound connection's local port is the listener's; an outbound one's is ephemeral.
      const l = f.listenerId ? this.#transport.listeners().find((x) => x.id === f.listenerId) : undefined;
      return `${bracketHost(a)}:${l?.port ?? f.localPort}`;
    }
    return this.hostportFor(f.protocol);
  }

  /** The Contact drachtio generates from the transport in use (docs/control-protocol.md §2.8). */
  contactFor(protocol: TransportProtocol, hostport: string): string {
    if (protocol === 'tls') return `<sips:${hostport};transport=tls>`;
    if (protocol === 'tcp') return `<sip:${hostport};transport=tcp>`;
    return `<sip:${hostport}>`;
  }

  viaFor(protocol: TransportProtocol): string {
    // RFC 3581 §3: "The client [...] MUST insert the rport parameter with no value" (drachtio always adds it).
    return `SIP/2.0/${protocol.toUpperCase()} ${this.hostportFor(protocol)};rport;branch=${newBranch()}`;
  }

  /** Our Record-Route entry as a proxy (https://www.rfc-editor.org/rfc/rfc3261#section-16.6 step 4). */
  recordRouteFor(protocol: TransportProtocol): string {
    const hp = this.hostportFor(protocol);
    if (protocol === 'tls') return `<sips:${hp};transport=tls;lr>`;
    return protocol === 'tcp' ? `<sip:${hp};transport=tcp;lr>` : `<sip:${hp};lr>`;
  }

  /**
   * Whether a request to `address`:`port` would reach this engine: a listener's bound or advertised address on its
   * port, the unspecified address (which the host delivers to itself), and behind a listener bound to a wildcard
   * address any address of this host on that port: each interface's, 127.0.0.0/8 and ::1. A new request, a
   * proxied one and a relayed in-dialog one all ask this before they leave, so the engine never sends to itself.
   */
  isLocal(address: string, port: number): boolean {
    const a = plainAddress(address);
    let wildcard = false;
    for (const l of this.#transport.listeners()) {
      if (l.port !== port) continue;
      const bound = plainAddress(l.address);
      if (bound === a || plainAddress(this.hostOf(l)) === a || a === '0.0.0.0' || a === '::') return true;
      if (bound === '0.0.0.0' || bound === '::') wildcard = true;
    }
    return wildcard && this.#isHostAddress(a);
  }

  /** An address of this host: loopback, or one of its interfaces (the list is read again every 10 s). */
  #isHostAddress(a: string): boolean {
    if (a === '::1' || (isIP(a) === 4 && a.startsWith('127.'))) return true;
    const now = this.#now();
    if (this.#interfaces === undefined || now - this.#interfaces.at >= INTERFACES_MS) {
      this.#interfaces = { at: now, set: new Set(this.#interfaceAddresses().map(plainAddress)) };
    }
    return this.#interfaces.set.has(a);
  }
}
