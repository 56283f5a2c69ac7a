import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LegAnswer } from '../../../src/b2bua/leg-reinvite.js';
import { sessionCall } from './session-timer-rig.js';

// A caller that agreed 1800 s and refreshes itself (refresher=uac), allowing no UPDATE; a B leg that answered alike.
const caller = { 'Session-Expires': '1800;refresher=uac', Supported: 'timer', Allow: 'INVITE, BYE' };
const trunk = { 'Session-Expires': '1800;refresher=uac', Allow: 'INVITE, UPDATE, BYE' };
const SDP = 'v=0\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n';
const ok = (h: Record<string, string> = {}, body?: string): LegAnswer => ({ status: 200, ...(body ? { body } : {}), get: (n) => h[n] });

test('a caller\'s refresh handing the refresher role to us (refresher=uas) is answered so, and we then refresh its leg', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: trunk });
  await s.advance(900);
  const sent = await s.from(s.a, 'modify', { 'Session-Expires': '1800;refresher=uas', Supported: 'timer' });
  assert.deepEqual(sent.map((r) => [r.status, r.headers['Session-Expires']]), [[200, '1800;refresher=uas']]);
  await s.advance(899);
  assert.equal(s.a.modified.length, 0);
  await s.advance(1);
  assert.equal(s.a.modified.length, 1, 'our re-INVITE refresh at half the interval after its 2xx');
  await s.advance(1800);
  assert.equal(s.ends.length, 0, 'the call lives on');
});

test('a caller\'s refresh asking a longer interval is answered with ours, and the call lives while it refreshes at half of it', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: trunk });
  for (let t = 0; t < 4; t++) {
    await s.advance(900);
    const sent = await s.from(s.a, 'modify', { 'Session-Expires': '3600;refresher=uac', Supported: 'timer' });
    assert.deepEqual(sent.map((r) => [r.status, r.headers['Session-Expires']]), [[200, '1800;refresher=uac']]);
  }
  assert.equal(s.ends.length, 0);
  await s.advance(1767);
  assert.equal(s.ends.length, 0);
  await s.advance(1);
  assert.equal(s.ends[0]?.cause, 'session-expired', 'no refresh: BYE 32 s before the 1800 s from the last one');
});

test('a caller\'s refresh that names an interval past 86,400 s gets ours; one below Min-SE gets 422 with Min-SE and a Reason', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: trunk });
  const long = await s.from(s.a, 'update', { 'Session-Expires': '4000000000;refresher=uac', Supported: 'timer' });
  assert.deepEqual(long.map((r) => [r.status, r.headers['Session-Expires']]), [[200, '1800;refresher=uac']]);
  const short = await s.from(s.a, 'modify', { 'Session-Expires': '1;refresher=uac', Supported: 'timer', 'Min-SE': '1' }, SDP);
  assert.equal(short[0]?.status, 422);
  assert.equal(short[0]?.headers['Min-SE'], '90');
  assert.match(short[0]?.headers.Reason ?? '', /^SIP;cause=422;/);
  assert.equal(s.b.modified.length, 0, 'nothing relayed to the B leg');
});

test('a refused re-INVITE does not refresh the session: only a 2xx does (RFC 4028 §10)', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: trunk });
  s.b.reinvite = async () => ({ status: 488, get: () => undefined });
  await s.advance(1000);
  const sent = await s.from(s.a, 'modify', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
  assert.equal(sent[0]?.status, 488);
  await s.advance(767);
  assert.equal(s.ends.length, 0);
  await s.advance(1);
  assert.equal(s.ends[0]?.cause, 'session-expired', 'expired 1768 s after the start, as if the refused request never came');
  assert.match(s.ends[0]?.reason ?? '', /leg A/);
});

