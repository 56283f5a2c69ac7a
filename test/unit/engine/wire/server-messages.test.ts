import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildResponse, buildSipFrame, buildCdrFrame, authenticateOkFields, formatStackTime, encodeFrame,
  AUTHENTICATE_REFUSED_FIELDS, PONG_FIELDS, PROXY_DONE_FIELDS, nokFields, parseControlMessage, proxyContinueFields,
  requestSentFields, responseSentFields,
} from '../../../../src/engine/wire/index.js';
import { golden, payloadOf } from './golden.js';

const sipOf = (frame: string) => {
  const p = payloadOf(frame);
  return p.slice(p.indexOf('\r\n') + 2);
};
const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
const appAuthId = '1f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e10';

test('authenticate OK: hostports csv, a v-version, local hostports csv', () => {
  const fields = authenticateOkFields(['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'], 'v0.1.0-trunkgate',
    ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060']);
  assert.equal(encodeFrame(buildResponse(id(1), appAuthId, fields)).toString(), golden.serverToApp.authenticateOk);
});

test('authenticate refused, pong and route OK replies', () => {
  assert.equal(encodeFrame(buildResponse(id(2), appAuthId, AUTHENTICATE_REFUSED_FIELDS)).toString(), golden.serverToApp.authenticateRefused);
  assert.equal(encodeFrame(buildResponse(id(3), '4f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e13', PONG_FIELDS)).toString(), golden.serverToApp.pong);
  assert.equal(encodeFrame(buildResponse(id(4), '3f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e12', ['OK'])).toString(), golden.serverToApp.routeOk);
});

test('sip frame for a new out-of-dialog request carries recvAddr|recvPort and ends with |', () => {
  const sip = sipOf(golden.serverToApp.sipNewRequest!);
  const p = buildSipFrame(id(5), {
    source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5090, time: '09:05:03.120000',
    transactionId: 'b0f5a2c8-7a1e-4c4e-9d51-0c1f3ab2d003', dialogId: '', recvAddr: '127.0.0.1', recvPort: 5060,
  }, sip);
  assert.equal(encodeFrame(p).toString(), golden.serverToApp.sipNewRequest);
  // as drachtio-srf tokenizes it: 13 tokens, receivedOn from tokens 10 and 11
  const tokens = p.slice(0, p.indexOf('\r')).split('|');
  assert.equal(tokens.length, 13);
  assert.equal(`${tokens[10]}:${tokens[11]}`, '127.0.0.1:5060');
});

test('sip frame for a response carries the dialogId and keeps ≥ 10 fields', () => {
  const sip = sipOf(golden.serverToApp.sipResponseInDialog!);
  const p = buildSipFrame(id(6), {
    source: 'network', protocol: 'tcp', address: '127.0.0.1', port: '5070', time: '23:59:59.999000',
    transactionId: 'b0f5a2c8-7a1e-4c4e-9d51-0c1f3ab2d004', dialogId: 'tg-77@127.0.0.1;from-tag=tgA',
  }, sip);
  assert.equal(encodeFrame(p).toString(), golden.serverToApp.sipResponseInDialog);
  assert.equal(p.slice(0, p.indexOf('\r')).split('|').length, 11);
});

test('an unsolicited BYE from the engine: source application, empty protocol, txn unsolicited', () => {
  const sip = sipOf(golden.serverToApp.sipUnsolicitedBye!);
  const p = buildSipFrame(id(7), {
    source: 'application', protocol: '', address: '127.0.0.1', port: 5090, time: '00:00:00.000000',
    transactionId: 'unsolicited', dialogId: '1-4242@127.0.0.1;from-tag=1',
  }, sip);
  assert.equal(encodeFrame(p).toString(), golden.serverToApp.sipUnsolicitedBye);
});

test('the bytes field counts UTF-8 bytes of the SIP text, and time defaults to now in UTC', () => {
  const sip = 'MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 2\r\n\r\né';
  const p = buildSipFrame('m', { source: 'network', protocol: 'udp', address: '127.0.0.1', port: 1, transactionId: 't', dialogId: '' },
    sip, new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)));
  const r = parseControlMessage(p);
  assert.ok(r.ok);
  assert.equal(r.value.fields[1], String(Buffer.byteLength(sip)));
  assert.equal(r.value.fields[5], '03:04:05.006000');
  assert.equal(r.value.sip, sip);
});

