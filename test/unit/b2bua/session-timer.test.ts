import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import {
  decideUac, decideUas, LegSessionTimer, parseSessionExpires, uacRequestHeaders, uasResponseHeaders, type RefreshLeg,
} from '../../../src/b2bua/index.js';
import { settle } from './fake-srf.js';

const policy = { expiresSeconds: 1800, minSeSeconds: 90 };
const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? h[n.toLowerCase()] });

test('Session-Expires is read with its refresher, and nonsense is not', () => {
  assert.deepEqual(parseSessionExpires('1800;refresher=uac'), { seconds: 1800, refresher: 'uac' });
  assert.deepEqual(parseSessionExpires(' 90 ; refresher = UAS '), { seconds: 90, refresher: 'uas' });
  assert.deepEqual(parseSessionExpires('600'), { seconds: 600 });
  assert.equal(parseSessionExpires('abc'), undefined);
  assert.equal(parseSessionExpires('0'), undefined);
});

test('A leg: below Min-SE from a UAC that supports timers gets 422 with our Min-SE (RFC 4028 §9)', () => {
  assert.deepEqual(decideUas(headers({ 'Session-Expires': '30', Supported: 'timer, 100rel' }), policy), { ok: false, minSe: 90 });
});

test('A leg: a UAC without timer support is never sent 422; its short interval is raised and we refresh', () => {
  assert.deepEqual(decideUas(headers({ 'Session-Expires': '30' }), policy), { ok: true, seconds: 90, refresher: 'uas', uacSupportsTimer: false });
});

test('A leg: the shorter of ours and the caller\'s, its refresher kept; with none a timer-capable UAC refreshes', () => {
  const d = decideUas(headers({ 'Session-Expires': '3600;refresher=uas', Supported: 'timer' }), policy);
  assert.deepEqual(d, { ok: true, seconds: 1800, refresher: 'uas', uacSupportsTimer: true });
  const e = decideUas(headers({ Supported: 'timer' }), policy);
  assert.deepEqual(e, { ok: true, seconds: 1800, refresher: 'uac', uacSupportsTimer: true });
  assert.deepEqual(uasResponseHeaders(e as never), { 'Session-Expires': '1800;refresher=uac', Require: 'timer' });
  assert.deepEqual(decideUas(headers({}), policy), { ok: true, seconds: 1800, refresher: 'uas', uacSupportsTimer: false });
});

test('B leg: we ask for our interval; the 2xx decides who refreshes, and without Session-Expires we refresh anyway', () => {
  assert.deepEqual(uacRequestHeaders(policy), { 'Session-Expires': '1800', 'Min-SE': '90', Supported: 'timer' });
  assert.deepEqual(decideUac(headers({ 'Session-Expires': '1200;refresher=uas' }), policy), { seconds: 1200, weRefresh: false });
  assert.deepEqual(decideUac(headers({ 'Session-Expires': '1200;refresher=uac' }), policy), { seconds: 1200, weRefresh: true });
  assert.deepEqual(decideUac(headers({}), policy), { seconds: 1800, weRefresh: true });
});

/** A leg as drachtio-srf's Dialog.request answers: a promise, or (how leg-reinvite.ts sends a re-INVITE) a callback. */
class Leg implements RefreshLeg {
  local = { sdp: 'v=0\r\n' };
  sent: Array<{ method: string; headers?: Record<string, string>; body?: string }> = [];
  answers: Array<() => Promise<{ status: number; get(n: string): string | undefined }>> = [];
  request(opts: { method: string; headers?: Record<string, string>; body?: string }, cb?: (err: unknown, res?: { status: number; get(n: string): string | undefined }) => void) {
    this.sent.push(opts);
    const p = this.answers.shift()!();
    if (cb) p.then((r) => cb(null, r), (err: unknown) => cb(err));
    return p;
  }
}

