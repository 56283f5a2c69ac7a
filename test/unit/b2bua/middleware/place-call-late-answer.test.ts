import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActiveCalls, ADMIN_CAUSE, ADMIN_REASON, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { settle } from '../fake-srf.js';
import { deps, FakeDialog, policy } from '../pipeline-fakes.js';
import { cdrOf, offer, start } from './place-call-rig.js';

const cdrs = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
const byes = (leg: FakeDialog) => leg.requests.filter((r) => r.method === 'BYE').map((r) => r.headers?.Reason);

test('place-call: a clear that comes after the caller had its 200, before createB2BUA resolves, ends the connected call: BYEs with the Reason, one CDR with status 200 and its answer time', async () => {
  const active = new ActiveCalls({ clock: deps().clock });
  const s = start('+442071234567', 'pbx', offer, { active });
  const first = await s.srf.attempt(0);
  first.cbRequest(null, { cancel: () => undefined });
  first.res.send(200, undefined, { body: 'v=0\r\n' }); // createB2BUA answers the caller with the B leg's 200
  const id = active.list(10).calls[0]!.id;
  void active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON);
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  first.resolve({ uas, uac }); // the caller's ACK: createB2BUA resolves
  await settle();
  await settle();
  assert.equal(s.srf.attempts.length, 1);
  assert.deepEqual(s.res.sent.map((r) => r.status), [200], 'the caller got its 200 and nothing after it');
  assert.deepEqual([byes(uas), byes(uac)], [['SIP;cause=480;text="Call cleared by the administrator"'], ['SIP;cause=480;text="Call cleared by the administrator"']]);
  const all = cdrs(s.lines);
  assert.equal(all.length, 1);
  assert.deepEqual([all[0]!.status, all[0]!.cause, typeof all[0]!.answerAt], [200, ADMIN_CAUSE, 'number']);
  assert.equal(active.list(10).total, 0);
});

test('place-call: a no-answer timer that fires after the caller had its 200 (the B leg answered in time) leaves the call connected, no failover, no 408 CDR', async () => {
  const p: B2buaPolicy = { ...policy, dialPeers: policy.dialPeers.map((d) => (d.id === 'intl' ? { ...d, noAnswerTimeoutSeconds: 3 } : d)) };
  const s = start('+442071234567', 'pbx', offer, {}, p);
  const first = await s.srf.attempt(0);
  first.cbRequest(null, { cancel: () => assert.fail('an answered INVITE is not cancelled') });
  s.clock.advance(2_990);
  first.res.send(200, undefined, { body: 'v=0\r\n' });
  s.clock.advance(10); // the timer fires while createB2BUA waits for the caller's ACK
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  first.resolve({ uas, uac });
  await settle();
  await settle();
  assert.equal(s.srf.attempts.length, 1, 'no other target was tried');
  assert.equal(cdrOf(s.lines), undefined, 'no CDR while the call is up');
  assert.deepEqual([byes(uas), byes(uac)], [[], []]);
  assert.equal(s.stats.calls.noAnswerTimeouts, 0);
  uas.emit('destroy'); // the caller hangs up
  await settle();
  assert.equal(byes(uac).length, 1);
  const all = cdrs(s.lines);
  assert.equal(all.length, 1);
  assert.deepEqual([all[0]!.status, all[0]!.cause, all[0]!.releasedBy, typeof all[0]!.answerAt], [200, 'normal', 'caller', 'number']);
});
