/**
 * What a peer or an app can make the transaction layer do again and again is counted exactly and logged through
 * the layer's rate-limited lines (one per code per 10 s), never a line apiece: a TU callback that throws, a response
 * passed after the final one, a request without a usable CSeq.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLog } from '../../../support/log-capture.js';
import { flowFrom, headerOf, makeRequest, makeResponse, recordingTu, setup } from './support.js';

const none = Buffer.alloc(0);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const lines = (c: ReturnType<typeof captureLog>, code: string) => c.records.filter((r) => r['code'] === code).length;

test('a TU that throws on every request is counted each time and logged once; each request gets 500 and its transaction ends', async () => {
  const c = captureLog();
  const { layer, transport, clock } = setup({ log: c.log });
  layer.setUser(recordingTu(() => {
    throw new Error('boom');
  }));
  for (let i = 0; i < 20; i++) layer.receive(makeRequest(i % 4 ? 'OPTIONS' : 'INVITE', { branch: `z9hG4bK-t${i}` }), none, flowFrom('udp'));
  await tick();
  assert.equal(layer.stats().userErrors, 20);
  assert.equal(lines(c, 'ERR_SIP_TRANSACTION_USER_FAILED'), 1);
  const errors = transport.sent.filter((s) => s.line === 'SIP/2.0 500 Server Internal Error');
  assert.equal(errors.length, 20, 'each request answered 500 once');
  for (const s of errors) {
    assert.match(headerOf(s.text, 'Reason')[0]!, /^SIP;cause=500;text="/);
    assert.match(headerOf(s.text, 'To')[0]!, /;tag=\S+$/);
  }
  // Timer H (64*T1) for the INVITEs without an ACK, Timer J for the others: nothing is left against the cap.
  clock.advance(64 * 500);
  assert.deepEqual(layer.stats().live, { ict: 0, nict: 0, ist: 0, nist: 0 });
});

test('responses after the final one are discarded, counted, and logged once', async () => {
  const c = captureLog();
  const { layer, tu, transport } = setup({ log: c.log });
  for (let i = 0; i < 10; i++) layer.receive(makeRequest(i % 2 ? 'OPTIONS' : 'INVITE', { branch: `z9hG4bK-l${i}` }), none, flowFrom('udp'));
  for (const { request, txn } of tu.requests) {
    txn.respond(makeResponse(request, 486));
    txn.respond(makeResponse(request, 200));
  }
  await tick();
  assert.equal(transport.lines().filter((l) => l.startsWith('SIP/2.0 200')).length, 0, 'no late 200 went out');
  assert.equal(layer.stats().lateResponsesDiscarded, 10);
  assert.equal(lines(c, 'ERR_SIP_TRANSACTION_LATE_RESPONSE'), 1);
});

test('requests without a usable CSeq are dropped, counted, and logged once', async () => {
  const c = captureLog();
  const { layer, tu } = setup({ log: c.log });
  for (let i = 0; i < 10; i++) {
    const r = makeRequest('OPTIONS', { branch: `z9hG4bK-c${i}` });
    r.headers = r.headers.filter((h) => h.name !== 'cseq');
    layer.receive(r, none, flowFrom('udp'));
  }
  await tick();
  assert.equal(tu.requests.length, 0);
  assert.equal(layer.stats().badRequestsDropped, 10);
  assert.equal(lines(c, 'ERR_SIP_TRANSACTION_BAD_REQUEST'), 1);
});
