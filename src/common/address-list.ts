import { BlockList, isIP } from 'node:net';

/**
 * Adds an address or a CIDR (IPv4 or IPv6) the configuration schema has already checked; anything else is skipped.
 * BlockList matches an IPv4-mapped IPv6 source (`::ffff:10.1.2.3`) against IPv4 entries and the other way round itself.
 */
export function addAddressEntry(list: BlockList, entry: string): void {
  const slash = entry.indexOf('/');
  const addr = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) list.addAddress(addr, type);
  else list.addSubnet(addr, Number(entry.slice(slash + 1)), type);
}

/** A BlockList of addresses and CIDRs (addAddressEntry for each). */
export function addressList(entries: Iterable<string>): BlockList {
  const list = new BlockList();
  for (const e of entries) addAddressEntry(list, e);
  return list;
}
