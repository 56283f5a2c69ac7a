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

/**
 * The key a per-source limit counts an address under: the address itself for IPv4, its /64 for IPv6. One host is
 * given a whole /64 and may send from any address in it, so counted per address it would pass every per-source
 * limit (rates, connections, handshakes, refusals) as 2^64 sources.
 */
export function sourceKey(address: string): string {
  const a = normalizeAddress(address);
  if (isIP(a) !== 6) return a;
  const zone = a.indexOf('%');
  const s = zone < 0 ? a : a.slice(0, zone);
  const gap = s.indexOf('::');
  let groups: string[];
  if (gap < 0) groups = s.split(':');
  else {
    const head = gap === 0 ? [] : s.slice(0, gap).split(':');
    const tail = gap + 2 === s.length ? [] : s.slice(gap + 2).split(':');
    // A dotted IPv4 tail stands for two groups.
    const width = tail.length + (tail.length > 0 && tail[tail.length - 1]!.includes('.') ? 1 : 0);
    groups = [...head, ...new Array<string>(8 - head.length - width).fill('0'), ...tail];
  }
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
