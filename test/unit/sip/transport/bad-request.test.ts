import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildBadRequest, badRequestPhrase } from '../../../../src/sip/transport/bad-request.js';
import type { SipRequest } from '../../../../src/sip/message/types.js';
import { getHeader, parseMessage } from '../../../../src/sip/message/index.js';

const req: SipRequest = {
  kind: 'request',
  method: 'INVITE',
  uri: 'sip:bob@example.com',
  version: 'SIP/2.0',
  body: Buffer.alloc(0),
  headers: [
    { name: 'via', raw: 'v', value: 'SIP/2.0/UDP a.example;branch=z9hG4bK-1;received=192.0.2.1' },
    { name: 'via', raw: 'Via', value: 'SIP/2.0/UDP b.example;branch=z9hG4bK-0' },
    { name: 'from', raw: 'f', value: '<sip:alice@a.example>;tag=9' },
    { name: 'to', raw: 'To', value: '<sip:bob@example.com>' },
    { name: 'call-id', raw: 'i', value: 'c1@a' },
    { name: 'cseq', raw: 'CSeq', value: '1 INVITE' },
    { name: 'x-evil', raw: 'X-Evil', value: 'x' },
    { name: 'content-type', raw: 'c', value: 'application/sdp' },
  ],
};

test('400 copies Via (in order), From, Call-ID, CSeq, adds a To tag and names the problem', () => {
  const text = buildBadRequest(req, 'ERR_SIP_PARSE_CSEQ', 'abc').toString();
  assert.equal(
    text,
    'SIP/2.0 400 Bad Request (Malformed CSeq)\r\n' +
      'Via: SIP/2.0/UDP a.example;branch=z9hG4bK-1;received=192.0.2.1\r\n' +
      'Via: SIP/2.0/UDP b.example;branch=z9hG4bK-0\r\n' +
      'From: <sip:alice@a.example>;tag=9\r\n' +
      'To: <sip:bob@example.com>;tag=abc\r\n' +
      'Call-ID: c1@a\r\n' +
      'CSeq: 1 INVITE\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
});

test('an existing To tag is kept, and control characters never reach the response', () => {
  const r: SipRequest = { ...req, headers: [{ name: 'to', raw: 'To', value: '<sip:b@c>;tag=x\r\nX-Injected: 1' }] };
  assert.equal(buildBadRequest(r, 'ERR_SIP_FRAME_NO_CONTENT_LENGTH', 't').toString(), 'SIP/2.0 400 Bad Request (Missing Content-Length)\r\nTo: <sip:b@c>;tag=xX-Injected: 1\r\nContent-Length: 0\r\n\r\n');
});

test('unknown codes get a generic phrase', () => {
  assert.equal(badRequestPhrase('ERR_WHATEVER'), 'Bad Request (Malformed Message)');
});

test('with the parser\'s reason the 400 says what was wrong in a Reason header, quoted safely and parseable', () => {
  const text = buildBadRequest(req, 'ERR_SIP_PARSE_ADDRESS', 'abc', 'Contact: missing >').toString();
  assert.match(text, /\r\nReason: SIP;cause=400;text="Contact: missing >"\r\nContent-Length: 0\r\n\r\n$/);
  const hostile = buildBadRequest(req, 'ERR_SIP_PARSE_HEADER', 'abc', `a "quoted" \\ name\r\nX-Injected: 1\u0000é${'x'.repeat(200)}`).toString();
  const reason = /\r\nReason: ([^\r\n]*)\r\n/.exec(hostile)?.[1] ?? '';
  assert.ok(reason.startsWith('SIP;cause=400;text="a \\"quoted\\" \\\\ nameX-Injected: 1x'), reason);
  assert.ok(reason.length < 160, `Reason is ${reason.length} characters`);
  assert.doesNotMatch(hostile, /\r\nX-Injected/);
  const parsed = parseMessage(Buffer.from(hostile));
  assert.ok(parsed.ok, 'the 400 with a Reason parses');
  assert.equal(getHeader(parsed.message, 'reason'), reason);
  assert.doesNotMatch(buildBadRequest(req, 'ERR_SIP_PARSE_CSEQ', 'abc').toString(), /Reason:/, 'no detail, no Reason');
});
