/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for resolver tests: answers NAPTR, SRV, A and AAAA
 * queries from a table, NXDOMAIN for names it does not know, and counts the questions it was asked. No
 * compression, no EDNS, no TCP: just what node:dns (c-ares) needs for these record types.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

export type DnsRecord =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'NAPTR'; order: number; preference: number; flags: string; service: string; regexp: string; replacement: string };

const TYPE = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 } as const;
const TYPE_NAME: Record<number, string> = { 1: 'A', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR' };

export interface DnsServer {
  port: number;
  /** `<name> <type>` of every question, in order. */
  asked: string[];
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'ascii')]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function rdata(r: DnsRecord): Buffer {
  switch (r.type) {
    case 'A':
      return Buffer.from(r.address.split('.').map(Number));
    case 'AAAA': {
      const [head, tail] = r.address.split('::') as [string, string | undefined];
      const h = head ? head.split(':') : [];
      const t = tail ? tail.split(':') : [];
      const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
      return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
    }
    case 'SRV':
      return Buffer.concat([u16(r.priority), u16(r.weight), u16(r.port), encodeName(r.target)]);
    case 'NAPTR':
      return Buffer.concat([u16(r.order), u16(r.preference), charString(r.flags), charString(r.service), charString(r.regexp), encodeName(r.replacement)]);
  }
}

/** Reads the question of a query: name (lower case), type, and where the question ends. */
function readQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  let off = 12;
  const labels: string[] = [];
  while (off < msg.length) {
    const len = msg[off]!;
    if (len === 0) break;
    if (len > 63) return undefined;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii').toLowerCase());
    off += 1 + len;
  }
  if (off + 5 > msg.length) return undefined;
  return { name: labels.join('.'), type: msg.readUInt16BE(off + 1), end: off + 5 };
}

/** Starts the server with `zone`: name (no trailing dot) → records. */
export async function startDnsServer(zone: Record<string, DnsRecord[]>): Promise<DnsServer> {
  const sock = createSocket('udp4');
  const asked: string[] = [];
  const table = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase(), v]));
  sock.on('message', (msg, from) => {
    if (msg.length < 12) return;
    const q = readQuestion(msg);
    if (!q) return;
    asked.push(`${q.name} ${TYPE_NAME[q.type] ?? q.type}`);
    const records = table.get(q.name);
    const answers = (records ?? []).filter((r) => TYPE[r.type] === q.type);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    // QR, AA, RD copied; RA; RCODE 3 (NXDOMAIN) for an unknown name
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (records ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const body = answers.map((r) => {
      const d = rdata(r);
      return Buffer.concat([Buffer.from([0xc0, 12]), u16(TYPE[r.type]), u16(1), Buffer.from([0, 0, 0, 60]), u16(d.length), d]);
    });
    sock.send(Buffer.concat([header, msg.subarray(12, q.end), ...body]), from.port, from.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, asked, close: () => new Promise((ok) => sock.close(() => ok())) };
}
