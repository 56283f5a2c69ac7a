import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControlMessage, formatControlMessage } from '../../../../src/engine/wire/index.js';
import { golden, payloadOf } from './golden.js';

test('authenticate: secret and tags, trailing empty tag field kept', () => {
  const a = parseControlMessage(payloadOf(golden.appToServer.authenticate!));
  assert.ok(a.ok);
  assert.deepEqual(a.value, { msgId: '1f5c1e1a-1d9e-4a53-9a40-7a2b4c3d2e10', type: 'authenticate', fields: ['cymru', 'tag-a,tag-b'] });
  const b = parseControlMessage(payloadOf(golden.appToServer.authenticateNoTags!));
  assert.ok(b.ok);
  assert.deepEqual(b.value.fields, ['cymru', '']);
});

test('ping has no fields and no SIP', () => {
  const r = parseControlMessage(payloadOf(golden.appToServer.ping!));
  assert.ok(r.ok);
  assert.equal(r.value.type, 'ping');
  assert.deepEqual(r.value.fields, []);
  assert.equal(r.value.sip, undefined);
});

test('sip: the first CRLF ends the field line; empty fields are kept; SIP text follows verbatim', () => {
  const r = parseControlMessage(payloadOf(golden.appToServer.sipNewRequest!));
  assert.ok(r.ok);
  assert.equal(r.value.type, 'sip');
  assert.deepEqual(r.value.fields, ['', '', 'sip:127.0.0.1:5080;lr']);
  assert.ok(r.value.sip!.startsWith('INVITE sip:+15551234567@127.0.0.1:5090;transport=tcp SIP/2.0\r\n'));
  assert.ok(r.value.sip!.includes('X-Note: café ☎\r\n'));
  assert.ok(r.value.sip!.endsWith('s=-\r\n'));
});

test('a | inside the SIP text does not split fields', () => {
  const r = parseControlMessage('m|sip|t|d\r\nMESSAGE sip:a@b SIP/2.0\r\nX-A: 1|2\r\n\r\na|b');
  assert.ok(r.ok);
  assert.deepEqual(r.value.fields, ['t', 'd']);
  assert.equal(r.value.sip, 'MESSAGE sip:a@b SIP/2.0\r\nX-A: 1|2\r\n\r\na|b');
});

test('an empty SIP part after CRLF is kept as the empty string', () => {
  const r = parseControlMessage('m|sip|t|\r\n');
  assert.ok(r.ok);
  assert.equal(r.value.sip, '');
});

test('payloads without msgId|type are ERR_ENGINE_MESSAGE_MALFORMED', () => {
  for (const bad of ['', 'abc', '|ping', 'abc|', '\r\nINVITE']) {
    const r = parseControlMessage(bad);
    assert.equal(!r.ok && r.code, 'ERR_ENGINE_MESSAGE_MALFORMED', JSON.stringify(bad));
  }
});

test('formatControlMessage is the inverse of parseControlMessage on every golden frame', () => {
  for (const [name, frame] of [...Object.entries(golden.appToServer), ...Object.entries(golden.serverToApp)]) {
    const p = payloadOf(frame);
    const r = parseControlMessage(p);
    assert.ok(r.ok, name);
    assert.equal(formatControlMessage(r.value), p, name);
  }
});
