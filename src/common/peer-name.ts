import { isIP } from 'node:net';

/**
 * Name and address comparison for certificate identities, one copy for the TLS layer (CN/SAN checks) and the policy
 * (TLS peer lookup), so the two can never disagree on what a name matches. DNS names compare case-insensitively
 * without a trailing dot (RFC 6125 §6.4.1: "the client MUST match the reference identifier ... case-insensitively");
 * IP addresses compare as addresses, not as text (RFC 6125 §6.2.1: the octets of the address).
 * https://www.rfc-editor.org/rfc/rfc6125#section-6.4.1
 */

/**
 * ASCII letters in lower case, trimmed, without a trailing dot. Only A-Z fold (RFC 6125 §6.4.1 and RFC 4343 compare
 * DNS names case-insensitively in ASCII): String.toLowerCase would turn a CN's U+212A KELVIN SIGN into `k`, so
 * `\u212Aarrier.example` would pass for `karrier.example`. A name with other characters never equals an ASCII one.
 */
export function normalizeDnsName(name: string): string {
  return name.trim().replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/\.$/, '');
}

/**
 * The canonical text of an IP address (IPv6 compressed and lower case, IPv4-mapped IPv6 as its IPv4 address), or
 * undefined when `text` is not an address. `::1` and `0:0:0:0:0:0:0:1` give the same text.
 */
export function canonicalIp(text: string): string | undefined {
  const a = text.trim().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(a);
  if (family === 4) return a.split('.').map((o) => String(Number(o))).join('.');
  if (family !== 6) return undefined;
  // The WHATWG URL serializer writes an IPv6 host in its RFC 5952 form.
  const host = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether two texts name the same IP address; false when either is not an address. */
export function sameIpAddress(a: string, b: string): boolean {
  const x = canonicalIp(a);
  return x !== undefined && x === canonicalIp(b);
}

export function isIpLiteral(text: string): boolean {
  return canonicalIp(text) !== undefined;
}

/**
 * RFC 6125 §6.4.3 as RFC 5922 §7.2 narrows it for SIP: a wildcard counts only as the whole left-most label of
 * `pattern` (`*.example.com`), it stands for exactly one label of `name`, and the rest must hold at least two labels:
 * `*.example.com` covers `a.example.com`, never `example.com`, `a.b.example.com`, an IP address or another pattern;
 * `*.com`, `f*.example.com` and `a.*.example.com` cover nothing. Whether wildcards are allowed at all is the caller's
 * decision (a TLS profile's `allowWildcard`).
 * https://www.rfc-editor.org/rfc/rfc6125#section-6.4.3
 */
export function wildcardCovers(pattern: string, name: string): boolean {
  const p = normalizeDnsName(pattern);
  const n = normalizeDnsName(name);
  if (!p.startsWith('*.')) return false;
  const suffix = p.slice(2);
  if (suffix.includes('*') || !suffix.includes('.') || suffix.split('.').some((l) => l === '')) return false;
  if (n.includes('*') || isIpLiteral(n)) return false;
  const dot = n.indexOf('.');
  // The label the wildcard stands for must be a host label (letters, digits, hyphen, underscore): `a:1.b.x` is not a
  // name under b.x.
  return dot > 0 && HOST_LABEL.test(n.slice(0, dot)) && n.slice(dot + 1) === suffix;
}

const HOST_LABEL = /^[a-z0-9_-]+$/i;

/**
 * Whether a presented name (from a certificate) matches a reference name (one we expect, never a pattern). A
 * presented wildcard matches only when `allowWildcard`; IP addresses match as addresses.
 */
export function presentedNameMatches(presented: string, reference: string, opts: { allowWildcard?: boolean } = {}): boolean {
  const p = normalizeDnsName(presented);
  const r = normalizeDnsName(reference);
  if (r === '' || r.includes('*')) return false;
  if (isIpLiteral(r) || isIpLiteral(p)) return sameIpAddress(p, r);
  if (p.includes('*')) return opts.allowWildcard === true && wildcardCovers(p, r);
  return p === r;
}
