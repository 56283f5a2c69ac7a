import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, ua } from '../support/mini-ua.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import type { TortureCase } from '../unit/sip/message/torture.test.js';

// Every RFC 4475 and RFC 5118 message sent to a running gateway (engine in its worker thread, b2bua bridging to a
// UAS that answers 486), once over UDP and once over a fresh TCP connection. What a peer sees decides:
//  - a message the RFC calls valid is never answered 400 (it is bridged, answered by the engine, or, for an unknown
//    method out of dialog, dropped as drachtio-server does);
//  - a message the UAS checks refuse gets exactly that status (400 or 416);
//  - a message the parser refuses gets 400 when it names enough to be answered, and nothing otherwise;
//  - after all of it, the gateway still answers and still bridges a call.

const dir = join(import.meta.dirname, '../fixtures/sip');
const cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TortureCase[];

/** Parser-refused messages that cannot be answered: no usable Via/From/To/Call-ID/CSeq, or not a request. */
const UNANSWERABLE = new Set([
  'rfc4475/insuf.dat', // no Via, no From/To: nowhere to send a response
  'rfc4475/scalarlg.dat', // a response
  'rfc4475/bigcode.dat', // a response
]);

interface Outcome { statuses: number[]; text: string }

/** The top Via's branch and the CSeq method: what a server transaction is matched by (RFC 3261 §17.2.3). */
function transactionKey(file: string, bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const branch = /;[ \t]*branch[ \t]*=[ \t]*([^;,\s]+)/i.exec(text)?.[1];
  const method = /(?:^|\r\n)CSeq[ \t]*:[ \t]*\d*[ \t]*(\S+)/i.exec(text)?.[1];
  return branch !== undefined && method !== undefined ? `${branch}|${method}` : file;
}

/** Only the answers to the message that was sent: other transactions' retransmissions share the port. */
function answersTo(text: string, branch: string | undefined): number[] {
  const out: number[] = [];
  for (const part of text.split(/(?=SIP\/2\.0 \d{3} )/)) {
    const m = /^SIP\/2\.0 (\d{3})/.exec(part);
    if (!m) continue;
    if (branch !== undefined && !part.includes(branch)) continue;
    out.push(Number(m[1]));
  }
  return out;
}

const isFinal = (s: number) => s >= 200;


function isRequest(bytes: Buffer): boolean {
  return !bytes.subarray(0, 8).toString('latin1').startsWith('SIP/');
}

/**
 * The port of the top Via's sent-by (5060 when absent): without rport a UDP response goes to the source address at
 * that port (RFC 3261 §18.2.2), so the sender listens there, on a loopback address of its own.
 */
function sentByPort(bytes: Buffer): number {
  const m = /(?:^|\r\n)(?:via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*[A-Za-z]+[ \t]+(\[[^\]]*\]|[^\s:;,]+)(?::(\d+))?/i
    .exec(bytes.toString('latin1'));
  const port = m?.[2] !== undefined ? Number(m[2]) : 5060;
  return port > 0 && port < 65_536 ? port : 5060;
}

const SENDER = '127.0.0.77';

