import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer, readContentLength, type FrameError, type StreamFramerOptions } from '../../../../src/sip/transport/stream-framer.js';

type Event = { frame: string } | { ping: true } | { error: string; requestLine: boolean; head: boolean };

function collect(chunks: Buffer[], options?: StreamFramerOptions): Event[] {
  const events: Event[] = [];
  const framer = new StreamFramer(
    {
      onFrame: (m) => events.push({ frame: m.toString('utf8') }),
      onPing: () => events.push({ ping: true }),
      onFrameError: (e: FrameError) => events.push({ error: e.code, requestLine: e.requestLine, head: e.headerBlock !== undefined }),
    },
    options,
  );
  for (const c of chunks) framer.push(c);
  return events;
}

function request(body: string, clHeader = 'Content-Length'): string {
  const len = Buffer.byteLength(body, 'utf8');
  return (
    'MESSAGE sip:bob@example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n' +
    'Call-ID: abc@host\r\n' +
    `${clHeader}: ${len}\r\n` +
    '\r\n' +
    body
  );
}

const messages = [
  request('héllo wörld — ✓ 日本語 🎉'),
  request('', 'content-length'),
  request('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n\r\n', 'l'),
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-2\r\nCONTENT-LENGTH :  4\r\n\r\n€x',
  request('😀'.repeat(3), 'L'),
];
// Stray CRLFs (pongs) between messages are ignored; a double CRLF is a ping.
const stream = Buffer.from(
  '\r\n' + messages[0] + '\r\n\r\n' + messages[1] + messages[2] + '\r\n' + messages[3] + '\r\n\r\n\r\n\r\n' + messages[4] + '\r\n\r\n',
  'utf8',
);
const expected: Event[] = [
  { frame: messages[0]! },
  { ping: true },
  { frame: messages[1]! },
  { frame: messages[2]! },
  { frame: messages[3]! },
  { ping: true },
  { ping: true },
  { frame: messages[4]! },
  { ping: true },
];

test('frames a stream delivered in one chunk', () => {
  assert.deepEqual(collect([stream]), expected);
});

test('frames the stream split at every offset', () => {
  for (let split = 1; split < stream.length; split++) {
    assert.deepEqual(collect([stream.subarray(0, split), stream.subarray(split)]), expected, `split at ${split}`);
  }
});

test('frames the stream split at every pair of offsets around the header ends', () => {
  // Three chunks: every first cut in a window around each "\r\n\r\n", every second cut after it.
  const ends: number[] = [];
  for (let i = stream.indexOf('\r\n\r\n'); i >= 0; i = stream.indexOf('\r\n\r\n', i + 1)) ends.push(i);
  for (const e of ends) {
    for (let a = Math.max(1, e - 2); a <= e + 4; a++) {
      for (let b = a + 1; b < Math.min(stream.length, a + 40); b++) {
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        assert.deepEqual(collect(chunks), expected, `cuts at ${a},${b}`);
      }
    }
  }
});

test('frames the stream fed one byte at a time', () => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  assert.deepEqual(collect(chunks), expected);
});

test('a message whose body ends a chunk is delivered without waiting for more', () => {
  const one = Buffer.from(messages[0]!, 'utf8');
  assert.deepEqual(collect([one]), [{ frame: messages[0]! }]);
});

test('missing Content-Length on a stream is an error value with the header block', () => {
  const bad = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK-x\r\n\r\n');
  assert.deepEqual(collect([bad]), [{ error: 'ERR_SIP_FRAME_NO_CONTENT_LENGTH', requestLine: true, head: true }]);
});

