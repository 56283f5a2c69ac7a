import assert from 'node:assert/strict';
import { test } from 'node:test';
import { srfKnowsStatus } from '../../../src/b2bua/sendable-status.js';
import { settle } from './fake-srf.js';
import { offer } from './middleware/place-call-rig.js';
import { CODE, inDialog, relay } from './pass-through-rig.js';

interface Sent { status: number; headers?: Record<string, string> | undefined; body?: string | undefined }

/** Answers as drachtio-srf's Response does: a status missing from its table throws; `failOn` statuses throw too. */
function answers(failOn: (status: number) => boolean = () => false) {
  const sent: Sent[] = [];
  const res = {
    send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => {
      if (!srfKnowsStatus(status) || failOn(status)) throw new Error('Response#send: status is required and must be a valid sip response code');
      sent.push({ status, headers: o?.headers, body: o?.body });
    },
  };
  return { sent, res };
}


test('pass-through: a far end\'s 599 to a relayed INFO, UPDATE or re-INVITE goes back as 500 with a Reason naming 599 (not its phrase); its 201 as 200', async () => {
  const r = relay();
  const { sent, res } = answers();
  r.uac.others = (o) => Promise.resolve({ status: o.method === 'INFO' ? 599 : 201, reason: 'Odd', get: (_n: string) => undefined });
  r.uac.reinvite = () => Promise.resolve({ status: 599, reason: 'Odd', get: (_n: string) => undefined });
  r.uas.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), res);
  await settle();
  r.uas.emit('modify', inDialog(offer), res);
  await settle();
  r.uas.emit('update', inDialog('x', { 'Content-Type': 'text/plain' }), res);
  await settle();
  assert.deepEqual(sent.map((s) => [s.status, s.headers?.Reason]), [
    [500, 'SIP;cause=599;text="Refused (answered by leg B)"'],
    [500, 'SIP;cause=599;text="Refused (answered by leg B)"'],
    [200, undefined],
  ]);
  assert.deepEqual(r.stats.snapshot().inDialogRefused, {}, 'the far end\'s answers are not refusals of ours');
});

test('pass-through: a fault while answering a relayed request: 500 through the refusal path, counted, no rejection left unhandled', async () => {
  const r = relay();
  const { sent, res } = answers((s) => s === 200);
  r.uas.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), res);
  r.uas.emit('modify', inDialog(offer), res);
  await settle();
  assert.deepEqual(sent.map((s) => [s.status, s.headers?.Reason]), [
    [500, 'SIP;cause=500;text="Gateway error relaying the INFO"'],
    [500, 'SIP;cause=500;text="Gateway error relaying the re-INVITE"'],
  ]);
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 500: 2 });
  assert.deepEqual(r.coded().map((l) => [l.method, l.status, l.level]), [['INFO', 500, 50]]);
  // Not even a 500 can be sent: the request stays unanswered, with a line, and still nothing is unhandled.
  const dead = answers(() => true);
  r.uac.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), dead.res);
  await settle();
  assert.equal(dead.sent.length, 0);
  assert.ok(r.lines.some((l) => l.code === CODE && l.method === 'INFO' && l.leg === 'B' && (l.level as number) === 50));
});