function timer(o: { weRefresh: boolean; method?: 'UPDATE' | 'INVITE'; seconds?: number }) {
  const clock = new ManualClock(0);
  const leg = new Leg();
  const events: string[] = [];
  const t = new LegSessionTimer({
    leg, name: 'B', seconds: o.seconds ?? 10, weRefresh: o.weRefresh, method: o.method ?? 'UPDATE', clock,
    onExpired: (n, s) => events.push(`expired ${n} ${s}`), onRefreshFailed: (n, s) => events.push(`failed ${n} ${s}`),
  });
  return { clock, leg, events, t };
}

test('as refresher: an UPDATE at half the interval; a 2xx re-arms, so the session lives on', async () => {
  const s = timer({ weRefresh: true });
  s.leg.answers.push(async () => ({ status: 200, get: () => undefined }));
  s.leg.answers.push(() => new Promise(() => undefined));
  s.clock.advance(5_000);
  await settle();
  assert.deepEqual(s.leg.sent, [{ method: 'UPDATE', headers: { 'Session-Expires': '10;refresher=uac', 'Min-SE': '10', Supported: 'timer' } }]);
  s.clock.advance(9_000);
  assert.deepEqual(s.events, [], 'refreshed at 5 s: no expiry at 10 s');
  assert.equal(s.leg.sent.length, 2, 'the next refresh went at 10 s');
  s.t.stop();
});

test('as refresher: a refresh that is never answered lets the session expire at the interval', async () => {
  const s = timer({ weRefresh: true, method: 'INVITE' });
  s.leg.answers.push(() => new Promise(() => undefined));
  s.clock.advance(5_000);
  assert.equal(s.leg.sent[0]?.method, 'INVITE');
  s.clock.advance(5_000);
  assert.deepEqual(s.events, ['expired B 10']);
});

test('as refresher: 481 to the refresh ends the session at once (RFC 4028 §10)', async () => {
  const s = timer({ weRefresh: true, method: 'INVITE' });
  s.leg.answers.push(async () => ({ status: 481, get: () => undefined }));
  s.clock.advance(5_000);
  await settle();
  assert.deepEqual(s.events, ['failed B 481']);
  s.clock.advance(10_000);
  assert.deepEqual(s.events, ['failed B 481'], 'stopped: no expiry after the failure');
});

test('as refresher: 422 is retried once with the Min-SE it names', async () => {
  const s = timer({ weRefresh: true });
  s.leg.answers.push(async () => ({ status: 422, get: (n: string) => (n === 'Min-SE' ? '30' : undefined) }));
  s.leg.answers.push(async () => ({ status: 200, get: () => undefined }));
  s.clock.advance(5_000);
  await settle();
  assert.equal(s.leg.sent[1]?.headers?.['Session-Expires'], '30;refresher=uac');
  assert.equal(s.t.seconds, 30);
  s.t.stop();
});

test('peer refreshes: without a refresh the session ends a third before the interval (at most 32 s early); touch() re-arms', () => {
  const s = timer({ weRefresh: false, seconds: 9 });
  s.clock.advance(5_000);
  s.t.touch();
  s.clock.advance(5_999);
  assert.deepEqual(s.events, []);
  s.clock.advance(1);
  assert.deepEqual(s.events, ['expired B 9']);
  assert.equal(s.leg.sent.length, 0, 'we never refresh when the peer does');
});

test('the 2xx to a session refresh carries its Session-Expires back, with Require: timer for a timer-capable sender', async () => {
  const { refreshAnswerHeaders } = await import('../../../src/b2bua/index.js');
  const req = (h: Record<string, string>) => ({ get: (n: string) => h[n], has: (n: string) => n in h });
  assert.deepEqual(refreshAnswerHeaders(req({ 'Session-Expires': '1800;refresher=uac', Supported: 'timer' })),
    { 'Session-Expires': '1800;refresher=uac', Require: 'timer' });
  assert.deepEqual(refreshAnswerHeaders(req({ 'Session-Expires': '900' })), { 'Session-Expires': '900;refresher=uac' });
  assert.deepEqual(refreshAnswerHeaders(req({})), {});
});

