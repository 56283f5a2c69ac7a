// SDP in a body that is not application/sdp (a multipart/mixed one with an SDP part) on an anchored call, or one with
// an SRTP policy: refused with 415, never passed to the other leg around the media relay and the SRTP filters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InDialogMedia } from '../../../src/b2bua/call-sdp.js';
import { inDialog, relay } from './pass-through-rig.js';

const sdp = 'v=0\r\no=- 2 2 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n'
  + 'a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:WEAK\r\n';
const MULTIPART = 'multipart/mixed;boundary=b1';
const multipart = ['--b1', 'Content-Type: application/sdp', '', sdp, '--b1', 'Content-Type: application/isup;version=itu-t92+', '', 'ISUP', '--b1--', ''].join('\r\n');
const suites = ['AES_CM_128_HMAC_SHA1_80'];

/** Lets every relay's promise chain run out (they take more turns than fake-srf's settle waits). */
const settle = () => new Promise((ok) => setImmediate(ok));

/** A media relay that records what it was asked. */
function recordingMedia(): { media: InDialogMedia; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    media: {
      offer: async (from) => (seen.push(`offer ${from}`), 'v=0\r\nc=IN IP4 192.0.2.10\r\n'),
      answer: async (from) => (seen.push(`answer ${from}`), 'v=0\r\nc=IN IP4 192.0.2.10\r\n'),
    },
  };
}

function answers() {
  const sent: Array<{ status: number; headers?: Record<string, string> | undefined; body?: string | undefined }> = [];
  return { sent, res: { send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => void sent.push({ status, headers: o?.headers, body: o?.body }) } };
}

const is415 = (a: { status: number; headers?: Record<string, string> | undefined } | undefined) =>
  a?.status === 415 && a.headers?.Accept === 'application/sdp' && /^SIP;cause=415;text="Only application\/sdp is relayed/.test(a.headers?.Reason ?? '');

test('pass-through: an anchored call\'s UPDATE with SDP in a multipart body gets 415 with Accept and a Reason; the relay and leg B see nothing', async () => {
  const { media, seen } = recordingMedia();
  const r = relay({ media });
  const { sent, res } = answers();
  r.uas.emit('update', inDialog(multipart, { 'Content-Type': MULTIPART }), res);
  await settle();
  assert.ok(is415(sent[0]), JSON.stringify(sent));
  assert.deepEqual(r.uac.requests, [], 'leg B got no UPDATE');
  assert.deepEqual(seen, [], 'the media relay was not asked');
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 415: 1 });
  assert.deepEqual(r.coded().map((l) => [l.leg, l.method, l.status]), [['A', 'UPDATE', 415]]);
});

test('pass-through: with an SRTP policy, a multipart UPDATE (compact Content-Type) and a multipart re-INVITE are refused alike', async () => {
  const r = relay({ suites });
  const { sent, res } = answers();
  r.uac.emit('update', inDialog(multipart, { c: MULTIPART }), res);
  r.uas.emit('modify', inDialog(multipart, { 'Content-Type': MULTIPART }), res);
  await settle();
  assert.equal(sent.length, 2);
  assert.ok(sent.every(is415), JSON.stringify(sent));
  assert.deepEqual([r.uas.requests, r.uac.modified], [[], []]);
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 415: 2 });
});

test('pass-through: a multipart answer from leg B (to an UPDATE or a re-INVITE) is not passed back to leg A: 415', async () => {
  const { media, seen } = recordingMedia();
  const r = relay({ media });
  r.uac.others = () => Promise.resolve({ status: 200, body: multipart, get: (n: string) => (n === 'Content-Type' ? MULTIPART : undefined) });
  r.uac.modifyAnswer = multipart;
  const { sent, res } = answers();
  r.uas.emit('update', inDialog(sdp, { 'Content-Type': 'application/sdp' }), res);
  r.uas.emit('modify', inDialog(sdp, { 'Content-Type': 'application/sdp' }), res);
  await settle();
  assert.equal(sent.length, 2);
  assert.ok(sent.every(is415), JSON.stringify(sent));
  assert.ok(sent.every((a) => a.body === undefined), 'no body went back to leg A');
  assert.deepEqual(seen, ['offer A', 'offer A'], 'the answers never went to the relay');
});

test('pass-through: an untyped UPDATE body on an anchored call goes through the media relay (the engine would send it on as SDP)', async () => {
  const { media, seen } = recordingMedia();
  const r = relay({ media });
  const { res } = answers();
  r.uas.emit('update', inDialog(sdp), res);
  await settle();
  assert.deepEqual(seen, ['offer A']);
  assert.ok(!r.uac.requests[0]!.body!.includes('203.0.113.9'), 'leg B got the relay\'s SDP');
});

test('pass-through: a call neither anchored nor filtered passes a multipart UPDATE as before', async () => {
  const r = relay();
  const { sent, res } = answers();
  r.uas.emit('update', inDialog(multipart, { 'Content-Type': MULTIPART }), res);
  await settle();
  assert.deepEqual(r.uac.requests.map((q) => [q.method, q.body, q.headers?.['Content-Type']]), [['UPDATE', multipart, MULTIPART]]);
  assert.equal(sent[0]!.status, 200);
});

const isInfo415 = (a: { status: number; headers?: Record<string, string> | undefined } | undefined) =>
  a?.status === 415 && a.headers?.Accept !== undefined && /^SIP;cause=415;text="SDP is not relayed in /.test(a.headers?.Reason ?? '');

test('pass-through: on an anchored or SRTP-filtered call an INFO carrying SDP (typed, untyped, multipart) gets 415; the other leg sees nothing', async () => {
  const { media, seen } = recordingMedia();
  for (const r of [relay({ media }), relay({ suites })]) {
    const { sent, res } = answers();
    r.uac.emit('info', inDialog(sdp, { 'Content-Type': 'application/sdp' }), res);
    r.uac.emit('info', inDialog(sdp), res);
    r.uas.emit('info', inDialog(multipart, { 'Content-Type': MULTIPART }), res);
    await settle();
    assert.equal(sent.length, 3);
    assert.ok(sent.every(isInfo415), JSON.stringify(sent));
    assert.deepEqual([r.uas.requests, r.uac.requests], [[], []], 'no INFO went to the other leg');
    assert.deepEqual(r.stats.snapshot().inDialogRefused, { 415: 3 });
  }
  assert.deepEqual(seen, [], 'the media relay was not asked');
});

test('pass-through: an INFO whose answer carries SDP is not passed back on a guarded call; a DTMF INFO still crosses', async () => {
  const r = relay({ suites });
  r.uac.others = () => Promise.resolve({ status: 200, body: sdp, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined) });
  const { sent, res } = answers();
  r.uas.emit('info', inDialog('Signal=5\r\nDuration=160\r\n', { 'Content-Type': 'application/dtmf-relay' }), res);
  await settle();
  assert.deepEqual(r.uac.requests.map((q) => [q.method, q.headers?.['Content-Type']]), [['INFO', 'application/dtmf-relay']]);
  assert.ok(isInfo415(sent[0]), JSON.stringify(sent));
  assert.equal(sent[0]!.body, undefined);
  r.uac.others = () => Promise.resolve({ status: 200, body: '', get: () => undefined });
  r.uas.emit('info', inDialog('Signal=6\r\nDuration=160\r\n', { 'Content-Type': 'application/dtmf-relay' }), res);
  await settle();
  assert.equal(sent[1]!.status, 200);
});
