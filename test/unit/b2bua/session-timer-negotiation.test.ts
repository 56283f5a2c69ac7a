import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { decideUac, LegSessionTimer, uacRequestHeaders, type RefreshLeg } from '../../../src/b2bua/session-timer.js';
import { settle } from './fake-srf.js';
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

test('Min-SE is carried forward (RFC 4028 §7.4): an INVITE retried after a 422 carries the largest Min-SE seen', () => {
  assert.deepEqual(uacRequestHeaders(policy), { 'Session-Expires': '1800', 'Min-SE': '90', Supported: 'timer' });
  assert.deepEqual(uacRequestHeaders(policy, 3600), { 'Session-Expires': '3600', 'Min-SE': '3600', Supported: 'timer' });
});

test('Min-SE is carried forward: a refresh retried after a 422 carries its Min-SE, and so does every later one', async () => {
  const clock = new ManualClock(0);
  const sent: Array<Record<string, string> | undefined> = [];
  const answers = [{ status: 422, get: (n: string) => (n === 'Min-SE' ? '1200' : undefined) }, { status: 200, get: () => undefined }];
  const leg: RefreshLeg = {
    local: { sdp: 'v=0\r\n' },
    request(opts: { method: string; headers?: Record<string, string> }, cb?: (err: unknown, res?: { status: number; get(n: string): string | undefined }) => void) {
      sent.push(opts.headers);
      const a = answers.shift();
      const p = a ? Promise.resolve(a) : new Promise<never>(() => undefined);
      if (cb) void p.then((r) => cb(null, r));
      return p;
    },
  } as RefreshLeg;
  const t = new LegSessionTimer({
    leg, name: 'B', seconds: 1000, weRefresh: true, method: 'UPDATE', clock, minSeSeconds: 90, onExpired: () => undefined, onRefreshFailed: () => undefined,
  });
  clock.advance(500_000);
  await settle();
  assert.deepEqual(sent.map((h) => [h?.['Session-Expires'], h?.['Min-SE']]), [['1000;refresher=uac', '90'], ['1200;refresher=uac', '1200']]);
  clock.advance(600_000);
  await settle();
  assert.equal(sent[2]?.['Min-SE'], '1200', 'the next refresh too');
  t.stop();
});

test('Min-SE is carried forward: our refreshes to the caller repeat its Min-SE; to the B leg, the one its 422 named', async () => {
  const s = sessionCall({
    aInvite: { 'Session-Expires': '1800;refresher=uas', 'Min-SE': '600', Supported: 'timer', Allow: 'INVITE, UPDATE, BYE' },
    bAnswer: { 'Session-Expires': '3600;refresher=uac', Allow: 'INVITE, UPDATE, BYE' }, bSessionAsked: 3600,
  });
  await s.advance(1800);
  assert.equal(s.a.requests[0]?.method, 'UPDATE');
  assert.equal(s.a.requests[0]?.headers?.['Min-SE'], '600');
  assert.equal(s.b.requests[0]?.method, 'UPDATE');
  assert.equal(s.b.requests[0]?.headers?.['Min-SE'], '3600');
  assert.equal(s.ends.length, 0);
});
