import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideUac } from '../../../src/b2bua/session-timer.js';
import { policy, sessionCall } from './session-timer-rig.js';

const res = (h: Record<string, string>) => ({ get: (n: string) => h[n] });

test('B leg: a 2xx never lengthens the interval we asked for (RFC 4028 §9), the configured one or the one retried after a 422', () => {
  assert.deepEqual(decideUac(res({ 'Session-Expires': '86400;refresher=uas' }), policy), { seconds: 1800, weRefresh: false });
  assert.deepEqual(decideUac(res({ 'Session-Expires': '7200;refresher=uac' }), policy, 3600), { seconds: 3600, weRefresh: true });
  assert.deepEqual(decideUac(res({ 'Session-Expires': '1200;refresher=uas' }), policy, 3600), { seconds: 1200, weRefresh: false });
  assert.deepEqual(decideUac(res({}), policy, 3600), { seconds: 3600, weRefresh: true }, 'no Session-Expires: we refresh at what we asked');
});

test('B leg: a dead trunk that granted itself 24 h is still found at the interval we asked for', async () => {
  const s = sessionCall({ aInvite: { Allow: 'INVITE, BYE' }, bAnswer: { 'Session-Expires': '86400;refresher=uas' } });
  await s.advance(1800 - 32 - 1);
  assert.equal(s.ends.length, 0);
  await s.advance(1);
  assert.equal(s.ends[0]?.cause, 'session-expired');
  assert.match(s.ends[0]?.reason ?? '', /leg B: no refresh within 1800 s/);
});

test('B leg: the interval retried after a 422 is the ceiling of its 2xx', async () => {
  const s = sessionCall({ aInvite: { Allow: 'INVITE, BYE' }, bAnswer: { 'Session-Expires': '86400;refresher=uas' }, bSessionAsked: 3600 });
  await s.advance(3600 - 32 - 1);
  assert.equal(s.ends.length, 0);
  await s.advance(1);
  assert.match(s.ends[0]?.reason ?? '', /leg B: no refresh within 3600 s/);
});
