import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { bridgeCall, CallStats, IN_DIALOG_ALLOW, parseTarget, type BridgeContext } from '../../../src/b2bua/index.js';
import { captureLog, fakeRequest, FakeResponse, FakeSrf, settle } from './fake-srf.js';
import { inDialog } from './pass-through-rig.js';
import { FakeDialog } from './pipeline-fakes.js';

/** A plain-bridge call (policy: bridge) connected with legs that take in-dialog requests as drachtio-srf's Dialog does. */
async function bridged() {
  const srf = new FakeSrf();
  const stats = new CallStats();
  const ctx: BridgeContext = { srf, target: parseTarget('127.0.0.1:5090'), stats, log: captureLog().log, clock: new ManualClock(1_000) };
  const done = bridgeCall(ctx, fakeRequest(), new FakeResponse());
  await settle();
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  srf.calls[0]!.resolve({ uas, uac });
  await done;
  const sent: Array<{ status: number; headers?: Record<string, string> | undefined; body?: string | undefined }> = [];
  const res = { send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => void sent.push({ status, headers: o?.headers, body: o?.body }) };
  return { uas, uac, stats, sent, res };
}

test('plain bridge: a REFER from the caller is refused 405 with Allow and a Reason, counted, and nothing reaches the callee', async () => {
  const c = await bridged();
  c.uas.emit('refer', inDialog(undefined, { 'Refer-To': '<sip:attacker@198.51.100.66>' }), c.res);
  c.uac.emit('message', inDialog('hi', { 'Content-Type': 'text/plain' }), c.res);
  await settle();
  assert.deepEqual(c.sent.map((s) => [s.status, s.headers?.Allow]), [[405, IN_DIALOG_ALLOW], [405, IN_DIALOG_ALLOW]]);
  assert.deepEqual(c.sent.map((s) => s.headers?.Reason), [
    'SIP;cause=405;text="REFER is not relayed by the gateway"', 'SIP;cause=405;text="MESSAGE is not relayed by the gateway"',
  ]);
  assert.deepEqual(c.stats.snapshot().inDialogRefused, { 405: 2 });
  assert.deepEqual([c.uac.requests, c.uas.requests], [[], []]);
});

test('plain bridge: the caller\'s re-INVITE (a hold) and INFO reach the callee, and its answer goes back', async () => {
  const c = await bridged();
  const hold = 'v=0\r\no=- 1 2 IN IP4 192.0.2.5\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n';
  c.uac.modifyAnswer = 'v=0\r\no=- 9 2 IN IP4 192.0.2.9\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n';
  c.uas.emit('modify', inDialog(hold, { 'Content-Type': 'application/sdp' }), c.res);
  await settle();
  c.uas.emit('info', inDialog('Signal=5\r\nDuration=160\r\n', { 'Content-Type': 'application/dtmf-relay' }), c.res);
  await settle();
  assert.deepEqual(c.uac.modified, [hold]);
  assert.deepEqual(c.sent.map((s) => [s.status, s.body]), [[200, c.uac.modifyAnswer], [200, undefined]]);
  assert.deepEqual(c.uac.requests.map((r) => [r.method, r.body]), [['INFO', 'Signal=5\r\nDuration=160\r\n']]);
});

test('plain bridge: a relayed request the callee answers 481 ends the call on both legs with a Reason (leg-lost)', async () => {
  const c = await bridged();
  c.uac.others = async () => ({ status: 481, reason: 'Call Does Not Exist', get: () => undefined });
  c.uas.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), c.res);
  await settle();
  assert.equal(c.sent[0]?.status, 481);
  const byes = [c.uas, c.uac].map((l) => l.requests.filter((r) => r.method === 'BYE').map((r) => r.headers?.Reason));
  assert.deepEqual(byes, [['SIP;cause=481;text="Leg B lost: an in-dialog request got 481"'], ['SIP;cause=481;text="Leg B lost: an in-dialog request got 481"']]);
  assert.deepEqual(c.stats.snapshot().endedByGateway, { 'leg-lost': 1 });
});
