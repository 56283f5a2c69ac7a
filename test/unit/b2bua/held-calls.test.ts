import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { ActiveCalls, CallStats, superviseLegs, type CallFacts } from '../../../src/b2bua/index.js';
import { HeldCalls } from '../../../src/b2bua/workers/held-calls.js';
import { captureLog, FakeLeg } from './fake-srf.js';

function call(callId: string) {
  const { log } = captureLog();
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  const control = superviseLegs({ stats: new CallStats(), log, callId, onEnded: () => undefined }, { uas, uac });
  return { uas, uac, control };
}

const facts = (n: number): CallFacts => ({
  callIds: [`a-${n}`, `b-${n}`], tenantIn: 'pbx', tenantOut: 'carrier', dialPeer: 'to-carrier', callingNumber: '1001', calledNumber: `300${n}`,
  startAt: 1_000 * n, answerAt: 1_000 * n + 500,
});
const setupFacts = (n: number): Omit<CallFacts, 'answerAt'> => {
  const { answerAt: _answered, ...f } = facts(n);
  return f;
};

test('with a journal, the call list says which calls began, were answered or left since the last time, once each, and tells at the first change after each take; without one, nothing', () => {
  const clock = new ManualClock(10_000);
  let told = 0;
  const active = new ActiveCalls({ app: 1, clock, journal: true, onChanged: () => told++ });
  assert.deepEqual(active.takeChanges(), { rows: [], gone: [] });
  const ringing = active.setUp(setupFacts(1), () => undefined);
  const other = active.setUp(setupFacts(2), () => undefined);
  assert.equal(told, 1, 'told at the first change only');
  let c = active.takeChanges();
  assert.deepEqual(c.rows.map((r) => [r.id, r.state, r.answerAt]), [[ringing.id, 'ringing', null], [other.id, 'ringing', null]]);
  assert.deepEqual(active.takeChanges(), { rows: [], gone: [] }, 'taken once');
  // A B leg being placed: the ringing call names its dial peer and tenant, and that is a change too.
  other.trying('backup-peer', 'backup');
  c = active.takeChanges();
  assert.deepEqual(c.rows.map((r) => [r.id, r.dialPeer, r.tenantOut]), [[other.id, 'backup-peer', 'backup']]);
  assert.equal(told, 2);

  // One is answered (it keeps its id), the other fails.
  ringing.done();
  const up = call('a-1');
  assert.equal(active.add(up.control, facts(1), ringing.id), ringing.id);
  other.done();
  assert.equal(told, 3, 'told again at the first change after the take');
  c = active.takeChanges();
  assert.deepEqual(c.rows.map((r) => [r.id, r.state, r.answerAt]), [[ringing.id, 'connected', 1_500]]);
  assert.deepEqual(c.gone, [other.id]);

  // The caller hangs up; once the B leg's BYE is answered the call leaves the list.
  up.uas.remoteBye();
  up.uac.answerBye();
  c = active.takeChanges();
  assert.deepEqual([c.rows, c.gone], [[], [ringing.id]]);

  const plain = new ActiveCalls({ clock });
  plain.setUp(setupFacts(3), () => undefined);
  assert.deepEqual(plain.takeChanges(), { rows: [], gone: [] });
});

test('the pool\'s copy: a call leaves it when its worker hands over the CDR or lists it gone; what is left becomes records of cause app-lost, 200 up and 503 ringing', () => {
  const clock = new ManualClock(10_000);
  const active = new ActiveCalls({ app: 1, clock, journal: true });
  const held = new HeldCalls();
  const r1 = active.setUp(setupFacts(1), () => undefined);
  const r2 = active.setUp(setupFacts(2), () => undefined);
  const r3 = active.setUp(setupFacts(3), () => undefined);
  held.apply(active.takeChanges());
  assert.equal(held.size, 3);
  r1.done();
  active.add(call('a-1').control, facts(1), r1.id);
  r3.done();
  held.apply(active.takeChanges());
  assert.equal(held.size, 2, 'the failed setup is gone');
  held.recorded(r2.id);
  held.recorded('1-no-such-call');
  assert.equal(held.size, 1, 'the worker wrote a-2\'s CDR itself');

  const reason = 'SIP;cause=503;text="application disconnected"';
  const [rec, ...more] = held.takeLost(20_000, 'app-lost', reason);
  assert.deepEqual(more, []);
  assert.equal(held.size, 0, 'taken once');
  assert.deepEqual(
    [rec!.callId, rec!.status, rec!.cause, rec!.releasedBy, rec!.reason, rec!.reasonIn, rec!.tenantIn, rec!.tenantOut, rec!.dialPeer, rec!.calledNumber],
    ['a-1', 200, 'app-lost', 'gateway', reason, reason, 'pbx', 'carrier', 'to-carrier', '3001'],
  );
  assert.deepEqual([rec!.setupAt, rec!.answerAt, rec!.endAt, rec!.setupMs, rec!.durationMs], [1_000, 1_500, 20_000, 500, 18_500]);
  assert.match(rec!.id, /^[0-9a-f-]{36}$/);

  const ringingOnly = new HeldCalls();
  ringingOnly.apply({ rows: [{ ...setupFacts(4), answerAt: null, id: '1-00000004', app: 1, state: 'ringing', durationMs: 0 }], gone: [] });
  const [r] = ringingOnly.takeLost(9_000, 'app-lost', reason);
  assert.deepEqual([r!.status, r!.answerAt, r!.durationMs, r!.setupMs], [503, null, 0, 5_000]);
});

test('the pool\'s copy is bounded: past its size a call is counted, not copied, and a call already in it is still brought up to date', () => {
  const held = new HeldCalls(2);
  const row = (n: number, state: 'ringing' | 'connected' = 'ringing') => ({
    ...setupFacts(n), answerAt: state === 'connected' ? 1_000 * n + 500 : null, id: `1-${n}`, app: 1, state, durationMs: 0,
  });
  held.apply({ rows: [row(1), row(2), row(3)], gone: [] });
  assert.deepEqual([held.size, held.notCopied], [2, 1]);
  held.apply({ rows: [row(2, 'connected')], gone: [] });
  assert.deepEqual([held.size, held.notCopied], [2, 1]);
  assert.deepEqual(held.takeLost(5_000, 'app-lost', 'r').map((r) => [r.callId, r.status]), [['a-1', 503], ['a-2', 200]]);
  assert.deepEqual([held.size, held.notCopied], [0, 0], 'a new worker\'s copy starts empty');
});