test('cdr frames: attempt has source|time, stop adds the reason', () => {
  const attemptSip = sipOf(golden.serverToApp.cdrAttempt!);
  assert.equal(encodeFrame(buildCdrFrame(id(8), 'attempt', ['network', '2026-01-02 03:04:05.678'], attemptSip)).toString(),
    golden.serverToApp.cdrAttempt);
  const stopSip = sipOf(golden.serverToApp.cdrStop!);
  assert.equal(encodeFrame(buildCdrFrame(id(9), 'stop', ['application', '2026-01-02 03:04:06.000', 'normal-release'], stopSip)).toString(),
    golden.serverToApp.cdrStop);
});

test('formatStackTime pads every part', () => {
  assert.equal(formatStackTime(new Date(Date.UTC(2026, 5, 1, 0, 0, 0, 0))), '00:00:00.000000');
  assert.equal(formatStackTime(new Date(Date.UTC(2026, 5, 1, 23, 59, 59, 999))), '23:59:59.999000');
});

test('the typed reply fields give the layouts drachtio-srf reads, counting bytes not characters', () => {
  const sent = 'INVITE sip:é@h SIP/2.0\r\n\r\n';
  assert.deepEqual(requestSentFields(sent, { protocol: 'udp', address: '127.0.0.1', port: 5060 }, '10:00:00.000000', 'tx1'),
    ['OK', 'application', String(Buffer.byteLength(sent)), 'udp', '127.0.0.1', '5060', '10:00:00.000000', 'tx1', 'Msg sent:', '']);
  assert.notEqual(Buffer.byteLength(sent), sent.length);
  assert.deepEqual(responseSentFields('SIP/2.0 200 OK\r\n\r\n', { protocol: 'tcp', address: '::1', port: 40000 }, 't', 'tx2', 'd1'),
    ['OK', 'application', '18', 'tcp', '::1', '40000', 't', 'tx2', 'd1', '', 'Msg sent:', '']);
  assert.deepEqual(proxyContinueFields('SIP/2.0 180 Ringing\r\n\r\n', { protocol: 'tls', address: '127.0.0.2', port: 5061 }, 't'),
    ['OK', 'network', '23', 'tls', '127.0.0.2', '5061', 't', '', '', 'continue']);
  assert.deepEqual(proxyContinueFields('x', undefined, 't'), ['OK', 'network', '1', '', '', '', 't', '', '', 'continue']);
  assert.deepEqual(PROXY_DONE_FIELDS, ['OK', 'done']);
  assert.deepEqual(nokFields('too many hops'), ['NOK', 'too many hops']);
  // As a whole reply frame: the SIP text after CRLF, the fields after the app's msgId.
  assert.equal(buildResponse('m1', 'a1', nokFields('no')), 'm1|response|a1|NOK|no');
});

test('a NOK reason quoting what an app sent stays one field: | and control characters replaced, cut at 256', () => {
  // As drachtio-srf reads a reply: the field line up to the first CRLF, split on |; the reason is token 4.
  const tokensOf = (payload: string) => {
    const eol = payload.indexOf('\r\n');
    return (eol === -1 ? payload : payload.slice(0, eol)).split('|');
  };
  const reply = buildResponse('m1', 'a1', nokFields('a|b\r\nc'));
  assert.deepEqual(tokensOf(reply), ['m1', 'response', 'a1', 'NOK', 'a?b??c']);
  assert.ok(!reply.includes('\r') && !reply.includes('\n'), 'no CR or LF: the field line is the whole payload');
  const r = parseControlMessage(reply);
  assert.ok(r.ok);
  assert.equal(r.value.sip, undefined, 'no SIP text split off');

  const uri = buildResponse('m2', 'a2', nokFields('invalid request-uri: sip:a|b@x|y'));
  assert.deepEqual(tokensOf(uri).slice(3), ['NOK', 'invalid request-uri: sip:a?b@x?y']);
  const long = nokFields(`bad start line '${'x|'.repeat(400)}'`);
  assert.equal(long[1]!.length, 256);
  assert.equal(tokensOf(buildResponse('m3', 'a3', long)).length, 5);
  assert.deepEqual(nokFields('\u0000\u001b[2J\u007f\u0085'), ['NOK', '??[2J??']);
  assert.deepEqual(nokFields('plain text: untouched'), ['NOK', 'plain text: untouched']);
});

test('a CDR frame\'s fields stay one field each', () => {
  const p = buildCdrFrame('m', 'stop', ['application', 't', 'refused|x\r\ny'], 'BYE sip:a SIP/2.0\r\n\r\n');
  const r = parseControlMessage(p);
  assert.ok(r.ok);
  assert.deepEqual(r.value.fields, ['application', 't', 'refused?x??y']);
  assert.equal(r.value.sip, 'BYE sip:a SIP/2.0\r\n\r\n');
});
