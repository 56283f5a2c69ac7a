import { isIP } from 'node:net';

/**
 * The canonical text of an IP address as the transport keys and reports it: no IPv6 brackets, lower case,
 * and IPv4-mapped IPv6 ('::ffff:192.0.2.1') reduced to the IPv4 address.
 */
export function normalizeAddress(address: string): string {
  let a = address;
  if (a.charCodeAt(0) === 0x5b && a.charCodeAt(a.length - 1) === 0x5d) a = a.slice(1, -1);
  if (a.length > 7 && (a.startsWith('::ffff:') || a.startsWith('::FFFF:')) && isIP(a.slice(7)) === 4) return a.slice(7);
  return a.toLowerCase();
}

/** 4 or 6 for an IP literal (brackets allowed), 0 for anything else. */
export function addressFamily(address: string): 0 | 4 | 6 {
  return isIP(normalizeAddress(address)) as 0 | 4 | 6;
}
