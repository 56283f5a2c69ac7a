import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { LegSessionTimer, type RefreshLeg } from '../../../src/b2bua/session-timer.js';
import { settle } from './fake-srf.js';

type Answer = { status: number; get(n: string): string | undefined };

/** A far end answering each refresh from a script; unscripted refreshes are never answered. */
class Leg implements RefreshLeg {
  local = { sdp: 'v=0\r\n' };
  sent: Array<{ method: string; at: number; headers?: Record<string, string> }> = [];
  answers: Answer[] = [];
  constructor(readonly clock: ManualClock) {}
  request(opts: { method: string; headers?: Record<string, string>; body?: string }, cb?: (err: unknown, res?: Answer) => void) {
    this.sent.push({ method: opts.method, at: this.clock.now() / 1000, ...(opts.headers ? { headers: opts.headers } : {}) });
    const a = this.answers.shift();
    const p = a ? Promise.resolve(a) : new Promise<Answer>(() => undefined);
    if (cb) p.then((r) => cb(null, r), (err: unknown) => cb(err));
    return p;
  }
}

const answer = (status: number, h: Record<string, string> = {}): Answer => ({ status, get: (n) => h[n] });

function run(method: 'UPDATE' | 'INVITE', answers: Answer[]) {
  const clock = new ManualClock(0);
  const leg = new Leg(clock);
  leg.answers = answers;
  const events: string[] = [];
  const t = new LegSessionTimer({
    leg, name: 'B', seconds: 1800, weRefresh: true, method, clock, minSeSeconds: 90,
    onExpired: (n, s) => events.push(`expired ${n} ${s} at ${clock.now() / 1000}`), onRefreshFailed: (n, s) => events.push(`failed ${n} ${s}`),
  });
  const advance = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await settle();
    }
  };
  return { leg, events, t, advance };
}

test('an UPDATE refresh answered 405 or 501 goes at once as a re-INVITE, and the session lives on', async () => {
  for (const status of [405, 501]) {
    const s = run('UPDATE', [answer(status, { Allow: 'INVITE, BYE' }), answer(200)]);
    await s.advance(900);
    assert.deepEqual(s.leg.sent.map((r) => `${r.method}@${r.at}`), ['UPDATE@900', 'INVITE@900'], String(status));
    await s.advance(900);
    assert.deepEqual(s.events, [], 'refreshed at 900 s: no expiry at 1800 s');
    assert.deepEqual(s.leg.sent.map((r) => r.method).slice(2), ['INVITE'], 'later refreshes are re-INVITEs');
    s.t.stop();
  }
});

test('a refresh answered 500 with Retry-After (RFC 3311 §5.2) is sent again after it, capped at 10 s', async () => {
  const s = run('UPDATE', [answer(500, { 'Retry-After': '2' }), answer(500, { 'Retry-After': '3600' }), answer(200)]);
  await s.advance(1799);
  assert.deepEqual(s.leg.sent.map((r) => `${r.method}@${r.at}`).slice(0, 3), ['UPDATE@900', 'UPDATE@902', 'UPDATE@912']);
  assert.deepEqual(s.events, [], 'the third try succeeded: no expiry');
  s.t.stop();
});

test('a 491 to an UPDATE refresh, and a 500 or 503 without Retry-After to a re-INVITE, are retried', async () => {
  const u = run('UPDATE', [answer(491), answer(200)]);
  await u.advance(1799);
  assert.deepEqual(u.leg.sent.map((r) => r.at).slice(0, 2), [900, 903]);
  assert.deepEqual(u.events, []);
  u.t.stop();
  for (const status of [500, 503]) {
    const i = run('INVITE', [answer(status), answer(200)]);
    await i.advance(1799);
    assert.deepEqual(i.leg.sent.map((r) => `${r.method}@${r.at}`).slice(0, 2), ['INVITE@900', 'INVITE@905'], String(status));
    assert.deepEqual(i.events, []);
    i.t.stop();
  }
});

test('retries are bounded: a far end that keeps answering 503 lets the session expire', async () => {
  const s = run('INVITE', Array.from({ length: 20 }, () => answer(503)));
  await s.advance(1800);
  assert.equal(s.leg.sent.length, 6, 'the refresh and five retries');
  assert.deepEqual(s.events, ['expired B 1800 at 1800']);
});

test('a 2xx to our refresh naming refresher=uas hands the refreshes to the far end', async () => {
  const s = run('UPDATE', [answer(200, { 'Session-Expires': '1800;refresher=uas' })]);
  await s.advance(900);
  assert.equal(s.leg.sent.length, 1);
  await s.advance(1800 - 32 - 1);
  assert.equal(s.leg.sent.length, 1, 'no refresh of ours');
  assert.deepEqual(s.events, []);
  await s.advance(1);
  assert.deepEqual(s.events, ['expired B 1800 at 2668'], 'the far end did not refresh: BYE 32 s before the expiry');
});

test('a refresh overtaken by a renegotiation while it was out is not tried again on the old terms', async () => {
  const clock = new ManualClock(0);
  const sent: string[] = [];
  let pending: ((a: Answer) => void) | undefined;
  const leg = {
    local: { sdp: 'v=0\r\n' },
    request(opts: { method: string; headers?: Record<string, string> }) {
      sent.push(`${opts.method}@${clock.now() / 1000}`);
      return new Promise<Answer>((r) => { pending = r; });
    },
  } as unknown as RefreshLeg;
  const events: string[] = [];
  const t = new LegSessionTimer({ leg, name: 'B', seconds: 1800, weRefresh: true, method: 'UPDATE', clock, minSeSeconds: 90,
    onExpired: (n, s) => events.push(`expired ${n} ${s} at ${clock.now() / 1000}`), onRefreshFailed: (n, s) => events.push(`failed ${n} ${s}`) });
  const advance = async (s: number) => {
    for (let i = 0; i < s; i++) {
      clock.advance(1000);
      await settle();
    }
  };
  try {
    await advance(900);
    assert.deepEqual(sent, ['UPDATE@900'], 'our refresh is out');
    // The far end's own refresh names refresher=uac and is answered 2xx: it refreshes from now on.
    t.renegotiate(1800, false);
    pending!(answer(500, { 'Retry-After': '2' }));
    await settle();
    await advance(60);
    assert.deepEqual(sent, ['UPDATE@900'], 'the refused refresh of the old terms is not tried again');
    assert.equal(t.weRefresh, false, 'the far end keeps the refreshes it took');
    assert.deepEqual(events, []);
  } finally {
    t.stop();
  }
});
