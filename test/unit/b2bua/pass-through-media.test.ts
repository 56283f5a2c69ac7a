import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { InDialogMedia } from '../../../src/b2bua/call-sdp.js';
import { passThrough, type InDialogRequest, type PassLeg } from '../../../src/b2bua/pass-through.js';
import { silentLogger } from '../../../src/log/index.js';

/** A leg that answers re-INVITEs and UPDATEs with `answer`, recording the SDP it was sent. */
function leg(answer: string) {
  const e = new EventEmitter();
  const sent: string[] = [];
  const l = Object.assign(e, {
    connected: true,
    // drachtio-srf's Dialog.request: the answer as a promise, or to the callback a re-INVITE is sent with (leg-reinvite.ts).
    request: (o: { method: string; body?: string }, cb?: (err: unknown, res?: unknown) => void) => {
      sent.push(`${o.method} ${o.body ?? ''}`);
      const res = { status: 200, body: answer, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined) };
      cb?.(null, res);
      return Promise.resolve(res);
    },
    destroy: (_o: unknown, cb: (err: unknown) => void) => cb(null),
  });
  return { leg: l as unknown as PassLeg, emitter: e, sent };
}

const req = (body: string): InDialogRequest => ({ body, get: (n) => (n === 'Content-Type' ? 'application/sdp' : undefined), has: () => false });

function respond() {
  const out: Array<{ status: number; body?: string; reason?: string }> = [];
  return { out, res: { send: (status: number, o?: { body?: string; headers?: Record<string, string> }) => out.push({ status, ...(o?.body ? { body: o.body } : {}), ...(o?.headers?.Reason ? { reason: o.headers.Reason } : {}) }) } };
}

const settle = () => new Promise((r) => setImmediate(r));

test('an anchored call\'s re-INVITE and UPDATE offers and answers go through the media relay, each way with its side', async () => {
  const a = leg('A-ANSWER');
  const b = leg('B-ANSWER');
  const seen: string[] = [];
  const media: InDialogMedia = {
    offer: async (from, sdp) => (seen.push(`offer ${from} ${sdp}`), `RELAYED-OFFER-${from}`),
    answer: async (from, sdp) => (seen.push(`answer ${from} ${sdp}`), `RELAYED-ANSWER-${from}`),
  };
  passThrough({ log: silentLogger(), media }, { uas: a.leg, uac: b.leg });

  const r1 = respond();
  a.emitter.emit('modify', req('HOLD-FROM-A'), r1.res);
  await settle();
  assert.deepEqual(b.sent, ['INVITE RELAYED-OFFER-A']);
  assert.deepEqual(r1.out, [{ status: 200, body: 'RELAYED-ANSWER-A' }]);

  const r2 = respond();
  b.emitter.emit('update', req('OFFER-FROM-B'), r2.res);
  await settle();
  assert.deepEqual(a.sent, ['UPDATE RELAYED-OFFER-B']);
  assert.deepEqual(r2.out, [{ status: 200, body: 'RELAYED-ANSWER-B' }]);
  assert.deepEqual(seen, ['offer A HOLD-FROM-A', 'answer A B-ANSWER', 'offer B OFFER-FROM-B', 'answer B A-ANSWER']);
});

test('a media relay that fails on an in-dialog offer refuses it with 503 and a Reason; the other leg never sees it and no leg is lost', async () => {
  const a = leg('A-ANSWER');
  const b = leg('B-ANSWER');
  const lost: string[] = [];
  const media: InDialogMedia = { offer: async () => { throw new Error('timeout'); }, answer: async (_f, sdp) => sdp };
  passThrough({ log: silentLogger(), media, onLegLost: (l) => lost.push(l) }, { uas: a.leg, uac: b.leg });
  const r = respond();
  a.emitter.emit('modify', req('OFFER'), r.res);
  await settle();
  assert.deepEqual(b.sent, []);
  assert.equal(r.out[0]?.status, 503);
  assert.match(r.out[0]?.reason ?? '', /^SIP;cause=503;text="Media relay failed/);
  assert.deepEqual(lost, []);
});