test('a re-INVITE relayed to a leg carries its session terms; a 2xx without Session-Expires makes us that leg\'s refresher', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: { 'Session-Expires': '1800;refresher=uas', Allow: 'INVITE, UPDATE, BYE' } });
  const toB: Array<Record<string, string> | undefined> = [];
  s.b.reinvite = async (_sdp, headers) => (toB.push(headers), ok({ 'Content-Type': 'application/sdp' }, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n'));
  await s.advance(900);
  await s.from(s.b, 'modify', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' });
  await s.advance(800);
  const sent = await s.from(s.a, 'modify', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
  assert.equal(sent[0]?.status, 200);
  assert.equal(toB.length, 1);
  assert.equal(toB[0]?.['Session-Expires'], '1800;refresher=uas', 'B refreshes its leg: refresher=uas');
  assert.equal(toB[0]?.Supported, 'timer');
  assert.equal(toB[0]?.['Min-SE'], '90');
  await s.advance(899);
  assert.equal(s.b.requests.filter((r) => r.method === 'UPDATE').length, 0);
  await s.advance(1);
  assert.equal(s.b.requests.filter((r) => r.method === 'UPDATE').length, 1, 'our UPDATE refresh to B, half the interval after its 2xx');
  await s.advance(760);
  assert.deepEqual(s.ends.map((e) => e.cause), [], 'B no longer refreshes and the call lives on (the caller refreshed at 1700 s)');
});

test('an UPDATE relayed to a leg carries its terms, and its 2xx sets them', async () => {
  const s = sessionCall({ aInvite: { ...caller, Allow: 'INVITE, UPDATE, BYE' }, bAnswer: trunk });
  const toB: Array<{ method: string; headers?: Record<string, string> }> = [];
  s.b.others = async (opts) => {
    toB.push(opts);
    return opts.body ? ok({ 'Session-Expires': '1200;refresher=uac', 'Content-Type': 'application/sdp' }, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n') : ok();
  };
  await s.advance(100);
  const sent = await s.from(s.a, 'update', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
  assert.equal(sent[0]?.status, 200);
  assert.equal(toB[0]?.headers?.['Session-Expires'], '1800;refresher=uac');
  assert.equal(toB[0]?.headers?.Supported, 'timer');
  await s.advance(599);
  assert.equal(toB.length, 1);
  await s.advance(1);
  assert.equal(toB.length, 2, 'B granted 1200 s: our refresh at 600 s');
  assert.equal(toB[1]?.headers?.['Session-Expires'], '1200;refresher=uac');
});

test('an UPDATE refresh does not overlap an UPDATE relayed to the same leg: it waits, and goes only if that one failed', async () => {
  for (const status of [200, 500]) {
    const s = sessionCall({ aInvite: { ...caller, Allow: 'INVITE, UPDATE, BYE' }, bAnswer: trunk });
    const toB: Array<{ method: string; body?: string }> = [];
    let answer: ((r: LegAnswer) => void) | undefined;
    s.b.others = (opts) => {
      toB.push(opts);
      return opts.body ? new Promise<LegAnswer>((resolve) => (answer = resolve)) : Promise.resolve(ok());
    };
    await s.advance(890);
    const sent = s.from(s.a, 'update', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
    await s.advance(20);
    assert.equal(toB.length, 1, `${status}: no refresh while the relayed UPDATE is unanswered`);
    answer!(status === 200 ? ok({ 'Session-Expires': '1800;refresher=uac', 'Content-Type': 'application/sdp' }, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n')
      : { status, get: () => undefined });
    await sent;
    await s.advance(1);
    assert.equal(toB.length, status === 200 ? 1 : 2, status === 200 ? 'its 2xx refreshed the leg' : 'it failed: our refresh goes now');
  }
});

test('a relayed re-INVITE the other leg answers 422: the sender gets 500 with the cause, and that leg\'s next request carries its Min-SE', async () => {
  const s = sessionCall({ aInvite: caller, bAnswer: trunk });
  const toA: Array<Record<string, string> | undefined> = [];
  s.a.reinvite = async (_sdp, headers) => {
    toA.push(headers);
    return { status: 422, get: (n: string) => (n === 'Min-SE' ? '3600' : undefined) } as LegAnswer;
  };
  const sent = await s.from(s.b, 'modify', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
  assert.equal(sent[0]?.status, 500, 'no 422 without the Min-SE it must carry (RFC 4028 §6)');
  assert.match(sent[0]?.headers.Reason ?? '', /^SIP;cause=422;text="Session interval too small for leg A"$/);
  await s.from(s.b, 'modify', { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, SDP);
  assert.deepEqual([toA[1]?.['Session-Expires'], toA[1]?.['Min-SE']], ['3600;refresher=uas', '3600'],
    'the next request to leg A asks the interval its Min-SE allows, and carries that Min-SE');
});
