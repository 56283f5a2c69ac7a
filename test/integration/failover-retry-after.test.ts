// A trunk's 503 with Retry-After keeps the next calls off it (RFC 3261 §21.5.4): the first call fails over to the
// second dial peer, the second call goes there at once; trunk 1 gets exactly one INVITE. Real engine and b2bua on
// loopback; the trunks are mini UAs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answer } from '../support/mini-ua.js';
import { twoTrunkRig, withTag } from './failover-support.js';

test('failover: after a 503 with Retry-After the next call does not go to that trunk', async (t) => {
  let t1Invites = 0;
  const rig = await twoTrunkRig(t, (msg, self, from) => {
    if (!msg.startsWith('INVITE ')) return;
    t1Invites++;
    self.send(withTag(answer(msg, '503 Service Unavailable', self.port), 't1tag').replace('Content-Length', 'Retry-After: 300\r\nContent-Length'), from);
  });
  for (let n = 1; n <= 2; n++) {
    const final = await rig.call(`retry-after-${process.pid}-${n}`, `z9hG4bKra${n}`);
    assert.match(final, /^SIP\/2\.0 200 /, `call ${n} answered by trunk 2`);
  }
  assert.equal(t1Invites, 1, 'trunk 1 got exactly one INVITE');
});
