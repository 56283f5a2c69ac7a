// The record of one refused INVITE, read from the request as the network sent it: the numbers as the b2bua reads them,
// every string a capped copy with its control characters replaced, and null for what is missing or unparsable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressUser, calledUser } from '../../../src/policy/uri-user.js';
import { buildRefusalRecord, capped, MAX_FIELD_CHARS, uriNumber } from '../../../src/engine/refusal-record.js';
import { parseMessage, type SipRequest } from '../../../src/sip/message/index.js';
import type { Flow } from '../../../src/sip/transport/types.js';

const flow: Flow = { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40123, listenerId: 'L1' };
const facts = { time: 1_700_000_000_000, status: 503, reason: 'SIP;cause=503;text="overloaded"', code: 'ERR_ENGINE_OVERLOAD' };

function invite(o: { uri?: string; from?: string; callId?: string } = {}): SipRequest {
  const lines = [`INVITE ${o.uri ?? 'sip:+44-20-7946.0000@gw.example;user=phone'} SIP/2.0`, 'Via: SIP/2.0/TCP 192.0.2.7:40123;branch=z9hG4bK-r1',
    'Max-Forwards: 70', `From: ${o.from ?? '"Alice" <sip:1000@pbx.example>;tag=a1'}`, 'To: <sip:2000@gw.example>',
    `Call-ID: ${o.callId ?? 'call-1@pbx'}`, 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.message as SipRequest;
}

test('a refused INVITE is recorded with its Call-ID, numbers, source, transport, listener, tenant, status, Reason and code', () => {
  const r = buildRefusalRecord(invite(), { ...flow, tenant: 'pbx' }, facts);
  assert.deepEqual(r, {
    time: 1_700_000_000_000, callId: 'call-1@pbx', callingNumber: '1000', calledNumber: '+44-20-7946.0000',
    sourceAddress: '192.0.2.7', sourcePort: 40123, transport: 'tcp', listener: '127.0.0.1:5060', tenant: 'pbx',
    status: 503, reason: 'SIP;cause=503;text="overloaded"', code: 'ERR_ENGINE_OVERLOAD',
  });
});

test('the tenant given by the refusal (the listener that judged an untrusted source) wins over none on the flow', () => {
  assert.equal(buildRefusalRecord(invite(), flow, { ...facts, tenant: 'carrier' }).tenant, 'carrier');
  assert.equal(buildRefusalRecord(invite(), flow, facts).tenant, null);
});

test('a request without Call-ID or From, or with a From or Request-URI that does not parse, still gets a record, with nulls', () => {
  const bare = invite();
  bare.headers = bare.headers.filter((h) => h.name !== 'from' && h.name !== 'call-id');
  const r = buildRefusalRecord(bare, flow, facts);
  assert.deepEqual([r.callId, r.callingNumber, r.calledNumber], [null, null, '+44-20-7946.0000']);
  const bad = buildRefusalRecord(invite({ from: 'not-a-uri;tag=x', uri: 'http://example.com/x' }), flow, facts);
  assert.deepEqual([bad.callingNumber, bad.calledNumber], [null, null]);
  const noUser = buildRefusalRecord(invite({ from: '<sip:pbx.example>;tag=x', uri: 'sip:gw.example' }), flow, facts);
  assert.deepEqual([noUser.callingNumber, noUser.calledNumber], [null, null]);
  assert.equal(bad.sourceAddress, '192.0.2.7', 'what the socket says is always there');
});

test('a hostile From: an oversized user part is cut to the cap, control characters it decodes to are replaced', () => {
  const long = '9'.repeat(1_500);
  const r = buildRefusalRecord(invite({ from: `<sip:${long}@evil.example>;tag=x`, callId: `${'c'.repeat(1_000)}@x` }), flow, facts);
  assert.equal(r.callingNumber, '9'.repeat(MAX_FIELD_CHARS));
  assert.equal(r.callId!.length, MAX_FIELD_CHARS);
  const nul = buildRefusalRecord(invite({ from: '<sip:10%00%0d%0a00@evil.example>;tag=x' }), flow, facts);
  assert.equal(nul.callingNumber, '10???00');
  const huge = buildRefusalRecord(invite({ from: `<sip:1@${'h'.repeat(3_000)}.example>;tag=x` }), flow, facts);
  assert.equal(huge.callingNumber, null, 'a From too long to be a real one is not parsed');
});

test('the numbers are read as the b2bua reads them: user parameters cut, a tel: URI\'s number, the From\'s addr-spec form', () => {
  assert.equal(uriNumber('sip:5551234;npdi;rn=+15550000@carrier.example'), '5551234');
  assert.equal(uriNumber('tel:+15551234;phone-context=example.com'), '+15551234');
  assert.equal(uriNumber('sips:alice%40home@example.com'), 'alice@home');
  assert.equal(uriNumber(undefined), undefined);
  const r = buildRefusalRecord(invite({ from: 'sip:3000@pbx.example;tag=z' }), flow, facts);
  assert.equal(r.callingNumber, '3000');
});

test('a refusal record names the numbers the call policy would: one reading of a URI for both', () => {
  const froms = ['<sip:2000@pbx_1.example>;tag=a', '"A" <sips:%2B15551234@carrier.example;transport=tls>;tag=b', 'tel:+15550000;tag=c', '<sip:pbx.example>;tag=d'];
  for (const from of froms) {
    const r = buildRefusalRecord(invite({ from }), flow, facts);
    assert.equal(r.callingNumber, addressUser(from) ?? null, from);
  }
  assert.equal(uriNumber('sip:2000@pbx_1.example'), calledUser('sip:2000@pbx_1.example'));
  assert.equal(uriNumber('sip:2000@pbx_1.example'), '2000');
});

test('capped returns a copy no longer than the cap, whatever it is given', () => {
  assert.equal(capped('x'.repeat(1_000)).length, MAX_FIELD_CHARS);
  assert.equal(capped('abc'), 'abc');
  assert.equal(capped('a\u0000b\u007fc\r\n'), 'a?b?c??');
  assert.equal(capped('csi\u009b2J'), 'csi?2J', 'C1 controls too, as every record keeps text (src/common/printable.ts)');
});
