import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Flow } from '../../../../src/sip/transport/types.js';
import { header, invite, PEER, setup } from './core-harness.js';

const TCP_PEER: Flow = { ...PEER, protocol: 'tcp', listenerId: 'tcp-1' };

function start(flow: Flow = PEER): ReturnType<typeof setup> {
  const h = setup();
  const text = invite('z9hG4bKinv1', 'call-1', 'Supported: 100rel\n');
  h.fromNet(flow.protocol === 'tcp' ? text.replace('SIP/2.0/UDP', 'SIP/2.0/TCP') : text, flow);
  return h;
}

function answer(h: ReturnType<typeof setup>, status: string, extra = 'Require: 100rel\n'): string {
  const txnId = h.hub.sips[0]!.meta.transactionId;
  return h.fromApp(`SIP/2.0 ${status}\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n${extra}\n`, txnId);
}

function prack(h: ReturnType<typeof setup>, toTag: string, rack: string, cseq: number, branch = `z9hG4bKprack${cseq}`): void {
  h.fromNet(`PRACK sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: ${cseq} PRACK
RAck: ${rack}
Content-Length: 0

`);
}

function reliableSent(h: ReturnType<typeof setup>, status: string): { rseq: number; toTag: string } {
  const res = h.transport.sent.filter((s) => s.text.startsWith(`SIP/2.0 ${status}`)).at(-1)!.msg;
  return { rseq: Number(header(res, 'rseq')), toTag: /tag=([\w-]+)$/.exec(header(res, 'to')!)![1]! };
}

const countOf = (h: ReturnType<typeof setup>, start: string, from = 0): number => h.transport.starts(from).filter((s) => s.startsWith(start)).length;

for (const flow of [PEER, TCP_PEER]) {
  test(`a reliable provisional never PRACKed over ${flow.protocol}: 504 with a Reason at 64*T1, CDR prack-timeout, CANCEL to the app`, () => {
    const h = start(flow);
    answer(h, '183 Session Progress');
    h.clock.advance(31_999);
    assert.equal(countOf(h, 'SIP/2.0 5'), 0);
    h.clock.advance(1);
    assert.deepEqual(h.transport.starts().filter((s) => s.startsWith('SIP/2.0 5')), ['SIP/2.0 504 Server Time-out']);
    assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=504;text="no PRACK for the reliable provisional"');
    assert.equal(h.hub.cdrs.at(-1)!.kind, 'stop');
    assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'prack-timeout');
    assert.match(h.hub.sips.at(-1)!.sip, /^CANCEL /);
    const s = h.core.stats();
    assert.equal(s.prackTimeout, 1);
    assert.equal(s.serverPending, 0);
    assert.equal(s.dialogs, 0);
    assert.equal(s.appNoAnswer, 0);
    if (flow.protocol === 'tcp') assert.equal(countOf(h, 'SIP/2.0 183'), 1, 'never retransmitted over TCP');
  });
}

test('a second reliable provisional waits for the PRACK of the first, then goes with the next RSeq', () => {
  const h = start();
  answer(h, '183 Session Progress');
  const first = reliableSent(h, '183');
  const before = h.transport.sent.length;
  const queued = answer(h, '180 Ringing');
  assert.equal(h.hub.replies.find((r) => r.appMsgId === queued)!.fields[0], 'OK');
  h.clock.advance(3_000);
  assert.equal(countOf(h, 'SIP/2.0 180', before), 0, 'not sent before the first is acknowledged');
  assert.ok(countOf(h, 'SIP/2.0 183', before) > 0, 'the first is still retransmitted');
  prack(h, first.toTag, `${first.rseq} 1 INVITE`, 2);
  assert.equal(countOf(h, 'SIP/2.0 180', before), 1);
  assert.equal(reliableSent(h, '180').rseq, first.rseq + 1);
  const after = h.transport.sent.length;
  h.clock.advance(1_000);
  assert.deepEqual(h.transport.starts(after), ['SIP/2.0 180 Ringing'], 'the 183 stopped, the 180 is retransmitted');
});

