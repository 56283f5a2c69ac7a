import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IN_DIALOG_ALLOW } from '../../../src/b2bua/pass-through.js';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { captureLog, settle } from './fake-srf.js';
import { FakeDialog } from './pipeline-fakes.js';
import { offer, start } from './middleware/place-call-rig.js';
import { CODE, inDialog, relay } from './pass-through-rig.js';

const only32 = offer.replace(/a=crypto:[23].*\r\n/g, '');
const suites = ['AES_CM_128_HMAC_SHA1_80'];

function answers() {
  const sent: Array<{ status: number; reason?: string | undefined; body?: string | undefined }> = [];
  const res = { send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => void sent.push({ status, reason: o?.headers?.Reason, body: o?.body }) };
  return { sent, res };
}


test('pass-through (placed call): 50 re-INVITEs with no suite left: 488 with a Reason each, 50 in the call counters, one line for the caller', async () => {
  const cap = captureLog();
  const s = start('+442071234567', 'pbx', offer, { refusals: new RateLimitedLog(cap.log, new ManualClock(0)) });
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  (await s.srf.attempt(0)).resolve({ uas, uac });
  await settle();
  const { sent, res } = answers();
  for (let i = 0; i < 50; i++) uas.emit('modify', inDialog(only32), res);
  await settle();
  assert.equal(sent.length, 50);
  assert.ok(sent.every((a) => a.status === 488 && /^SIP;cause=488;/.test(a.reason ?? '')));
  assert.deepEqual(s.stats.calls.snapshot().inDialogRefused, { 488: 50 });
  const coded = cap.lines.filter((l) => l.code === CODE);
  assert.equal(coded.length, 1);
  assert.deepEqual([coded[0]!.leg, coded[0]!.method, coded[0]!.callId], ['A', 'INVITE', 'c1']);
  assert.equal(uac.modified.length, 0);
});

test('pass-through: 50 identical offers with no suite left get 488 with a Reason each, 50 counted, one line', async () => {
  const r = relay({ suites });
  const { sent, res } = answers();
  for (let i = 0; i < 50; i++) r.uas.emit('modify', inDialog(only32), res);
  await settle();
  assert.equal(sent.length, 50);
  assert.ok(sent.every((a) => a.status === 488 && /^SIP;cause=488;text="No acceptable SRTP crypto suite/.test(a.reason ?? '')));
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 488: 50 });
  assert.equal(r.uac.modified.length, 0, 'nothing reached the other leg');
  assert.equal(r.coded().length, 1);
  assert.deepEqual(
    { leg: r.coded()[0]!.leg, method: r.coded()[0]!.method, status: r.coded()[0]!.status, callId: r.coded()[0]!.callId },
    { leg: 'A', method: 'INVITE', status: 488, callId: 'c1' },
  );
  r.uac.emit('modify', inDialog(only32), res);
  await settle();
  assert.equal(r.coded().length, 2, 'the other far end has a line of its own');
});

test('pass-through: a media relay failing on 50 in-dialog offers: 503 with a Reason each, 50 counted, one line, no leg lost', async () => {
  const r = relay({ suites, media: { offer: () => Promise.reject(Object.assign(new Error('late'), { code: 'ERR_MEDIA_TIMEOUT' })), answer: async (_f, sdp) => sdp } });
  const { sent, res } = answers();
  for (let i = 0; i < 25; i++) {
    r.uac.emit('modify', inDialog(offer), res);
    r.uac.emit('update', inDialog(offer, { 'Content-Type': 'application/sdp' }), res);
  }
  await settle();
  assert.equal(sent.length, 50);
  assert.ok(sent.every((a) => a.status === 503 && a.reason === 'SIP;cause=503;text="Media relay failed on an in-dialog offer"'));
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 503: 50 });
  assert.equal(r.coded().length, 1, 'one line for the re-INVITEs and UPDATEs of one far end');
  assert.equal(r.coded()[0]!.mediaCode, 'ERR_MEDIA_TIMEOUT');
  assert.deepEqual(r.lost, []);
});

