/**
 * A small DER reader for what a far end hands the probe (the CA names of a CertificateRequest, a stapled OCSP
 * response, a certificate's extensions). Every length is checked against the bytes that remain; anything that breaks
 * DER throws a DerError, which the callers turn into "unknown, because ...". No recursion but the fixed shapes the
 * callers walk, so a hostile input can cost at most one pass over its bytes.
 */

export class DerError extends Error {}

/** One element: its tag byte and where its content lies in the buffer. */
export interface Tlv {
  tag: number;
  /** First byte of the tag, content start, and first byte after the content. */
  at: number;
  start: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, ENUMERATED: 0x0a,
  UTF8: 0x0c, NUMERIC: 0x12, PRINTABLE: 0x13, TELETEX: 0x14, IA5: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18,
  VISIBLE: 0x1a, UNIVERSAL: 0x1c, BMP: 0x1e, SEQUENCE: 0x30, SET: 0x31,
} as const;

/** Context-specific tag [n], constructed or primitive. */
export const ctx = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

/** The element at `off`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new DerError(`element at ${off} truncated`);
  const tag = buf[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at ${off}`);
  let len = buf[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at ${off}`);
    if (n > 3) throw new DerError(`length of ${n} bytes at ${off}`);
    if (start + n > limit) throw new DerError(`length at ${off} truncated`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new DerError(`element at ${off} claims ${len} bytes, ${limit - start} remain`);
  return { tag, at: off, start, end: start + len };
}

/** Reads an element and checks its tag. */
export function expect(buf: Uint8Array, off: number, limit: number, tag: number, what: string): Tlv {
  const t = readTlv(buf, off, limit);
  if (t.tag !== tag) throw new DerError(`${what}: tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return t;
}

/** The elements inside a constructed one, in order. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end; ) {
    const t = readTlv(buf, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

export function oidOf(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== TAG.OID || t.end === t.start) throw new DerError('not an object identifier');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i]!;
    if (v === 0n && b === 0x80) throw new DerError('object identifier arc with a leading zero');
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === t.end - 1) throw new DerError('object identifier ends inside an arc');
  }
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** An INTEGER's magnitude as upper-case hex without leading zeros (a serial number as X509Certificate shows it). */
export function integerHex(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== TAG.INTEGER || t.end === t.start) throw new DerError('not an integer');
  const hex = Buffer.from(buf.subarray(t.start, t.end)).toString('hex').toUpperCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

export function smallInteger(buf: Uint8Array, t: Tlv): number {
  if (t.end === t.start || t.end - t.start > 4) throw new DerError('integer out of range');
  let v = 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + buf[i]!;
  return v;
}

/** GeneralizedTime or UTCTime (RFC 5280 §4.1.2.5) as an ISO string. */
export function timeOf(buf: Uint8Array, t: Tlv): string {
  const s = Buffer.from(buf.subarray(t.start, t.end)).toString('latin1');
  const m = t.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s)
    : t.tag === TAG.UTC_TIME ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  if (!m) throw new DerError(`not a time: ${printable(s)}`);
  const year = t.tag === TAG.UTC_TIME ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (!Number.isFinite(ms)) throw new DerError(`not a time: ${s}`);
  return new Date(ms).toISOString();
}

/** Control and non-ASCII-printable characters shown as \xNN / \u{...}, so a far end's text cannot steer a terminal. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'street',
  '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID', '1.2.840.113549.1.9.1': 'emailAddress',
};

function stringValue(buf: Uint8Array, t: Tlv): string {
  const bytes = Buffer.from(buf.subarray(t.start, t.end));
  switch (t.tag) {
    case TAG.UTF8: case TAG.PRINTABLE: case TAG.IA5: case TAG.NUMERIC: case TAG.VISIBLE:
      return bytes.toString(t.tag === TAG.UTF8 ? 'utf8' : 'latin1');
    case TAG.TELETEX:
      return bytes.toString('latin1');
    case TAG.BMP:
      if (bytes.length % 2) throw new DerError('BMPString of odd length');
      return Buffer.from(bytes).swap16().toString('utf16le');
    case TAG.UNIVERSAL: {
      if (bytes.length % 4) throw new DerError('UniversalString not a multiple of 4 bytes');
      let s = '';
      for (let i = 0; i < bytes.length; i += 4) {
        const cp = bytes.readUInt32BE(i);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default:
      // Any other type, as RFC 4514 §2.4 writes it: '#' and the element's DER in hex.
      return `#${Buffer.from(buf.subarray(t.at, t.end)).toString('hex')}`;
  }
}

/**
 * A DER Name (RFC 5280 §4.1.2.4) as `C=DE, O=Example, CN=ca`: its RDNs in the order they are encoded, as
 * X509Certificate's subject lists them; a multi-valued RDN joined with '+', unknown attributes by their OID.
 */
export function distinguishedName(buf: Uint8Array, name: Tlv): string {
  if (name.tag !== TAG.SEQUENCE) throw new DerError('a name is not a SEQUENCE');
  const rdns: string[] = [];
  for (const rdn of children(buf, name)) {
    if (rdn.tag !== TAG.SET) throw new DerError('a relative distinguished name is not a SET');
    const parts: string[] = [];
    for (const atv of children(buf, rdn)) {
      if (atv.tag !== TAG.SEQUENCE) throw new DerError('an attribute is not a SEQUENCE');
      const [type, value, extra] = children(buf, atv);
      if (!type || !value || extra) throw new DerError('an attribute is not a type and a value');
      const oid = oidOf(buf, type);
      parts.push(`${ATTRIBUTE_NAMES[oid] ?? oid}=${printable(stringValue(buf, value))}`);
    }
    if (parts.length === 0) throw new DerError('an empty relative distinguished name');
    rdns.push(parts.join('+'));
  }
  return rdns.join(', ');
}

/** A whole buffer holding exactly one Name. */
export function decodeName(der: Uint8Array): string {
  const t = readTlv(der, 0, der.length);
  if (t.end !== der.length) throw new DerError(`${der.length - t.end} bytes after the name`);
  return distinguishedName(der, t);
}