test('reliable provisionals past the queue bound get NOK and are counted; a final response drops the queue', () => {
  const h = start();
  answer(h, '183 Session Progress');
  const replyTo = (id: string) => h.hub.replies.find((r) => r.appMsgId === id)!.fields[0];
  for (let i = 0; i < 4; i++) assert.equal(replyTo(answer(h, '180 Ringing')), 'OK');
  assert.equal(replyTo(answer(h, '180 Ringing')), 'NOK');
  assert.equal(h.core.stats().reliableQueueFull, 1);
  const { rseq, toTag } = reliableSent(h, '183');
  answer(h, '486 Busy Here', '');
  prack(h, toTag, `${rseq} 1 INVITE`, 2);
  assert.equal(countOf(h, 'SIP/2.0 180'), 0);
});

test('a PRACK whose RAck differs from the reliable provisional in any part gets 481 and never reaches the app', () => {
  const h = start();
  answer(h, '183 Session Progress');
  const { rseq, toTag } = reliableSent(h, '183');
  const frames = h.hub.sips.length;
  prack(h, toTag, `${rseq + 1} 1 INVITE`, 2);
  prack(h, toTag, `${rseq} 99 INVITE`, 3);
  prack(h, toTag, `${rseq} 1 BYE`, 4);
  assert.equal(countOf(h, 'SIP/2.0 481'), 3);
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=481;text="no unacknowledged reliable provisional matches the RAck"');
  assert.equal(h.hub.sips.length, frames);
  assert.equal(h.core.stats().prackUnmatched, 3);
  const before = h.transport.sent.length;
  h.clock.advance(4_000);
  assert.ok(countOf(h, 'SIP/2.0 183', before) > 0, 'still retransmitted');
  prack(h, toTag, `${rseq} 1 INVITE`, 5);
  assert.match(h.hub.sips.at(-1)!.sip, /^PRACK /);
  const prackTxn = h.hub.sips.at(-1)!.meta.transactionId;
  h.fromApp(`SIP/2.0 200 OK\nCall-ID: call-1\nCSeq: 5 PRACK\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=${toTag}\n\n`, prackTxn);
  const acked = h.transport.sent.length;
  h.clock.advance(8_000);
  assert.equal(countOf(h, 'SIP/2.0 183', acked), 0, 'retransmission stopped');
  // The same PRACK again (same branch): its server transaction repeats the 200; a new one for it gets 481.
  prack(h, toTag, `${rseq} 1 INVITE`, 5);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 200 OK');
  prack(h, toTag, `${rseq} 1 INVITE`, 6);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  assert.equal(h.hub.sips.filter((s) => s.sip.startsWith('PRACK')).length, 1);
});

test('words after the RAck method are not read (drachtio-srf\'s own PRACK scenario repeats the method)', () => {
  const h = start();
  answer(h, '183 Session Progress');
  const { rseq, toTag } = reliableSent(h, '183');
  prack(h, toTag, `${rseq} 1 INVITE INVITE`, 2);
  assert.match(h.hub.sips.at(-1)!.sip, /^PRACK /);
  assert.equal(h.core.stats().prackUnmatched, 0);
});

test('a PRACK for a reliable 180 the app\'s 200 overtook (RFC 3262 §3 allows it when the 180 had no SDP) reaches the app, not 481', () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1', 'call-1', 'Supported: 100rel\n'));
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp(`SIP/2.0 180 Ringing\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\nRequire: 100rel\n\n`, txnId);
  const r180 = h.transport.sent.filter((s) => s.text.startsWith('SIP/2.0 180')).at(-1)!.msg;
  const rseq = Number(header(r180, 'rseq'));
  const toTag = /tag=([\w-]+)$/.exec(header(r180, 'to')!)![1]!;
  h.fromApp(`SIP/2.0 200 OK\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=${toTag}\nContact: <sip:bob@127.0.0.1>\n\n`, txnId);
  const appSipsBefore = h.hub.sips.length;
  h.fromNet(`PRACK sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKprack2
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: 2 PRACK
RAck: ${rseq} 1 INVITE
Content-Length: 0

`);
  assert.ok(!h.transport.starts().some((l) => l.startsWith('SIP/2.0 481')), 'no 481 to the caller');
  assert.equal(h.hub.sips.length, appSipsBefore + 1);
  assert.match(h.hub.sips.at(-1)!.sip, /^PRACK /);
  assert.equal(h.core.stats().prackUnmatched, 0);
});
