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

// Every RFC 4475 and RFC 5118 message sent to a running gateway (engine and b2bua in one thread, b2bua bridging to a
// UAS that answers 486), once over UDP and once over a fresh TCP connection. What a peer sees decides:
//  - a request the RFC calls valid gets one final answer, never 400 (it is bridged or answered by the engine); silence
//    fails it, with 501 for an unknown method out of dialog;
//  - a message the UAS checks refuse gets exactly that status (400 or 416);
//  - a message the parser refuses gets 400 when it names enough to be answered, and nothing otherwise;
//  - after all of it, the gateway still answers and still bridges a call.
// Silence is proven by events, not waited out: a probe request follows the message on the same socket or
// connection, and its answer (or the connection's end) closes the exchange.

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

let probes = 0;
/**
 * A request sent right after a message that must get no answer: the engine handles one connection's (or one
 * sender's) messages in order and decides to drop at once, so once the probe is answered, silence is the verdict.
 */
function probe(transport: 'udp' | 'tcp', port: number): { branch: string; bytes: Buffer } {
  const n = ++probes;
  const branch = `z9hG4bKtortureprobe${n}x`;
  const text = [`OPTIONS sip:probe@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/${transport.toUpperCase()} ${SENDER}:${port};rport;branch=${branch}`,
    'Max-Forwards: 70', `From: <sip:probe@${SENDER}>;tag=p${n}`, 'To: <sip:probe@127.0.0.1>', `Call-ID: torture-probe-${process.pid}-${n}`,
    'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
  return { branch, bytes: Buffer.from(text) };
}

/** Answers in `text` to the probe, and to the message (without the probe's). */
function split(text: string, branch: string | undefined, probeBranch: string): { message: number[]; probe: number[] } {
  const parts = text.split(/(?=SIP\/2\.0 \d{3} )/);
  const mine = parts.filter((p) => p.includes(probeBranch)).join('');
  const rest = parts.filter((p) => !p.includes(probeBranch)).join('');
  return { message: answersTo(rest, branch), probe: answersTo(mine, probeBranch) };
}

interface Channel {
  send(b: Buffer): void;
  onData(f: (text: string) => void): void;
  /** A stream closed by the gateway: nothing more can come. */
  onEnd(f: () => void): void;
}

/**
 * Sends the message and waits for what decides it: its final answer when one is expected, else the probe's
 * answer or the connection's end. 5 s at most either way; then what arrived is the outcome.
 */
function exchange(ch: Channel, probeOf: { branch: string; bytes: Buffer } | undefined, bytes: Buffer, expectAnswer: boolean, branch: string | undefined): Promise<Outcome> {
  let text = '';
  const answers = () => (probeOf ? split(text, branch, probeOf.branch) : { message: answersTo(text, branch), probe: [] as number[] });
  return new Promise<Outcome>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve({ statuses: answers().message, text });
    };
    const timer = setTimeout(done, 5_000);
    ch.onData((chunk) => {
      text += chunk;
      const got = answers();
      if (expectAnswer ? got.message.some(isFinal) : got.probe.some(isFinal)) done();
    });
    ch.onEnd(done);
    ch.send(bytes);
    if (!expectAnswer && probeOf) ch.send(probeOf.bytes);
  });
}

async function viaUdp(port: number, bytes: Buffer, expectAnswer: boolean, branch?: string): Promise<Outcome> {
  const local = sentByPort(bytes);
  const s = createSocket({ type: 'udp4', reuseAddr: true });
  s.bind(local, SENDER);
  await once(s, 'listening');
  try {
    return await exchange({
      send: (b) => s.send(b, port, '127.0.0.1'),
      onData: (f) => s.on('message', (m) => f(m.toString('latin1'))),
      onEnd: () => undefined,
    }, probe('udp', local), bytes, expectAnswer, branch);
  } finally {
    s.close();
  }
}

