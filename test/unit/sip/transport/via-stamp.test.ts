import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stampTopVia } from '../../../../src/sip/transport/via-stamp.js';
import type { SipHeader } from '../../../../src/sip/message/types.js';

function via(...values: string[]): SipHeader[] {
  return [{ name: 'from', raw: 'From', value: '<sip:a@b>;tag=1' }, ...values.map((value) => ({ name: 'via', raw: 'Via', value }))];
}

function stamped(value: string, addr = '192.0.2.10', port = 5099): string {
  const h = via(value, 'SIP/2.0/UDP next.example;branch=z9hG4bK-2');
  assert.equal(stampTopVia(h, addr, port), true);
  assert.equal(h[2]!.value, 'SIP/2.0/UDP next.example;branch=z9hG4bK-2', 'only the top Via is touched');
  return h[1]!.value;
}

test('sent-by equal to the source address is left alone', () => {
  assert.equal(stamped('SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1'), 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1');
});

test('a domain name or a different address gets received (RFC 3261 §18.2.1)', () => {
  assert.equal(stamped('SIP/2.0/UDP pbx.example.com;branch=z9hG4bK-1'), 'SIP/2.0/UDP pbx.example.com;branch=z9hG4bK-1;received=192.0.2.10');
  assert.equal(stamped('SIP/2.0/TCP 10.0.0.1:5070 ;branch=z9hG4bK-1'), 'SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bK-1;received=192.0.2.10');
});

test('an empty rport is filled and received added even when sent-by matches (RFC 3581 §4)', () => {
  assert.equal(stamped('SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK-1'), 'SIP/2.0/UDP 192.0.2.10:5060;rport=5099;branch=z9hG4bK-1;received=192.0.2.10');
  assert.equal(stamped('SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;RPORT'), 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;rport=5099;received=192.0.2.10');
});

test('an rport with a value is kept; a forged received is replaced by the truth', () => {
  assert.equal(stamped('SIP/2.0/UDP 192.0.2.10;rport=1;branch=z9hG4bK-1'), 'SIP/2.0/UDP 192.0.2.10;rport=1;branch=z9hG4bK-1');
  assert.equal(stamped('SIP/2.0/UDP h.example;received=6.6.6.6;branch=z9hG4bK-1'), 'SIP/2.0/UDP h.example;received=192.0.2.10;branch=z9hG4bK-1');
});

test('comma-joined Via values: only the first element is edited', () => {
  const h = via('SIP/2.0/UDP a.example;branch=z9hG4bK-1;rport, SIP/2.0/UDP b.example;branch=z9hG4bK-2');
  assert.equal(stampTopVia(h, '198.51.100.1', 7000), true);
  assert.equal(h[1]!.value, 'SIP/2.0/UDP a.example;branch=z9hG4bK-1;rport=7000;received=198.51.100.1, SIP/2.0/UDP b.example;branch=z9hG4bK-2');
});

test('IPv6 sent-by compared without brackets; received carries the bare address', () => {
  assert.equal(stamped('SIP/2.0/UDP [::1]:5060;branch=z9hG4bK-1', '::1'), 'SIP/2.0/UDP [::1]:5060;branch=z9hG4bK-1');
  assert.equal(stamped('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-1', '::1'), 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-1;received=::1');
});

test('no Via or an unreadable Via is reported, not thrown', () => {
  assert.equal(stampTopVia([{ name: 'to', raw: 'To', value: '<sip:a@b>' }], '1.2.3.4', 1), false);
  assert.equal(stampTopVia(via('garbage'), '1.2.3.4', 1), false);
  assert.equal(stampTopVia(via('SIP/2.0/UDP '), '1.2.3.4', 1), false);
});

test('a stamp leaves the parser\'s shared result of the same text unchanged', async () => {
  const { parseOneVia, parseVia } = await import('../../../../src/sip/message/index.js');
  const text = 'SIP/2.0/UDP pbx.example.com;rport;branch=z9hG4bK-shared';
  const before = parseOneVia(text);
  assert.ok(before.ok);
  const h = via(text);
  assert.equal(stampTopVia(h, '192.0.2.10', 5099), true);
  assert.equal(h[1]!.value, 'SIP/2.0/UDP pbx.example.com;rport=5099;branch=z9hG4bK-shared;received=192.0.2.10');
  // The same text read again (the memo) and read afresh after another text give the unstamped parameters.
  for (const r of [parseOneVia(text), (parseOneVia('SIP/2.0/TCP other.example;branch=z9hG4bK-x'), parseOneVia(text)), parseVia(text)]) {
    assert.ok(r.ok);
    const v = Array.isArray(r.value) ? r.value[0]! : r.value;
    assert.deepEqual(v.params, { rport: null, branch: 'z9hG4bK-shared' });
  }
});