test('non-numeric, negative and repeated-different Content-Length are refused', () => {
  for (const v of ['abc', '-1', '1e3', '0x10', '12 34', '99999999999']) {
    const bad = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nContent-Length: ${v}\r\n\r\n`);
    assert.deepEqual(collect([bad]), [{ error: 'ERR_SIP_FRAME_BAD_CONTENT_LENGTH', requestLine: true, head: true }], v);
  }
  const twice = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 5\r\n\r\nhello');
  assert.deepEqual(collect([twice]), [{ error: 'ERR_SIP_FRAME_BAD_CONTENT_LENGTH', requestLine: true, head: true }]);
  const same = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nhi');
  assert.equal(collect([same]).length, 1);
});

test('a huge Content-Length is refused before any body is buffered', () => {
  const bad = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 4000000000\r\n\r\nxx');
  assert.deepEqual(collect([bad]), [{ error: 'ERR_SIP_FRAME_TOO_LARGE', requestLine: false, head: true }]);
});

test('a header block over the limit is refused, whether or not its end was seen', () => {
  const long = 'OPTIONS sip:a@b SIP/2.0\r\nX-Pad: ' + 'a'.repeat(300) + '\r\n';
  assert.deepEqual(collect([Buffer.from(long)], { maxHeaderBytes: 256 }), [
    { error: 'ERR_SIP_FRAME_HEADER_TOO_LARGE', requestLine: true, head: false },
  ]);
  assert.deepEqual(collect([Buffer.from(long + 'Content-Length: 0\r\n\r\n')], { maxHeaderBytes: 256 }), [
    { error: 'ERR_SIP_FRAME_HEADER_TOO_LARGE', requestLine: true, head: false },
  ]);
});

test('a message over the limit is refused; nothing after an error is framed', () => {
  const big = request('x'.repeat(200));
  const events = collect([Buffer.from(big + messages[1])], { maxMessageBytes: 200 });
  assert.deepEqual(events, [{ error: 'ERR_SIP_FRAME_TOO_LARGE', requestLine: true, head: true }]);
});

test('input after a failure is ignored and reported once', () => {
  const events: Event[] = [];
  let errors = 0;
  const f = new StreamFramer({ onFrame: (m) => events.push({ frame: m.toString() }), onPing: () => undefined, onFrameError: () => errors++ });
  f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n\r\n'));
  f.push(Buffer.from(messages[1]!));
  assert.equal(errors, 1);
  assert.equal(f.failed, true);
  assert.deepEqual(events, []);
});

test('readContentLength honours compact form, case and folding', () => {
  assert.equal(readContentLength(Buffer.from('INVITE x SIP/2.0\r\nl: 7\r\n\r\n')), 7);
  assert.equal(readContentLength(Buffer.from('INVITE x SIP/2.0\r\ncOnTeNt-LeNgTh\t:\t12\r\n\r\n')), 12);
  assert.equal(readContentLength(Buffer.from('INVITE x SIP/2.0\r\nContent-Length:\r\n 9\r\n\r\n')), 9);
  assert.equal(readContentLength(Buffer.from('INVITE x SIP/2.0\r\nContent-Type: l\r\nX-L: 3\r\n\r\n')), 'missing');
});

test('random and mutated input never throws and never yields a frame over the limit', () => {
  // Deterministic xorshift, so a failure replays.
  let x = 0x9e3779b9;
  const rnd = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const alphabet = Buffer.from('\r\n:lL0123456789 Content-Length\tSIP/2.0 INVITE');
  for (let round = 0; round < 2_000; round++) {
    const base = round % 2 === 0 ? Buffer.from(stream) : Buffer.alloc(64 + rnd(512));
    for (let i = 0; i < base.length; i++) if (round % 2 === 1 || rnd(20) === 0) base[i] = alphabet[rnd(alphabet.length)]!;
    const frames: Buffer[] = [];
    const framer = new StreamFramer({ onFrame: (m) => frames.push(m), onPing: () => undefined, onFrameError: () => undefined }, { maxMessageBytes: 300, maxHeaderBytes: 200 });
    for (let pos = 0; pos < base.length; ) {
      const n = 1 + rnd(40);
      framer.push(base.subarray(pos, pos + n));
      pos += n;
    }
    for (const f of frames) assert.ok(f.length <= 300);
  }
});
