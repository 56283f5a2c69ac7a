import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAppText, serializeMessageText, uriOrUndefined, uriTextOf, type SipRequest, type SipResponse,
} from '../../../../src/sip/message/index.js';

test('an app request with bare LF line ends, no Content-Length and a folded header is read in full', () => {
  const m = parseAppText('invite sip:bob@example.com SIP/2.0\nFrom: <sip:a@b>;tag=1\nSubject: one\n two\ni: abc\n\nv=0\r\n') as SipRequest;
  assert.equal(m.kind, 'request');
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:bob@example.com');
  assert.deepEqual(m.headers.map((h) => [h.name, h.raw, h.value]), [
    ['from', 'From', '<sip:a@b>;tag=1'], ['subject', 'Subject', 'one two'], ['call-id', 'Call-ID', 'abc'],
  ]);
  assert.equal(m.body.toString(), 'v=0\r\n');
});

test('CRLF text splits at the first blank line; text without one is all headers', () => {
  const m = parseAppText('SIP/2.0 180 Ringing\r\nTo: <sip:b@c>;tag=9\r\n\r\nbody\r\n\r\nmore') as SipResponse;
  assert.equal(m.status, 180);
  assert.equal(m.reason, 'Ringing');
  assert.equal(m.body.toString(), 'body\r\n\r\nmore');
  const h = parseAppText('BYE sip:x@y SIP/2.0\r\nMax-Forwards: 70') as SipRequest;
  assert.equal(h.headers.length, 1);
  assert.equal(h.body.length, 0);
});

test('a line without a colon is skipped, a leading continuation line with no header before it too', () => {
  const m = parseAppText('OPTIONS sip:x@y SIP/2.0\n folded-first\nno colon here\n: empty name\nTo: <sip:x@y>\n\n')!;
  assert.deepEqual(m.headers.map((h) => h.name), ['to']);
});

test('start lines that are neither a request nor a status line are refused', () => {
  for (const bad of ['', 'SIP/2.0', 'SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 abc Bad', 'INVITE', '1NVITE sip:x SIP/2.0']) {
    assert.equal(parseAppText(`${bad}\r\nTo: x\r\n\r\n`), undefined, bad);
  }
  const noReason = parseAppText('SIP/2.0 200\r\n\r\n') as SipResponse;
  assert.equal(noReason.status, 200);
  assert.equal(noReason.reason, '');
});

test('serializeMessageText writes one Content-Length from the body, whatever the app wrote', () => {
  const m = parseAppText('MESSAGE sip:x@y SIP/2.0\nContent-Length: 99\nContent-Type: text/plain\n\nhé')!;
  assert.equal(serializeMessageText(m), 'MESSAGE sip:x@y SIP/2.0\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nhé');
  const empty = parseAppText('SIP/2.0 200 OK\nTo: <sip:a@b>\n\n')!;
  assert.equal(serializeMessageText(empty), 'SIP/2.0 200 OK\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n');
});

test('uriTextOf reads the URI of a name-addr or an addr-spec', () => {
  assert.equal(uriTextOf('"A <x>" <sip:a@b;lr>;tag=1'), 'sip:a@b;lr');
  assert.equal(uriTextOf('<sip:a@b'), 'sip:a@b');
  assert.equal(uriTextOf(' sip:a@b;tag=1'), 'sip:a@b');
  assert.equal(uriTextOf('sip:a@b '), 'sip:a@b');
});

test('uriOrUndefined: SIP, SIPS and tel URIs parse; anything else is undefined', () => {
  assert.deepEqual(uriOrUndefined('sip:alice@[::1]:5070;transport=TCP'), {
    scheme: 'sip', user: 'alice', host: '[::1]', port: 5070, params: { transport: 'TCP' }, headers: {},
  });
  assert.equal(uriOrUndefined('tel:+15551234567')?.host, '+15551234567');
  for (const bad of ['http://x', 'sip:', 'sip:a@b:99999', 'sip:a b@c', 'nocolon']) assert.equal(uriOrUndefined(bad), undefined, bad);
});

