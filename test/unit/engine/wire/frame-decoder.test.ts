import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FrameDecoder, encodeFrame, DEFAULT_MAX_FRAME_BYTES } from '../../../../src/engine/wire/index.js';

const golden = JSON.parse(readFileSync(new URL('../../../fixtures/drachtio/golden-frames.json', import.meta.url), 'utf8')) as {
  appToServer: Record<string, string>;
  serverToApp: Record<string, string>;
};

/** Feeds chunks; returns the payloads, or throws on a framing error. */
function decodeAll(chunks: Uint8Array[], decoder = new FrameDecoder()): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    const r = decoder.push(c);
    if (r.error) throw new Error(r.error.code);
    out.push(...r.frames);
  }
  return out;
}

const payloads = [
  'a1|ping',
  'b2|authenticate|sécret ☎|tag',
  `c3|sip|txn|\r\nINVITE sip:x@127.0.0.1 SIP/2.0\r\nFrom: "Zoë 👩‍💻" <sip:z@localhost>\r\nContent-Length: 0\r\n\r\n`,
  'd4|route|invite',
];
const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));

test('encodeFrame counts UTF-8 bytes, not UTF-16 units', () => {
  const f = encodeFrame('x|é☎👩');
  assert.equal(f.toString('utf8'), `${Buffer.byteLength('x|é☎👩')}#x|é☎👩`);
  assert.ok(f.toString('utf8').startsWith('11#'));
});

test('several frames back to back in one chunk come out in order', () => {
  assert.deepEqual(decodeAll([stream]), payloads);
});

test('a stream split in two at every offset decodes to the same frames (multi-byte UTF-8 included)', () => {
  for (let i = 1; i < stream.length; i++) {
    assert.deepEqual(decodeAll([stream.subarray(0, i), stream.subarray(i)]), payloads, `split at ${i}`);
  }
});

test('a stream fed one byte at a time decodes to the same frames', () => {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  assert.deepEqual(decodeAll(chunks), payloads);
});

test('every golden frame decodes to its payload, whole and split at every offset', () => {
  for (const [name, frame] of [...Object.entries(golden.appToServer), ...Object.entries(golden.serverToApp)]) {
    const bytes = Buffer.from(frame, 'utf8');
    const hash = frame.indexOf('#');
    const expected = frame.slice(hash + 1);
    assert.equal(Number(frame.slice(0, hash)), Buffer.byteLength(expected), `${name}: length prefix`);
    for (let i = 1; i < bytes.length; i++) {
      assert.deepEqual(decodeAll([bytes.subarray(0, i), bytes.subarray(i)]), [expected], `${name} split at ${i}`);
    }
  }
});

test('a partial frame is held back until the rest arrives', () => {
  const d = new FrameDecoder();
  const f = encodeFrame('e5|ping');
  const r = d.push(f.subarray(0, 5));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.frames, []);
  assert.equal(d.buffered, 5);
  const r2 = d.push(f.subarray(5));
  assert.equal(r2.error, undefined);
  assert.deepEqual(r2.frames, ['e5|ping']);
  assert.equal(d.buffered, 0);
});

test('a frame over the maximum is ERR_ENGINE_FRAME_TOO_LARGE as soon as its length is read', () => {
  const d = new FrameDecoder({ maxFrameBytes: 100 });
  const r = d.push(Buffer.from('101#abc'));
  assert.equal(r.error?.code, 'ERR_ENGINE_FRAME_TOO_LARGE');
  assert.deepEqual(r.frames, []);
  assert.equal(d.buffered, 0);
  const ok100 = new FrameDecoder({ maxFrameBytes: 100 }).push(encodeFrame('x'.repeat(100)));
  assert.equal(ok100.error, undefined);
  assert.equal(ok100.frames.length, 1);
});

test('the default maximum is 1 MiB: a 13 KB frame passes, 1 MiB + 1 is refused', () => {
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 1024 * 1024);
  const r = new FrameDecoder().push(encodeFrame(`m|sip|t|\r\n${'a'.repeat(13_000)}`));
  assert.equal(r.error, undefined);
  assert.equal(r.frames.length, 1);
  const big = new FrameDecoder().push(Buffer.from(`${DEFAULT_MAX_FRAME_BYTES + 1}#`));
  assert.equal(big.error?.code, 'ERR_ENGINE_FRAME_TOO_LARGE');
});

test('bad length prefixes are ERR_ENGINE_FRAME_BAD_LENGTH', () => {
  for (const bad of ['#abc', '0#', 'GET / HTTP/1.1\r\n', '12a#x', '-1#x', ' 5#hello', '12345678#', '123456789']) {
    const r = new FrameDecoder({ maxFrameBytes: 1e9 }).push(Buffer.from(bad));
    assert.equal(r.error?.code, 'ERR_ENGINE_FRAME_BAD_LENGTH', JSON.stringify(bad));
  }
});

test('a length prefix of 7 digits is accepted when under the maximum', () => {
  const payload = 'p|x'.padEnd(1_000_000, 'y');
  const r = new FrameDecoder({ maxFrameBytes: 2_000_000 }).push(encodeFrame(payload));
  assert.equal(r.error, undefined);
  assert.equal(r.frames[0]!.length, 1_000_000);
});

test('once failed, the decoder stays failed', () => {
  const d = new FrameDecoder();
  assert.equal(d.push(Buffer.from('zz')).error?.code, 'ERR_ENGINE_FRAME_BAD_LENGTH');
  const again = d.push(encodeFrame('a|ping'));
  assert.equal(again.error?.code, 'ERR_ENGINE_FRAME_BAD_LENGTH');
  assert.deepEqual(again.frames, []);
});

test('frames before garbage in the same read are delivered together with the error', () => {
  const d = new FrameDecoder();
  const r = d.push(Buffer.concat([encodeFrame('a|ping'), encodeFrame('b|ping'), Buffer.from('x#')]));
  assert.deepEqual(r.frames, ['a|ping', 'b|ping']);
  assert.equal(r.error?.code, 'ERR_ENGINE_FRAME_BAD_LENGTH');
});

test("drachtio-srf's own wire decoder reads our frames", () => {
  const require = createRequire(import.meta.url);
  const WireProtocol = require('drachtio-srf/lib/wire-protocol.js') as new (o: object) => {
    on(ev: 'msg', fn: (s: unknown, m: string) => void): void;
    _onData(s: unknown, b: Buffer): void;
  };
  const wp = new WireProtocol({});
  const got: string[] = [];
  wp.on('msg', (_s, m) => got.push(m));
  const sock = {};
  for (let i = 0; i < stream.length; i += 7) wp._onData(sock, stream.subarray(i, i + 7));
  assert.deepEqual(got, payloads);
});

test('a large frame trickled in small chunks is joined once, not once per chunk', (t) => {
  const payload = `m1|sip|${'x'.repeat(200_000)}`;
  const bytes = encodeFrame(payload);
  const d = new FrameDecoder();
  // Joining on every chunk would copy the held bytes 12,500 times (~1.25 GB): count the joins instead of timing.
  const concat = t.mock.method(Buffer, 'concat');
  let frames: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const r = d.push(bytes.subarray(i, i + 16));
    assert.equal(r.error, undefined);
    frames = frames.concat(r.frames);
    if (i + 16 < bytes.length) assert.equal(d.buffered, i + 16);
  }
  assert.deepEqual(frames, [payload]);
  assert.equal(d.buffered, 0);
  // One join for the length prefix (its first chunks) and one when the last byte arrives.
  assert.ok(concat.mock.callCount() <= 2, `${concat.mock.callCount()} joins`);
});
