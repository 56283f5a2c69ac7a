// An ACK with the INVITE's Call-ID, CSeq and From tag is easy to make up; only the To tag our 2xx carried makes it
// the ACK for that 2xx (RFC 3261 §13.3.1.4). One with another To tag matches no dialog: it is dropped, counted and
// logged, and leaves the 2xx retransmission and the ACK timeout (BYE) of the real call running.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { captureLog } from '../../../support/log-capture.js';
import { flush, header, invite, PEER, setup } from './core-harness.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const STRANGER: Flow = { ...PEER, remoteAddress: '127.0.0.7', remotePort: 5999 };

function answer200(h: ReturnType<typeof setup>): string {
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 200 OK\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n', txnId);
  return /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1]!;
}

const ack = (toTag: string, branch: string): string => `ACK sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.7:5999;branch=${branch}
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: 1 ACK
Content-Length: 0

`;

test('an ACK with a wrong To tag is dropped and counted; the 2xx is still re-sent and the ACK timeout still ends the call', async () => {
  const capture = captureLog('warn');
  const h = setup(undefined, { log: capture.log });
  h.fromNet(invite());
  answer200(h);
  const frames = h.hub.sips.length;
  h.fromNet(ack('not-ours', 'z9hG4bKstray1'), STRANGER);
  assert.equal(h.hub.sips.length, frames, 'the app is not told of it');
  assert.equal(h.core.stats()['unmatchedAck'], 1);
  assert.ok(capture.records.some((r) => r['code'] === 'ERR_ENGINE_NO_DIALOG' && r['msg'] === 'ACK for no dialog: dropped'), 'one line for it');
  const before = h.transport.sent.length;
  h.clock.advance(500);
  assert.deepEqual(h.transport.starts(before), ['SIP/2.0 200 OK'], 'the 2xx is re-sent');
  h.clock.advance(31_500);
  await flush();
  const bye = h.transport.sent.find((s) => s.text.startsWith('BYE '));
  assert.ok(bye, 'no ACK for our 2xx came: the engine ends the call with a BYE');
  assert.equal(header(bye.msg, 'reason'), 'SIP;cause=408;text="ACK timeout"');
  assert.equal(h.core.stats()['dialogs'], 0, 'no dialog is left waiting for its ACK');
});

test('the real ACK after a stray one reaches the app and stops the 2xx; its retransmission is absorbed, not counted', () => {
  const h = setup();
  h.fromNet(invite());
  const toTag = answer200(h);
  h.fromNet(ack('not-ours', 'z9hG4bKstray2'), STRANGER);
  h.fromNet(ack(toTag, 'z9hG4bKack1'));
  h.fromNet(ack(toTag, 'z9hG4bKack1'));
  const acks = h.hub.sips.filter((s) => s.sip.startsWith('ACK '));
  assert.equal(acks.length, 1);
  assert.equal(acks[0]!.meta.transactionId, h.hub.sips[0]!.meta.transactionId);
  assert.equal(h.core.stats()['unmatchedAck'], 1, 'only the stray one');
  const after = h.transport.sent.length;
  h.clock.advance(40_000);
  assert.equal(h.transport.sent.length, after, 'no retransmission and no BYE after the real ACK');
});
