import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardSendFailure } from '../../../src/b2bua/index.js';
import { FakeRes } from './pipeline-fakes.js';

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

test('guard: a status drachtio-srf does not know reaches the caller as its class, the Reason as given', () => {
  const res = new FakeRes();
  const guarded = guardSendFailure(res, () => true);
  guarded.send(184, 'Early', {});
  guarded.send(607, 'Unwanted', { headers: { Reason: 'SIP;cause=607;text="Unwanted"' } });
  assert.deepEqual(res.sent.map((s) => [s.status, s.reason, s.opts?.headers?.Reason]), [[183, 'Early', undefined], [600, 'Unwanted', 'SIP;cause=607;text="Unwanted"']]);
});