test('an app\'s standard header names go out in their usual spelling (a case-sensitive peer finds them); other names as written', () => {
  const m = parseAppText('SIP/2.0 403 Forbidden\nreason: SIP;cause=403;text="no"\nCALL-ID: c1\nv: SIP/2.0/UDP h;branch=z9hG4bK1\n' +
    'min-se: 90\nwww-authenticate: Digest realm="r"\nx-my-Header: 1\nP-custom: 2\n\n')!;
  assert.deepEqual(m.headers.map((h) => [h.name, h.raw]), [
    ['reason', 'Reason'], ['call-id', 'Call-ID'], ['via', 'Via'], ['min-se', 'Min-SE'], ['www-authenticate', 'WWW-Authenticate'],
    ['x-my-header', 'x-my-Header'], ['p-custom', 'P-custom'],
  ]);
  assert.match(serializeMessageText(m), /\r\nReason: SIP;cause=403;text="no"\r\n[\s\S]*\r\nx-my-Header: 1\r\n/);
});

test('a header name that is not a token, or a value the wire parser refuses, refuses the text and says why', () => {
  const cases: [string, RegExp][] = [
    ['SIP/2.0 200 OK\r\nContent-X:a\nINVITE sip:+1@127.0.0.1:5060 SIP/2.0\r\n\r\n', /^bad header name 'INVITE sip'$/],
    ['SIP/2.0 200 OK\r\nX Y: 1\r\n\r\n', /^bad header name 'X Y'$/],
    ['BYE sip:x@y SIP/2.0\r\nSubject: a\rb\r\n\r\n', /Subject: character 0x(0d|00) in the value/],
    ['BYE sip:x@y SIP/2.0\r\nSubject: a\u0000b\r\n\r\n', /Subject: character 0x(0d|00) in the value/],
    ['SIP/2.0 200 OK\r\nContact: <sip:+0@local\r\n\r\n', /^Contact: missing >$/],
    ['BYE sip:x@y SIP/2.0\r\nVia: 127.0.0.1:5060\r\n\r\n', /^Via is not SIP\/2.0\/transport sent-by$/],
    ['SIP/2.0 200 OK\rVia: \r\n\r\n', /^a control character in the start line$/],
    ['BYE sip:x@y\u0000 SIP/2.0\r\n\r\n', /^a control character in the start line$/],
    ['SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\nc: text/plain\r\n\r\n', /^c appears more than once$/],
    ['SIP/2.0 99 Low\r\n\r\n', /^bad status line/],
    ['1NVITE sip:x SIP/2.0\r\n\r\n', /^bad start line/],
  ];
  for (const [text, why] of cases) {
    const heard: string[] = [];
    assert.equal(parseAppText(text, (r) => heard.push(r)), undefined, JSON.stringify(text));
    assert.equal(heard.length, 1, JSON.stringify(text));
    assert.match(heard[0]!, why);
  }
  // A tab in a value, and a quoted pair, are fine; so are two Content-Lengths (the engine writes its own) and two
  // of a header that may repeat.
  assert.ok(parseAppText('BYE sip:x@y SIP/2.0\r\nSubject: a\tb\r\nX-Q: "a\\"b"\r\n\r\n'));
  assert.ok(parseAppText('BYE sip:x@y SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\nX-A: 1\r\nX-A: 2\r\n\r\n'));
  // drachtio-srf's digest retry writes Call-ID twice (Call-ID and call-id), with one value: one is kept.
  const retry = parseAppText('REGISTER sip:r SIP/2.0\r\nCall-ID: abc@h\r\ncall-id: abc@h\r\nCSeq: 2 REGISTER\r\n\r\n')!;
  assert.deepEqual(retry.headers.map((h) => [h.name, h.value]), [['call-id', 'abc@h'], ['cseq', '2 REGISTER']]);
});
