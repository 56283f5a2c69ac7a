import { BlockList, isIP } from 'node:net';
import type { CoreGuard } from './core-guard.js';
import type { LocalAddresses } from './addressing.js';

/**
 * Where the engine may send a request inside a dialog. Its next hop (the first entry of the route set, else the
 * remote target) is what a peer wrote in its Record-Route or Contact, so it is the peer's word, never ours: a
 * carrier's `Record-Route: <sip:127.0.0.1:9022;lr>` would have the gateway send its ACK, BYE and re-INVITEs to a
 * service on its own host. The next hop must not be loopback, unspecified, link-local, multicast, broadcast or
 * reserved, nor one of the gateway's own listeners, unless the dialog's peer (the source of the dialog-creating
 * 2xx or request) is itself in that class: a test or a PBX on the same host talks over loopback, and what it
 * names on loopback is its own. The gateway's own listeners are never a next hop (a loop).
 * docs/control-protocol.md §2.8 (NAT handling) is the other case where a dialog's requests go to the peer's
 * source instead of the address the peer wrote.
 */

export type HopClass = 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'broadcast or reserved';

const CLASSES: ReadonlyArray<{ kind: HopClass; net: string; bits: number; v: 'ipv4' | 'ipv6' }> = [
  { kind: 'loopback', net: '127.0.0.0', bits: 8, v: 'ipv4' },
  { kind: 'loopback', net: '::1', bits: 128, v: 'ipv6' },
  // 0.0.0.0/8 is "this network": sending to 0.0.0.0 reaches the sender's own host on Linux.
  { kind: 'unspecified', net: '0.0.0.0', bits: 8, v: 'ipv4' },
  { kind: 'unspecified', net: '::', bits: 128, v: 'ipv6' },
  { kind: 'link-local', net: '169.254.0.0', bits: 16, v: 'ipv4' },
  { kind: 'link-local', net: 'fe80::', bits: 10, v: 'ipv6' },
  { kind: 'multicast', net: '224.0.0.0', bits: 4, v: 'ipv4' },
  { kind: 'multicast', net: 'ff00::', bits: 8, v: 'ipv6' },
  // 240.0.0.0/4 holds the limited broadcast address 255.255.255.255.
  { kind: 'broadcast or reserved', net: '240.0.0.0', bits: 4, v: 'ipv4' },
];

const LISTS = CLASSES.map((c) => {
  const list = new BlockList();
  list.addSubnet(c.net, c.bits, c.v);
  return { kind: c.kind, list };
});

/**
 * The class of an IP address the engine does not send in-dialog requests to, or undefined for an ordinary
 * unicast address (or a name). BlockList matches an IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the
 * IPv4 classes itself.
 */
export function hopClass(address: string): HopClass | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find((c) => c.list.check(address, type))?.kind;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d), else the address as it is. */
function plainAddress(address: string): string {
  return /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1] ?? address;
}

/**
 * Why `address`:`port` may not be the next hop of a request in a dialog whose peer is at `peer` (undefined when
 * the peer is not known), or undefined when it may. `own` answers whether an address and port are one of the
 * gateway's listeners (addressing.ts `isLocal`); without it only the address classes are checked.
 */
export function hopRefusal(address: string, port: number, peer: string | undefined, own?: Pick<LocalAddresses, 'isLocal'>): string | undefined {
  const plain = plainAddress(address);
  if (own && (own.isLocal(plain, port) || (plain !== address && own.isLocal(address, port)))) return 'this gateway';
  const kind = hopClass(address);
  if (kind === undefined) return undefined;
  if (peer !== undefined && hopClass(peer) === kind) return undefined;
  return kind;
}

/**
 * What the hop check of a dialog needs from the engine: its own listeners, and the counter and rate-limited log
 * line of a refusal (ERR_ENGINE_DIALOG_HOP_REFUSED, counter `dialogHopRefused`).
 */
export interface DialogHops {
  readonly addr: Pick<LocalAddresses, 'isLocal'>;
  readonly guard: Pick<CoreGuard, 'counted'>;
}