/** `withProbe` false: the message leaves the stream waiting for more bytes, which a probe would become. */
async function viaTcp(port: number, bytes: Buffer, expectAnswer: boolean, branch?: string, withProbe = true): Promise<Outcome> {
  const c = connect({ host: '127.0.0.1', port });
  await once(c, 'connect');
  c.on('error', () => undefined);
  try {
    return await exchange({
      send: (b) => void c.write(b),
      onData: (f) => c.on('data', (d: Buffer) => f(d.toString('latin1'))),
      onEnd: (f) => c.once('close', f),
    }, withProbe ? probe('tcp', c.localPort ?? 5060) : undefined, bytes, expectAnswer, branch);
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

/** The methods RFC 3261 and its extensions define; a request with another method out of dialog gets 501. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

/**
 * What a peer must see, from the RFC's verdict on the message (the manifest) and the message's own start line,
 * never from our parser: a final status, any final but 400, or nothing.
 */
function expectation(c: TortureCase, bytes: Buffer, transport: 'udp' | 'tcp'): { answer: number | 'not-400' | 'none'; why: string } {
  if (!isRequest(bytes)) return { answer: 'none', why: 'a response is never answered' };
  if (transport === 'tcp' && !hasContentLength(bytes)) return { answer: 400, why: 'RFC 3261 §18.3: no Content-Length on a stream' };
  if (c.file === 'rfc4475/inv2543.dat') {
    return { answer: 400, why: 'an INVITE without Contact is refused (RFC 3261 §8.1.1.8; RFC 4475 §3.4.1 asks acceptance only of elements keeping RFC 2543 compatibility)' };
  }
  if (c.file === 'rfc4475/esc02.dat') {
    return { answer: 400, why: 'valid to RFC 4475 §3.1.1.5 with the unknown method RE%47IST%45R, but drachtio-srf unescapes it to REGISTER (and C%6Fntact to a Contact): refused rather than handed to the app as another request' };
  }
  const method = /^([^ \r\n]+) /.exec(bytes.toString('latin1'))?.[1] ?? '';
  if (c.expect === 'parse') {
    if (method === 'ACK') return { answer: 'none', why: 'an ACK gets no response' };
    if (!KNOWN_METHODS.has(method)) return { answer: 501, why: `valid, with the unknown method ${method} out of dialog: 501 (RFC 3261 §8.2.1)` };
    return { answer: 'not-400', why: 'valid: answered, and not refused' };
  }
  if (typeof c.expect === 'number') return { answer: c.expect, why: 'refused by the UAS checks the RFC names' };
  if (c.file === 'rfc4475/clerr.dat' && transport === 'tcp') return { answer: 'none', why: 'on a stream the rest of the body is awaited' };
  if (UNANSWERABLE.has(c.file)) return { answer: 'none', why: 'invalid, with nothing to send an answer to' };
  return { answer: 400, why: 'invalid, answerable' };
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
        // Every message here comes from 127.0.0.1, and each one the parser refuses is owed its 400: the per-source
        // bound on 400s (5 a second) is for floods, and this run is not one.
        limits: { transport: { badRequestsPerSecondPerSource: 10_000 } },
        // The engine in this thread: the same engine and b2bua, started 34 times without a worker's start-up each time.
        engineInWorker: false,
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
    const key = transactionKey(c.file, bytes);
    const branch = key.includes('|') ? key.split('|')[0] : undefined;
    for (const transport of ['udp', 'tcp'] as const) {
      const { port } = await pools[transport].for(key);
      // One RFC message (baddn.dat) ends without the empty line after its headers: a datagram's end closes the
      // header section, a stream needs the empty line, which is added on TCP.
      const streamBytes = bytes.includes('\r\n\r\n') ? bytes : Buffer.concat([bytes, Buffer.from('\r\n')]);
      const expected = expectation(c, bytes, transport);
      const what = `${c.file} over ${transport.toUpperCase()} (${c.note})`;
      // "Content-Length larger than message" on a stream: the rest is awaited, and a probe would be read as that rest.
      const waitsForBody = transport === 'tcp' && c.file === 'rfc4475/clerr.dat';
      const out = transport === 'udp'
        ? await viaUdp(port, bytes, expected.answer !== 'none', branch)
        : await viaTcp(port, streamBytes, expected.answer !== 'none', branch, !waitsForBody);
      const finals = out.statuses.filter(isFinal);
      table.push(`${c.file} ${transport}: ${out.statuses.join(',') || 'none'}`);
      const seen = `${what}: expected ${expected.answer} (${expected.why}), answered ${out.statuses.join(',') || 'nothing'}`;
      if (expected.answer === 'none') assert.deepEqual(out.statuses, [], seen);
      else if (expected.answer === 'not-400') {
        assert.equal(finals.length, 1, seen);
        assert.notEqual(finals[0], 400, seen);
      } else assert.deepEqual(finals, [expected.answer], seen);
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
    const out = transport === 'udp' ? await viaUdp(port, invite, true) : await viaTcp(port, invite, true);
    assert.ok(out.statuses.includes(486), `after the torture set a call over ${transport} is still bridged: ${out.statuses.join(',')}`);
  }
});
