import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * The IP address classes the gateway never sends to on a peer's word alone: a next hop in a dialog
 * (src/engine/core/hop-check.ts), a media address in SDP (src/media/sdp-address.ts) and an address a DNS answer gave
 * (src/b2bua/resolved-address.ts) are each held to them, with their own exceptions.
 */
export type AddressClass = 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'broadcast or reserved';

/** A class an address fell in, and the prefix length of the block that holds it. */
export interface AddressClassMatch {
  readonly kind: AddressClass;
  readonly bits: number;
}

const CLASSES: ReadonlyArray<AddressClassMatch & { net: string; v: 'ipv4' | 'ipv6' }> = [
  { kind: 'loopback', net: '127.0.0.0', bits: 8, v: 'ipv4' },
  { kind: 'loopback', net: '::1', bits: 128, v: 'ipv6' },
  // 0.0.0.0/8 is "this network": sending to 0.0.0.0 reaches the sender's own host on Linux.
  { kind: 'unspecified', net: '0.0.0.0', bits: 8, v: 'ipv4' },
  { kind: 'unspecified', net: '::', bits: 128, v: 'ipv6' },
  // 169.254.169.254 is the cloud metadata service.
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
  return { match: { kind: c.kind, bits: c.bits } as AddressClassMatch, list };
});

/** An address as it is compared: brackets off, an IPv4-mapped IPv6 address as IPv4, IPv6 in lower case. */
export function plainAddress(address: string): string {
  const a = (address.startsWith('[') ? address.slice(1, -1) : address).toLowerCase();
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return m ? m[1]! : a;
}

/**
 * The class of an IP address (brackets and an IPv4-mapped form read as plainAddress does), or undefined for an
 * ordinary unicast address or anything that is not an IP address.
 */
export function addressClass(address: string): AddressClassMatch | undefined {
  const a = plainAddress(address);
  const family = isIP(a);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find((c) => c.list.check(a, type))?.match;
}

/** Every address of this host's network interfaces (scope ids off). */
export function hostInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.split('%')[0]!));
}
