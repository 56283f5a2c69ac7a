import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import Srf from 'drachtio-srf';
import { AttemptAbandoned, attemptBLeg, guardSendFailure, type PlaceCallSrf } from '../../../src/b2bua/index.js';
import { ManualClock } from '../../../src/common/index.js';
import { settle } from './fake-srf.js';
import { FakeDialog, FakeRes } from './pipeline-fakes.js';

test('guard: createB2BUA\'s own 487 and 500 reach the caller with a Reason; a Reason already there is kept', () => {
  const res = new FakeRes();
  guardSendFailure(res, () => true).send(487);
  assert.equal(res.reasonHeader, 'SIP;cause=487;text="Request terminated: the caller cancelled"');
  const res2 = new FakeRes();
  guardSendFailure(res2, () => true).send(500, undefined, { headers: { reason: 'Q.850;cause=16' } });
  assert.deepEqual(res2.sent[0]!.opts, { headers: { reason: 'Q.850;cause=16' } });
});

test('guard: the 500 for a B-leg INVITE that was never sent is held back; once abandoned, nothing reaches the caller', () => {
  const res = new FakeRes();
  guardSendFailure(res, () => false).send(500);
  assert.equal(res.sent.length, 0);
  guardSendFailure(res, () => true, () => true).send(180);
  assert.equal(res.sent.length, 0);
});

test('guard: once abandoned, a final response sent with a callback fails through it; a provisional one is dropped', () => {
  const res = new FakeRes();
  const got: unknown[] = [];
  // drachtio-srf's send(status, [reason], [opts], [callback], [fnPrack]), as createUAS and createB2BUA call it.
  const guarded = guardSendFailure(res, () => true, () => true) as unknown as { send(...args: unknown[]): void };
  guarded.send(200, { body: 'v=0' }, (err: unknown) => got.push(err));
  guarded.send(183, undefined, {}, null, () => got.push('called'));
  guarded.send(487);
  assert.equal(res.sent.length, 0);
  assert.equal(got.length, 1);
  assert.ok(got[0] instanceof AttemptAbandoned);
});

test('guard: a status drachtio-srf does not know reaches the caller as its class, the Reason as given', () => {
  const res = new FakeRes();
  const guarded = guardSendFailure(res, () => true);
  guarded.send(184, 'Early', {});
  guarded.send(607, 'Unwanted', { headers: { Reason: 'SIP;cause=607;text="Unwanted"' } });
  assert.deepEqual(res.sent.map((s) => [s.status, s.reason, s.opts?.headers?.Reason]), [[183, 'Early', undefined], [600, 'Unwanted', 'SIP;cause=607;text="Unwanted"']]);
});

/**
 * drachtio-srf's own createB2BUA (its B-leg INVITE stubbed): the B leg's 200 arrives after the no-answer timer gave
 * the attempt up, and createB2BUA goes on to answer the A leg (createUAS) with it.
 */
function lateAnswer() {
  const srf = new Srf();
  let answerB!: (uac: unknown) => void;
  const cancels: number[] = [];
  (srf as unknown as { createUAC: unknown }).createUAC = (_opts: unknown, cb: { cbRequest(err: unknown, req: unknown): void }) => {
    cb.cbRequest(null, { cancel: () => cancels.push(1) });
    return new Promise((resolve) => (answerB = resolve));
  };
  const req = Object.assign(new EventEmitter(), {
    method: 'INVITE', uri: 'sip:2001@gw.example.com', body: 'v=0\r\n', has: (n: string) => n === 'Contact', get: (_n: string) => undefined,
  });
  const res = new FakeRes();
  const byes: number[] = [];
  const uac = { res: { body: 'v=0\r\nb\r\n', getParsedHeader: () => ({ method: 'INVITE' }), get: () => undefined }, destroy: () => (byes.push(1), Promise.resolve()) };
  return { srf, req, res, cancels, byes, answer: () => answerB(uac) };
}

test('attempt: a B leg answering after the no-answer timer gave the attempt up is released (BYE), nothing reaches the caller', async () => {
  const clock = new ManualClock(0);
  const l = lateAnswer();
  const result = attemptBLeg({ srf: l.srf as unknown as PlaceCallSrf, req: l.req as never, res: l.res, uri: 'sip:2001@trunk.example.com', opts: {}, clock, noAnswerMs: 1_000 });
  clock.advance(1_000);
  assert.deepEqual(await result, { ok: false, noAnswer: true });
  assert.equal(l.cancels.length, 1, 'the B leg was cancelled');
  l.answer();
  await new Promise((r) => setImmediate(r));
  assert.equal(l.byes.length, 1, 'the B leg that answered late got its BYE');
  assert.equal(l.res.sent.length, 0);
});

test('attempt: a B leg answered just as the attempt was given up (the A leg\'s 200 already sent): both legs are released', async () => {
  const clock = new ManualClock(0);
  const srf = { createB2BUA: () => new Promise<{ uas: FakeDialog; uac: FakeDialog }>((resolve) => (answered = resolve)) };
  let answered!: (legs: { uas: FakeDialog; uac: FakeDialog }) => void;
  const result = attemptBLeg({ srf, req: {} as never, res: new FakeRes(), uri: 'sip:2001@trunk.example.com', opts: {}, clock, noAnswerMs: 1_000 });
  clock.advance(1_000);
  assert.deepEqual(await result, { ok: false, noAnswer: true });
  const legs = { uas: new FakeDialog(), uac: new FakeDialog() };
  answered(legs);
  await settle();
  assert.deepEqual([legs.uas.destroyCalls, legs.uac.destroyCalls], [1, 1]);
});
