import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { ActiveCalls, ADMIN_CAUSE, ADMIN_REASON, CallStats, callIdApp, superviseLegs, type CallEnd, type CallFacts } from '../../../src/b2bua/index.js';
import { mergeCallLists } from '../../../src/b2bua/workers/app-queries.js';
import { captureLog, FakeLeg } from './fake-srf.js';

function call(callId = 'a-call') {
  const { log } = captureLog();
  const ends: CallEnd[] = [];
  const uas = new FakeLeg();
  const uac = new FakeLeg();
  const control = superviseLegs({ stats: new CallStats(), log, callId, onEnded: (e) => ends.push(e) }, { uas, uac });
  return { ends, uas, uac, control };
}

const facts = (n: number): CallFacts => ({
  callIds: [`a-${n}`, `b-${n}`], tenantIn: 'pbx', tenantOut: 'carrier', dialPeer: '100', callingNumber: '1001', calledNumber: `300${n}`,
  startAt: 1_000 * n, answerAt: 1_000 * n + 500,
});

test('the call list shows each call with its app-prefixed id, Call-IDs, tenants, numbers, times and connected time; the limit cuts it, the total does not', () => {
  const clock = new ManualClock(10_000);
  const active = new ActiveCalls({ app: 2, clock });
  const ids = [1, 2, 3].map((n) => active.add(call().control, facts(n))!);
  assert.ok(ids.every((id) => /^2-[0-9a-f]{8}$/.test(id)), ids.join(' '));
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(ids.map(callIdApp), [2, 2, 2]);
  const all = active.list(100);
  assert.equal(all.total, 3);
  assert.deepEqual(all.calls[0], { id: ids[0], app: 2, state: 'connected', ...facts(1), durationMs: 10_000 - 1_500 });
  const two = active.list(2);
  assert.deepEqual(two.calls.map((c) => c.id), ids.slice(0, 2));
  assert.equal(two.total, 3);
});

test('a hang-up sends BYE with the admin Reason on both legs, the call ends with cause admin and leaves the list; an unknown id is unknown', async () => {
  const active = new ActiveCalls();
  const c = call();
  const id = active.add(c.control, facts(1))!;
  const pending = active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON);
  assert.deepEqual(c.uas.destroyOpts, [{ headers: { Reason: ADMIN_REASON } }]);
  assert.deepEqual(c.uac.destroyOpts, [{ headers: { Reason: ADMIN_REASON } }]);
  assert.equal(active.list(10).calls[0]?.state, 'ending', 'listed as ending while the BYEs are out');
  assert.equal((await active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON)).outcome, 'already-ending', 'a second hang-up sends nothing more');
  c.uas.answerBye();
  c.uac.answerBye();
  const r = await pending;
  assert.equal(r.outcome, 'ended');
  assert.equal(c.ends[0]?.cause, 'admin');
  assert.equal(c.ends[0]?.releasedBy, 'gateway');
  assert.equal(active.size, 0);
  assert.deepEqual(await active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON), { outcome: 'unknown' });
});

test('a hang-up whose BYEs are not answered within 2 s answers ending; the call is still listed as ending', async () => {
  const clock = new ManualClock(0);
  const active = new ActiveCalls({ clock });
  const c = call();
  const id = active.add(c.control, facts(1))!;
  const pending = active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON);
  c.uas.answerBye();
  clock.advance(2_000);
  const r = await pending;
  if (r.outcome !== 'ending') assert.fail(`outcome ${r.outcome}`);
  assert.equal(r.call.state, 'ending');
  assert.deepEqual(active.list(10).calls.map((x) => [x.id, x.state]), [[id, 'ending']]);
  c.uac.answerBye();
  assert.equal(active.size, 0);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a call whose far end hung up is listed as ending, and a hang-up of it sends no BYE of its own', async () => {
  const active = new ActiveCalls();
  const c = call();
  const id = active.add(c.control, facts(1))!;
  c.uac.remoteBye();
  assert.equal(active.list(10).calls[0]?.state, 'ending');
  assert.equal((await active.hangUp(id, ADMIN_CAUSE, ADMIN_REASON)).outcome, 'already-ending');
  assert.deepEqual(c.uac.destroyOpts, [], 'no BYE of ours to the leg that hung up');
});

test('call ids name their app; anything else names none', () => {
  assert.equal(callIdApp('0-0123abcd'), 0);
  assert.equal(callIdApp('12-ffffffff'), 12);
  for (const bad of ['', '1-xyz', '1-0123abc', 'a-0123abcd', '1-0123abcd0', '../1-0123abcd']) assert.equal(callIdApp(bad), undefined, bad);
});