async function viaUdp(port: number, bytes: Buffer, waitMs: number, branch?: string): Promise<Outcome> {
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  s.bind(sentByPort(bytes), SENDER);
  await once(s, 'listening');
  let text = '';
  try {
    return await new Promise<Outcome>((resolve) => {
      const done = () => resolve({ statuses: answersTo(text, branch), text });
      const timer = setTimeout(done, waitMs);
      s.on('message', (m) => {
        text += m.toString('latin1');
        if (answersTo(text, branch).some(isFinal)) { clearTimeout(timer); setTimeout(done, 30); }
      });
      s.send(bytes, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function viaTcp(port: number, bytes: Buffer, waitMs: number, branch?: string): Promise<Outcome> {
  const c = connect({ host: '127.0.0.1', port });
  await once(c, 'connect');
  let text = '';
  try {
    return await new Promise<Outcome>((resolve) => {
      const done = () => resolve({ statuses: answersTo(text, branch), text });
      const timer = setTimeout(done, waitMs);
      c.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (answersTo(text, branch).some(isFinal)) { clearTimeout(timer); setTimeout(done, 30); }
      });
      c.on('error', () => undefined);
      c.write(bytes);
    });
  } finally {
    c.destroy();
  }
}

/** Header section of a message, for the stream rule: no Content-Length on TCP is a framing error (RFC 3261 §18.3). */
function hasContentLength(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return /(?:^|\r\n)(?:content-length|l)[ \t]*:/i.test(end < 0 ? text : text.slice(0, end));
}

/**
 * Gateways for one transport. Several RFC messages share a branch, a sent-by and a method, which makes the later
 * ones retransmissions of the first to any RFC 3261 transaction layer; such a message goes to a fresh gateway.
 */
class GatewayPool {
  #current: Gateway | undefined;
  #keys = new Set<string>();
  started = 0;
  constructor(private readonly transport: 'udp' | 'tcp', private readonly target: string) {}

  async for(key: string): Promise<{ gw: Gateway; port: number }> {
    if (!this.#current || this.#keys.has(key)) {
      await this.#current?.close();
      this.#keys.clear();
      this.#current = await startGateway({
        // Both transports listen, so a B leg can always reach the UAS over UDP; the messages use `transport`.
        listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
        control: { host: '127.0.0.1', port: 0, secret: 'torture-secret' },
        target: this.target,
        logLevel: 'silent',
      });
      this.started++;
    }
    this.#keys.add(key);
    return { gw: this.#current, port: this.#current.addresses.sip.find((l) => l.protocol === this.transport)!.port };
  }

  close(): Promise<void> {
    return this.#current?.close() ?? Promise.resolve();
  }
}

test('RFC 4475 and RFC 5118 messages against a running gateway over UDP and TCP', async (t) => {
  const uas = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '486 Busy Here', self.port), from);
  });
  const pools = { udp: new GatewayPool('udp', `127.0.0.1:${uas.port}`), tcp: new GatewayPool('tcp', `127.0.0.1:${uas.port}`) };
  t.after(() => Promise.all([pools.udp.close(), pools.tcp.close()]));

  const table: string[] = [];
  for (const c of cases) {
    const bytes = readFileSync(join(dir, c.file));
    const request = isRequest(bytes);
    const key = transactionKey(c.file, bytes);
    const branch = key.includes('|') ? key.split('|')[0] : undefined;
    for (const transport of ['udp', 'tcp'] as const) {
      const { port } = await pools[transport].for(key);
      // A final answer ends the wait at once; silence is waited for a little, since silence is sometimes right.
      const wait = 1_000;
      // One RFC message (baddn.dat) ends without the empty line after its headers: a datagram's end closes the
      // header section, a stream needs the empty line, which is added on TCP.
      const streamBytes = bytes.includes('\r\n\r\n') ? bytes : Buffer.concat([bytes, Buffer.from('\r\n')]);
      const out = transport === 'udp' ? await viaUdp(port, bytes, wait, branch) : await viaTcp(port, streamBytes, wait, branch);
      const finals = out.statuses.filter(isFinal);
      table.push(`${c.file} ${transport}: ${out.statuses.join(',') || 'none'}`);
      const what = `${c.file} over ${transport.toUpperCase()} (${c.note}), answered ${out.statuses.join(',') || 'nothing'}`;
      if (!request) {
        assert.deepEqual(out.statuses, [], `${what}: a stray response is never answered`);
        continue;
      }
      if (transport === 'tcp' && !hasContentLength(bytes)) {
        // RFC 3261 §18.3: on a stream the Content-Length is mandatory; without it there is no way to frame.
        assert.deepEqual(finals, [400], `${what}: no Content-Length on a stream`);
        continue;
      }
      if (c.file === 'rfc4475/inv2543.dat') {
        // Valid RFC 2543 syntax that parses, but a dialog-creating INVITE without Contact is refused by the engine
        // (RFC 3261 §8.1.1.8; RFC 4475 §3.4.1 asks acceptance only of elements keeping RFC 2543 compatibility).
        assert.deepEqual(finals, [400], `${what}: an INVITE without Contact is refused`);
        continue;
      }
      if (c.expect === 'parse') {
        assert.ok(!finals.includes(400), `${what}: a valid message is not refused`);
        continue;
      }
      if (typeof c.expect === 'number') {
        assert.equal(finals[0], c.expect, what);
        continue;
      }
      // Refused by the parser.
      if (c.file === 'rfc4475/clerr.dat' && transport === 'tcp') {
        // "Content-Length larger than message": on a stream the rest is awaited, so nothing is answered yet.
        assert.deepEqual(finals, [], what);
      } else if (UNANSWERABLE.has(c.file)) {
        assert.deepEqual(finals, [], what);
      } else {
        assert.deepEqual(finals, [400], what);
      }
    }
  }
  t.diagnostic(`gateways started: udp ${pools.udp.started}, tcp ${pools.tcp.started}; outcomes:\n${table.join('\n')}`);

  // Still alive: the engine answers, and a call is still bridged to the UAS (whose 486 comes back).
  for (const transport of ['udp', 'tcp'] as const) {
    const { port } = await pools[transport].for(`alive-${transport}`);
    const invite = Buffer.from([
      `INVITE sip:alive@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:5999;rport;branch=z9hG4bKalive${transport}`,
      'Max-Forwards: 70', 'From: <sip:a@127.0.0.1>;tag=alive', 'To: <sip:alive@127.0.0.1>', `Call-ID: alive-${transport}-${process.pid}`,
      'CSeq: 1 INVITE', 'Contact: <sip:a@127.0.0.1:5999>', 'Content-Length: 0', '', ''].join('\r\n'));
    const out = transport === 'udp' ? await viaUdp(port, invite, 5_000) : await viaTcp(port, invite, 5_000);
    assert.ok(out.statuses.includes(486), `after the torture set a call over ${transport} is still bridged: ${out.statuses.join(',')}`);
  }
});
