import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { CallStats } from '../../../src/b2bua/index.js';
import { bridgeHandlerFailed } from '../../../src/b2bua/start-b2bua.js';
import { captureLog } from './fake-srf.js';

test('the plain bridge\'s handler failing on 50 calls: each unanswered caller gets 500 with a Reason, counted; one coded line', () => {
  const { log, lines } = captureLog();
  const refusals = new RateLimitedLog(log, new ManualClock(0), { intervalMs: 10_000 });
  const stats = new CallStats();
  const sent: Array<{ status: number; reason?: string }> = [];
  for (let i = 0; i < 50; i++) {
    const res = { finalResponseSent: i % 10 === 9, send: (status: number, _r?: string, o?: { headers?: Record<string, string> }) => sent.push({ status, ...(o?.headers?.Reason ? { reason: o.headers.Reason } : {}) }) };
    bridgeHandlerFailed(stats, refusals, { uri: 'sip:1@gw', get: (n: string) => (n === 'Call-ID' ? `c${i}` : undefined) }, res, new Error('boom'));
  }
  assert.equal(sent.length, 45, 'the callers already answered are left alone');
  assert.deepEqual(sent[0], { status: 500, reason: 'SIP;cause=500;text="Gateway error placing the call"' });
  assert.deepEqual(stats.snapshot().failed, { 500: 45 });
  const coded = lines.filter((l) => l.msg === 'b2bua: call handler failed');
  assert.equal(coded.length, 1);
  assert.equal(coded[0]!.code, 'ERR_B2BUA_CALL_HANDLER');
});