test('the apps\' lists merge by answer time under one limit; totals add up; an app that did not answer is named', () => {
  const row = (app: number, n: number) => ({ id: `${app}-0000000${n}`, app, state: 'connected' as const, ...facts(n), durationMs: 1 });
  const merged = mergeCallLists([
    { app: 0, list: { calls: [row(0, 1), row(0, 4)], total: 5, unanswered: [] } },
    { app: 1, list: { calls: [row(1, 2), row(1, 3)], total: 2, unanswered: [] } },
    { app: 2, list: undefined },
  ], 3);
  assert.deepEqual(merged.calls.map((c) => c.id), ['0-00000001', '1-00000002', '1-00000003']);
  assert.equal(merged.total, 7);
  assert.deepEqual(merged.unanswered, [2]);
});

test('a call being set up is listed as ringing after the connected ones; once answered it keeps its id; a hang-up asks its setup to stop', async () => {
  const clock = new ManualClock(10_000);
  const active = new ActiveCalls({ app: 1, clock });
  const up = active.add(call().control, facts(1))!;
  const { answerAt: _none, ...setupFacts } = facts(2);
  const clears: Array<[string, string]> = [];
  const ringing = active.setUp({ ...setupFacts, callIds: ['a-2'] }, (cause, reason) => clears.push([cause, reason]));
  assert.match(ringing.id, /^1-[0-9a-f]{8}$/);
  const list = active.list(10);
  assert.equal(list.total, 2);
  assert.deepEqual(list.calls.map((c) => [c.id, c.state, c.answerAt, c.durationMs]), [[up, 'connected', 1_500, 8_500], [ringing.id, 'ringing', null, 0]]);
  assert.equal(active.list(1).calls.length, 1, 'the limit counts the ringing calls too');

  // A hang-up of a ringing call asks its setup to stop and answers once the setup is done; a second one conflicts.
  const hung = active.hangUp(ringing.id, ADMIN_CAUSE, ADMIN_REASON);
  assert.deepEqual(clears, [[ADMIN_CAUSE, ADMIN_REASON]]);
  const again = await active.hangUp(ringing.id, ADMIN_CAUSE, ADMIN_REASON);
  assert.equal(again.outcome, 'already-ending');
  ringing.done();
  const r = await hung;
  assert.equal(r.outcome, 'ended');
  assert.equal(r.outcome === 'ended' ? r.call.answerAt : 'not ended', null);
  assert.equal(active.list(10).total, 1, 'gone from the list');
  assert.equal((await active.hangUp(ringing.id, ADMIN_CAUSE, ADMIN_REASON)).outcome, 'unknown');

  // Answered: the connected call takes the setup's id, and the ringing entry goes.
  const next = active.setUp({ ...setupFacts, callIds: ['a-3'] }, () => undefined);
  assert.equal(active.add(call().control, facts(3), next.id), next.id);
  next.done();
  assert.deepEqual(active.list(10).calls.map((c) => [c.id, c.state]), [[up, 'connected'], [next.id, 'connected']]);
});

test('the apps\' lists merge with the connected calls first by answer time, then the ringing ones by start time', () => {
  const row = (id: string, startAt: number, answerAt: number | null) => ({
    id, app: 0, state: answerAt === null ? 'ringing' as const : 'connected' as const, ...facts(1), startAt, answerAt, durationMs: 0,
  });
  const merged = mergeCallLists([
    { app: 0, list: { calls: [row('0-a', 1, 5), row('0-b', 2, null)], total: 2, unanswered: [] } },
    { app: 1, list: { calls: [row('1-a', 1, 3), row('1-b', 0, null)], total: 2, unanswered: [] } },
  ], 10);
  assert.deepEqual(merged.calls.map((c) => c.id), ['1-a', '0-a', '1-b', '0-b']);
});

test('ending every call stops the ringing ones too, and the list is drained only when neither kind is left', async () => {
  const active = new ActiveCalls({ clock: new ManualClock(10_000) });
  const c = call();
  active.add(c.control, facts(1));
  const { answerAt: _none, ...setupFacts } = facts(2);
  const clears: string[] = [];
  const ringing = active.setUp(setupFacts, (cause) => clears.push(cause));
  let drained = false;
  void active.drained().then(() => { drained = true; });
  assert.equal(active.endAll('shutdown', 'SIP;cause=503;text="Gateway shutting down"'), 2);
  assert.deepEqual(clears, ['shutdown'], 'the setup was asked to stop');
  c.uas.answerBye();
  c.uac.answerBye();
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, 'a call still ringing holds the drain');
  ringing.done();
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, true);
});
