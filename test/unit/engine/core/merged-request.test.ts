import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, invite, setup } from './core-harness.js';

const SPIRAL = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.9', remotePort: 5060, listenerId: 'udp-1' };

/** The first INVITE as it comes back to us through a proxy (127.0.0.9) after we sent it on: our Via and its own below. */
function spiraled(): string {
  return invite('z9hG4bKinv1').replace(/^Via: .*$/m, (via) => 'Via: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKsp1\n'
    + `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours1\n${via}`);
}

function answer(h: ReturnType<typeof setup>, txnId: string, status: string): string {
  return h.fromApp(`SIP/2.0 ${status}\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n`, txnId);
}

test('a request that spiraled back to us is not a merged request: it reaches the app', () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1'));
  h.fromNet(spiraled(), SPIRAL);
  assert.equal(h.hub.sips.length, 2);
  assert.equal(h.core.stats().mergedRequest, 0);
});

test('a merged copy while the first is under way gets 482 with a Reason and never reaches the app', () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1'));
  answer(h, h.hub.sips[0]!.meta.transactionId, '180 Ringing');
  h.fromNet(invite('z9hG4bKinv2').replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE'));
  assert.equal(h.hub.sips.length, 1);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=482;text="merged request"');
  assert.equal(h.core.stats().mergedRequest, 1);
  assert.equal(h.core.stats().dialogs, 1, 'the early dialog of the first stays');
});

test('an app\'s answer to another transaction with the Call-ID and From tag of a confirmed call never ends that call', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1'));
  h.fromNet(spiraled(), SPIRAL);
  const [first, second] = h.hub.sips.map((s) => s.meta.transactionId);
  answer(h, first!, '200 OK');
  h.fromNet('ACK sip:127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKack1\nMax-Forwards: 70\n'
    + `From: <sip:alice@127.0.0.2>;tag=atag\nTo: ${header(h.transport.sent.find((s) => s.text.startsWith('SIP/2.0 200'))!.msg, 'to')}\n`
    + 'Call-ID: call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n');
  assert.equal(h.core.stats().dialogs, 1);
  // The app rings, then refuses, the second one: as a new call it would take over the dialog and end it.
  const ringing = answer(h, second!, '180 Ringing');
  const toSpiral = h.transport.sent.filter((s) => s.target.address === '127.0.0.9').map((s) => s.text.slice(0, s.text.indexOf('\r\n')));
  assert.deepEqual(toSpiral, ['SIP/2.0 100 Trying', 'SIP/2.0 482 Loop Detected']);
  assert.equal(h.hub.replies.find((r) => r.appMsgId === ringing)!.fields[0], 'NOK');
  answer(h, second!, '486 Busy Here');
  await flush();
  assert.equal(h.core.stats().dialogs, 1, 'the confirmed call is still there');
  assert.equal(h.core.stats().mergedRequest, 1);
});

function message(branch: string, callId = 'm-1', cseq = 1): string {
  return `MESSAGE sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch};rport=5070;received=127.0.0.2
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: ${callId}
CSeq: ${cseq} MESSAGE
Content-Type: text/plain
Content-Length: 2

hi`;
}

function answerMessage(h: ReturnType<typeof setup>, txnId: string, callId = 'm-1', cseq = 1): void {
  h.fromApp(`SIP/2.0 200 OK\nCall-ID: ${callId}\nCSeq: ${cseq} MESSAGE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n`, txnId);
}

test('a merged copy of a MESSAGE gets 482 while the first is under way and while its transaction is Completed', () => {
  const h = setup();
  h.fromNet(message('z9hG4bKm1'));
  h.fromNet(message('z9hG4bKm2'));
  assert.equal(h.hub.sips.length, 1);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=482;text="merged request"');
  answerMessage(h, h.hub.sips[0]!.meta.transactionId);
  h.fromNet(message('z9hG4bKm3'));
  assert.equal(h.hub.sips.length, 1, 'the first transaction is still Completed');
  assert.equal(h.core.stats().mergedRequest, 2);
  h.fromNet(message('z9hG4bKm4', 'm-1', 2));
  assert.equal(h.hub.sips.length, 2, 'the next CSeq is a new request');
  // Timer J (64*T1 over UDP) ends the first transaction: a request with its CSeq is no longer merged with it.
  h.clock.advance(32_000);
  h.fromNet(message('z9hG4bKm5'));
  assert.equal(h.hub.sips.length, 3);
});

test('a merged copy of an INVITE answered 486 gets 482 until its transaction ends; a new CSeq (a retry) goes to the app', () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1'));
  answer(h, h.hub.sips[0]!.meta.transactionId, '486 Busy Here');
  h.fromNet(invite('z9hG4bKinv2'));
  assert.equal(h.hub.sips.length, 1);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
  h.fromNet(invite('z9hG4bKinv3').replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE'));
  assert.equal(h.hub.sips.length, 2);
});

test('ended requests kept for merged copies are bounded by the cap on requests waiting for an app (counted)', () => {
  const h = setup({ maxServerTransactions: 2 });
  for (const callId of ['m-1', 'm-2', 'm-3']) {
    h.fromNet(message(`z9hG4bK${callId}`, callId));
    answerMessage(h, h.hub.sips.at(-1)!.meta.transactionId, callId);
  }
  assert.equal(h.hub.sips.length, 3);
  assert.equal(h.core.stats().mergedIndexFull, 1);
  h.fromNet(message('z9hG4bKcopy1', 'm-1'));
  assert.equal(h.hub.sips.length, 4, 'the oldest was forgotten');
  h.fromNet(message('z9hG4bKcopy3', 'm-3'));
  assert.equal(h.hub.sips.length, 4, 'the newest is still known');
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 482 Loop Detected');
});