test('as refresher: a 503 to every try of the refresh leaves the session to its expiry; a refresh that cannot be sent at all ends it', async () => {
  const busy = timer({ weRefresh: true, method: 'INVITE', seconds: 1800 });
  for (let i = 0; i < 6; i++) busy.leg.answers.push(async () => ({ status: 503, get: () => undefined }));
  for (let i = 0; i < 1800; i++) {
    busy.clock.advance(1_000);
    await settle();
  }
  assert.equal(busy.leg.sent.length, 6, 'the refresh and its five retries');
  assert.deepEqual(busy.events, ['expired B 1800']);

  const gone = timer({ weRefresh: true, method: 'INVITE' });
  gone.leg.answers.push(() => Promise.reject(new Error('invalid request to modify a completed dialog')));
  gone.clock.advance(5_000);
  await settle();
  assert.deepEqual(gone.events, ['failed B 503']);
});

test('far-end intervals are held to [our Min-SE, 86,400 s]: a B leg 2xx, a caller Min-SE, a 422 retry ask', () => {
  assert.deepEqual(decideUac(headers({ 'Session-Expires': '2147516;refresher=uas' }), policy, 5_000_000), { seconds: 86_400, weRefresh: false });
  assert.deepEqual(decideUac(headers({ 'Session-Expires': '1' }), policy), { seconds: 90, weRefresh: true });
  const d = decideUas(headers({ 'Session-Expires': '3600', 'Min-SE': '9999999999', Supported: 'timer' }), policy);
  assert.equal(d.ok && d.seconds, 86_400);
  const e = decideUas(headers({ 'Min-SE': '7200' }), policy);
  assert.equal(e.ok && e.seconds, 7200, 'a caller Min-SE under the bound still raises the interval (RFC 4028 §9)');
  assert.equal(uacRequestHeaders(policy, 5_000_000)['Session-Expires'], '86400');
});

test('a refresh 2xx cannot shorten the interval below Min-SE nor lengthen it past the one asked for', async () => {
  const short = timer({ weRefresh: true, seconds: 1800 });
  short.leg.answers.push(async () => ({ status: 200, get: (n: string) => (n === 'Session-Expires' ? '1;refresher=uac' : undefined) }));
  short.clock.advance(900_000);
  await settle();
  assert.equal(short.t.seconds, 90, 'Session-Expires: 1 would refresh every 0.5 s');
  short.leg.answers.push(() => new Promise(() => undefined));
  short.clock.advance(44_999);
  assert.equal(short.leg.sent.length, 1);
  short.clock.advance(1);
  assert.equal(short.leg.sent.length, 2, 'the next refresh at half of 90 s');
  short.t.stop();

  const long = timer({ weRefresh: true, seconds: 1800 });
  long.leg.answers.push(async () => ({ status: 200, get: (n: string) => (n === 'Session-Expires' ? '4000000000' : undefined) }));
  long.clock.advance(900_000);
  await settle();
  assert.equal(long.t.seconds, 1800);
  long.t.stop();
});

test('no timer is handed more than setTimeout keeps (2^31 - 1 ms), whatever the interval', () => {
  const delays: number[] = [];
  const clock = { now: () => 0, setTimeout: (_fn: () => void, ms: number) => (delays.push(ms), { cancel: () => undefined }) };
  for (const weRefresh of [true, false]) {
    const t = new LegSessionTimer({
      leg: new Leg(), name: 'A', seconds: 3_000_000, weRefresh, method: 'UPDATE', clock, onExpired: () => undefined, onRefreshFailed: () => undefined,
    });
    assert.equal(t.seconds, 86_400);
    t.stop();
  }
  assert.ok(delays.every((ms) => ms >= 1 && ms <= 2 ** 31 - 1), delays.join(','));
  assert.equal(Math.max(...delays), 86_400_000);
});
