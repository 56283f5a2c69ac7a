// PostgreSQL refuses U+0000 in text, text[] and jsonb (22021; jsonb: "unsupported Unicode escape sequence"), and one
// refused row fails its whole batch. Whatever still holds a NUL when it reaches the database sink (a record an
// earlier version queued on disk, a B leg's Reason) loses it in the INSERT's values, so the row goes in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CdrRecord } from '../../../src/b2bua/index.js';
import { COLUMNS, insertStatement } from '../../../src/cdr/pg-schema.js';

/** A record as an earlier version wrote it, with NUL in its text, its text arrays and its JSON columns. */
const withNul = (): CdrRecord => ({
  id: '00000000-0000-4000-8000-000000000001', callId: 'nul-1@x', callingNumber: '5551234\u0000\u001b[2J', calledNumber: '2125551234\u0000',
  sourceAddress: '127.0.0.1', sourcePort: 5060, transportIn: 'udp', listener: '127.0.0.1:5060', tenantIn: 'pbx', identities: ['dns:a\u0000b'],
  identityOrigin: 'tls', peerIdentity: 'dns:a\u0000b', tlsPeer: null, tlsVersion: null, tlsCipher: null, category: null, dialPeer: 'far', tenantOut: 'far',
  transportOut: 'udp', destination: 'sip:2125551234@127.0.0.1:5080', tlsVersionOut: null, tlsCipherOut: null, identitiesOut: ['\u0000'], attempts: 1,
  targets: [{
    dialPeer: 'far', tenant: 'far', transport: 'udp', uri: 'sip:2125551234@127.0.0.1:5080', outcome: 'rejected', status: 486,
    reason: 'SIP;cause=486;text="busy\u0000"', startAt: 1, endAt: 2,
  }],
  setupAt: 1, answerAt: null, endAt: 3, setupMs: 2, durationMs: 0, status: 486, cause: 'b-leg-486', releasedBy: 'callee',
  reason: 'SIP;cause=486;text="busy\u0000"', reasonIn: null, reasonOut: 'Q.850\u0000', byeFailed: 0,
  media: {
    a: { packets: 1, bytes: 2, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null, note: 'x\u0000' },
    b: { packets: 1, bytes: 2, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null },
  } as unknown as CdrRecord['media'],
});

const cell = (name: string, r: CdrRecord) => COLUMNS.find(([n]) => n === name)![1](r);

test('no INSERT value holds a NUL: not a text, not a text[] element, not a jsonb string (as \\u0000)', () => {
  const { values } = insertStatement('cdr', [withNul()]);
  for (const v of values) {
    const text = typeof v === 'string' ? v : Array.isArray(v) ? v.join('|') : '';
    assert.ok(!text.includes('\u0000') && !text.includes('\\u0000'), JSON.stringify(v));
  }
});

test('the NUL goes and the rest of the field stays; the other control characters are left to the record (src/common/printable.ts)', () => {
  const r = withNul();
  assert.equal(cell('calling_number', r), '5551234\u001b[2J');
  assert.equal(cell('called_number', r), '2125551234');
  assert.deepEqual(cell('identities', r), ['dns:ab']);
  assert.deepEqual(cell('identities_out', r), ['']);
  assert.equal(cell('reason_out', r), 'Q.850');
  assert.equal(JSON.parse(String(cell('targets', r)))[0].reason, 'SIP;cause=486;text="busy"');
  assert.equal(JSON.parse(String(cell('media', r))).a.note, 'x');
  assert.deepEqual([cell('status', r), cell('answer_at', r), cell('setup_at', r)], [486, null, new Date(1)]);
});