test('pass-through: a request that cannot be sent to the other leg gets 500 with a Reason, counted, and that leg is lost', async () => {
  const r = relay({ suites });
  r.uac.request = () => Promise.reject(new Error('no dialog'));
  const { sent, res } = answers();
  r.uas.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), res);
  await settle();
  assert.deepEqual(sent, [{ status: 500, reason: 'SIP;cause=500;text="The INFO could not be sent to leg B"', body: undefined }]);
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 500: 1 });
  assert.deepEqual(r.lost, ['B 503']);
  assert.equal(r.coded()[0]!.level, 40);
});

test('pass-through: an UPDATE whose answer keeps no suite the offerer allows gets 488, not a 200 without its answer', async () => {
  const r = relay({ suites });
  r.uac.request = () => Promise.resolve({ status: 200, body: only32, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined) });
  const { sent, res } = answers();
  r.uas.emit('update', inDialog(offer, { 'Content-Type': 'application/sdp' }), res);
  await settle();
  assert.equal(sent[0]?.status, 488);
  assert.match(sent[0]?.reason ?? '', /^SIP;cause=488;/);
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 488: 1 });
});

test('pass-through: the far end\'s rejection goes back with its own Reason\'s protocol and cause (never its text); without one, with one naming it', async () => {
  const r = relay({ suites });
  const farReason = 'SIP;cause=403;text="Not on this trunk"';
  r.uac.others = () => Promise.resolve({ status: 403, reason: 'Forbidden', get: (n: string) => (n === 'Reason' ? farReason : undefined) });
  r.uac.reinvite = () => Promise.resolve({ status: 491, reason: 'Request Pending', get: () => undefined });
  const { sent, res } = answers();
  r.uas.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), res);
  r.uas.emit('modify', inDialog(offer), res);
  await settle();
  assert.deepEqual(sent.map((a) => [a.status, a.reason]), [
    [403, 'SIP;cause=403;text="Forbidden"'],
    [491, 'SIP;cause=491;text="Request Pending (answered by leg B)"'],
  ]);
  r.uac.reinvite = () => Promise.resolve({ status: 488, get: (n: string) => (n === 'Reason' ? 'Q.850;cause=65' : undefined) });
  r.uas.emit('modify', inDialog(offer), res);
  await settle();
  assert.equal(sent[2]?.reason, 'Q.850;cause=65');
  assert.deepEqual(r.stats.snapshot().inDialogRefused, {}, 'the far end\'s answers are not refusals of ours');
  assert.equal(r.coded().length, 0);
});

test('pass-through: REFER, MESSAGE, NOTIFY, PUBLISH, SUBSCRIBE from either leg: 405 with Allow and a Reason, counted, one line a far end', async () => {
  const r = relay({ suites });
  const sent: Array<Record<string, string> | undefined> = [];
  const res = { send: (status: number, o?: { headers?: Record<string, string> }) => void sent.push({ status: String(status), ...o?.headers }) };
  const methods = ['refer', 'message', 'notify', 'publish', 'subscribe'];
  for (const m of methods) {
    r.uas.emit(m, inDialog('x', { 'Content-Type': 'text/plain' }), res);
    r.uac.emit(m, inDialog(), res);
  }
  await settle();
  assert.deepEqual(sent, methods.flatMap((m) => {
    const one = { status: '405', Allow: IN_DIALOG_ALLOW, Reason: `SIP;cause=405;text="${m.toUpperCase()} is not relayed by the gateway"` };
    return [one, one];
  }));
  assert.equal(IN_DIALOG_ALLOW, 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK');
  assert.deepEqual([r.uas.requests, r.uac.requests], [[], []], 'nothing reached the other leg');
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 405: 10 });
  assert.deepEqual(r.coded().map((l) => [l.leg, l.method, l.status, l.level]), [['A', 'REFER', 405, 30], ['B', 'REFER', 405, 30]]);
  assert.deepEqual(r.lost, []);
});
