// The hold-off table keeps only the configured targets (a dns: name at most maxTargetsPerCall of its addresses), cuts a
// Retry-After to 300 s, and forgets a target once its time is over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { B2buaPolicy } from '../../../src/b2bua/index.js';
import { failoverCounts, retryAfterSeconds, TargetHoldOffs } from '../../../src/b2bua/target-holdoff.js';

const p: B2buaPolicy = {
  tenants: { one: { transport: 'udp', sipServer: '192.0.2.1:5060' }, itsp: { transport: 'udp', sipServer: 'dns:itsp.example' } },
  categories: [],
  dialPeers: [{ id: 'a', destinationPattern: '.', tenant: 'one' }, { id: 'b', destinationPattern: '.', tenant: 'itsp' }],
  outbound: { maxTargetsPerCall: 2 },
};

test('retryAfterSeconds: delta-seconds with a comment or parameters; nothing for zero or junk', () => {
  const table: Array<[string | undefined, number | undefined]> = [['120', 120], ['18000;duration=3600', 18000], ['120 (in a meeting)', 120],
    [' 5', 5], ['0', undefined], ['-1', undefined], ['abc', undefined], ['12abc', undefined], [undefined, undefined], ['', undefined]];
  for (const [v, want] of table) assert.equal(retryAfterSeconds(v), want, String(v));
});

test('TargetHoldOffs: a configured target is held for its time (at most 300 s), an unknown one never', () => {
  const h = new TargetHoldOffs(p);
  // The counters are the app's, over every policy it ran: what this table did is their growth.
  const capped = failoverCounts().capped;
  assert.equal(h.hold({ tenant: 'one', server: '192.0.2.1:5060', uri: 'sip:1@192.0.2.1:5060' }, 9999, 0), 300);
  assert.equal(failoverCounts().capped - capped, 1);
  assert.equal(h.isServerHeld('one', '192.0.2.1:5060', 299_999), true);
  assert.equal(h.isServerHeld('one', '192.0.2.1:5060', 300_000), false);
  assert.equal(h.size, 0, 'forgotten once over');
  assert.equal(h.hold({ tenant: 'one', server: '198.51.100.9:5060', uri: 'sip:1@198.51.100.9:5060' }, 60, 0), undefined, 'not a configured target');
  assert.equal(h.size, 0);
});

test('TargetHoldOffs: a dns: name is held per address, within the bound of the configured targets', () => {
  const h = new TargetHoldOffs(p);
  const full = failoverCounts().full;
  const at = (a: string) => ({ tenant: 'itsp', server: 'dns:itsp.example', uri: `sip:+1@${a}:5060;transport=udp` });
  assert.equal(h.hold(at('192.0.2.7'), 60, 0), 60);
  assert.equal(h.isHeld(at('192.0.2.7'), 1), true);
  assert.equal(h.isHeld(at('192.0.2.8'), 1), false, 'another address of the name is another server');
  assert.equal(h.isServerHeld('itsp', 'dns:itsp.example', 1), false, 'the name itself is never held');
  assert.equal(h.hold(at('192.0.2.8'), 60, 0), 60);
  assert.equal(h.hold({ tenant: 'one', server: '192.0.2.1:5060', uri: 'sip:1@192.0.2.1:5060' }, 60, 0), 60);
  assert.equal(h.hold(at('192.0.2.9'), 60, 0), undefined, 'past the bound: one entry for 192.0.2.1, two for the name');
  assert.equal(failoverCounts().full - full, 1);
  assert.equal(h.hold(at('192.0.2.9'), 60, 60_000), 60, 'room again once the others are over');
});
