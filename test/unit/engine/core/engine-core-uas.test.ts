import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, invite, setup } from './core-harness.js';

const DIALOG = 'call-1;from-tag=atag';

function answer(h: ReturnType<typeof setup>, status = '200 OK', extra = ''): string {
  const txnId = h.hub.sips[0]!.meta.transactionId;
  return h.fromApp(`SIP/2.0 ${status}\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n${extra}\n`, txnId);
}

test('a new INVITE gets 100 Trying at once and reaches the app as a network sip frame with a fresh transactionId', () => {
  const h = setup();
  h.fromNet(invite());
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying']);
  assert.equal(h.hub.sips.length, 1);
  const { meta, sip } = h.hub.sips[0]!;
  assert.equal(meta.source, 'network');
  assert.equal(meta.protocol, 'udp');
  assert.equal(meta.address, '127.0.0.2');
  assert.equal(meta.port, 5070);
  assert.equal(meta.dialogId, '');
  assert.match(meta.transactionId, /^[0-9a-f]{16}-[0-9a-z]+$/);
  assert.equal(meta.recvAddr, '127.0.0.1');
  assert.equal(meta.recvPort, 5060);
  assert.match(sip, /^INVITE sip:bob@127.0.0.1:5060 SIP\/2.0\r\n/);
  assert.equal(h.hub.cdrs[0]!.kind, 'attempt');
});

test('the app 200 is completed from the request: Vias, To tag generated, Contact from the transport, and the echo carries the dialogId', () => {
  const h = setup();
  h.fromNet(invite());
  const msgId = answer(h, '200 OK', 'Content-Type: application/sdp\n\nv=0\r\n');
  const res = h.transport.last();
  assert.equal(res.kind, 'response');
  assert.equal(header(res, 'via'), 'SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1;rport=5070;received=127.0.0.2');
  assert.match(header(res, 'to')!, /^<sip:bob@127\.0\.0\.1>;tag=[\w-]+$/);
  assert.equal(header(res, 'contact'), '<sip:127.0.0.1:5060>');
  assert.equal(header(res, 'cseq'), '1 INVITE');
  const r = h.hub.replies.find((x) => x.appMsgId === msgId)!;
  assert.equal(r.fields[0], 'OK');
  assert.equal(r.fields[1], 'application');
  assert.equal(r.fields[7], h.hub.sips[0]!.meta.transactionId);
  assert.equal(r.fields[8], DIALOG);
  assert.deepEqual(r.fields.slice(9), ['', 'Msg sent:', '']);
  assert.equal(Number(r.fields[2]), Buffer.byteLength(r.sip!));
  assert.match(r.sip!, /^SIP\/2\.0 200 OK\r\n/);
  assert.deepEqual(h.hub.cdrs.map((c) => c.kind), ['attempt', 'start']);
  assert.deepEqual(h.hub.cdrs[1]!.fields.slice(0, 1).concat(h.hub.cdrs[1]!.fields.slice(2)), ['application', 'uas']);
});

test('a To tag given by the app is kept', () => {
  const h = setup();
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 486 Busy Here\nTo: <sip:bob@127.0.0.1>;tag=mytag\n\n', txnId);
  assert.equal(header(h.transport.last(), 'to'), '<sip:bob@127.0.0.1>;tag=mytag');
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'call-rejected');
});

test('the 2xx is retransmitted over UDP until the ACK, which reaches the app with the INVITE transactionId and the dialogId', () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1];
  const before = h.transport.sent.length;
  h.clock.advance(500);
  assert.deepEqual(h.transport.starts(before), ['SIP/2.0 200 OK']);
  h.fromNet(`ACK sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKack1
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: 1 ACK
Content-Length: 0

`);
  const ack = h.hub.sips.at(-1)!;
  assert.match(ack.sip, /^ACK /);
  assert.equal(ack.meta.transactionId, h.hub.sips[0]!.meta.transactionId);
  assert.equal(ack.meta.dialogId, DIALOG);
  const after = h.transport.sent.length;
  h.clock.advance(40_000);
  assert.equal(h.transport.sent.length, after, 'no retransmission and no BYE after the ACK');
});

test('no ACK within 64*T1: the engine sends BYE (Reason ACK timeout) and an unsolicited BYE to the app', async () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  h.clock.advance(32_000);
  await flush();
  const bye = h.transport.sent.find((s) => s.text.startsWith('BYE '))!;
  assert.ok(bye, 'a BYE went out');
  assert.equal(bye.msg.kind === 'request' && bye.msg.uri, 'sip:alice@127.0.0.2:5070');
  assert.equal(header(bye.msg, 'reason'), 'SIP;cause=408;text="ACK timeout"');
  assert.equal(header(bye.msg, 'to'), '<sip:alice@127.0.0.2>;tag=atag');
  const frame = h.hub.sips.at(-1)!;
  assert.equal(frame.meta.source, 'application');
  assert.equal(frame.meta.transactionId, 'unsolicited');
  assert.equal(frame.meta.dialogId, DIALOG);
  assert.equal(h.core.stats().dialogs, 0);
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'ack-timeout');
});

test('method rules without an app or a dialog: 503, 481 for BYE/UPDATE and unknown To tags, PRACK 481, REFER 405, unknown 501', () => {
  const h = setup();
  h.hub.apps.clear();
  h.fromNet(invite());
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying', 'SIP/2.0 503 Service Unavailable']);
  h.hub.apps.add('app1');
  const bye = invite('z9hG4bKbye1').replace('INVITE sip', 'BYE sip').replace('1 INVITE', '2 BYE');
  h.fromNet(bye);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  h.fromNet(invite('z9hG4bKinv9').replace('To: <sip:bob@127.0.0.1>', 'To: <sip:bob@127.0.0.1>;tag=nosuch'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  // Answered, counted and freed: none of them is handed to an app, and none keeps a server transaction.
  const nist = h.transactions.stats().live.nist;
  const other = (branch: string, method: string) => invite(branch).replace('INVITE sip', `${method} sip`).replace('1 INVITE', `3 ${method}`);
  h.fromNet(other('z9hG4bKpr1', 'PRACK'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  assert.match(h.transport.sent.at(-1)!.text, /\r\nReason: SIP;cause=481;text="PRACK outside a dialog"\r\n/);
  h.fromNet(other('z9hG4bKref1', 'REFER'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 405 Method Not Allowed');
  assert.match(h.transport.sent.at(-1)!.text, /\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, NOTIFY, MESSAGE, SUBSCRIBE\r\n/);
  h.fromNet(other('z9hG4bKfoo1', 'FOO'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 501 Not Implemented');
  assert.match(h.transport.sent.at(-1)!.text, /\r\nReason: SIP;cause=501;text="method FOO not implemented"\r\n/);
  assert.equal(h.hub.sips.length, 0);
  assert.equal(h.core.stats().methodNotOffered, 3);
  assert.equal(h.transactions.stats().live.nist, nist + 3, 'each answered, held only for its Timer J');
  h.clock.advance(32_000);
  assert.equal(h.transactions.stats().live.nist, 0, 'none left once Timer J has run');
});

test('CANCEL before the app answers: 200 and 487 from the engine, CANCEL to the app with the INVITE transactionId, later answer refused', () => {
  const h = setup();
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromNet(`CANCEL sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1;rport=5070;received=127.0.0.2
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: call-1
CSeq: 1 CANCEL
Content-Length: 0

`);
  assert.deepEqual(h.transport.starts(1), ['SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
  const [ok, terminated] = h.transport.sent.slice(1).map((s) => header(s.msg, 'to'));
  assert.match(ok!, /;tag=\S+$/);
  assert.equal(ok, terminated, 'the 200 to the CANCEL and the 487 carry the same To tag (RFC 3261 §9.2)');
  const c = h.hub.sips.at(-1)!;
  assert.match(c.sip, /^CANCEL /);
  assert.equal(c.meta.transactionId, txnId);
  assert.equal(c.meta.dialogId, '');
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'call-canceled');
  const msgId = answer(h);
  assert.equal(h.hub.replies.find((r) => r.appMsgId === msgId)!.fields[0], 'NOK');
});

test('CANCEL after a provisional carries the dialogId; CANCEL matching nothing gets 481', () => {
  const h = setup();
  h.fromNet(invite());
  answer(h, '180 Ringing');
  h.fromNet(`CANCEL sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: call-1
CSeq: 1 CANCEL

`);
  assert.equal(h.hub.sips.at(-1)!.meta.dialogId, DIALOG);
  h.fromNet(`CANCEL sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKother
From: <sip:alice@127.0.0.2>;tag=zz
To: <sip:bob@127.0.0.1>
Call-ID: call-x
CSeq: 1 CANCEL

`);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
});

test('a CANCEL after the 200 ends only the dialog its INVITE transaction made, never one its Call-ID and From tag name', async () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  for (const n of [2, 3]) {
    h.fromNet(invite(`z9hG4bKinv${n}`, `call-${n}`));
    const txnId = h.hub.sips.at(-1)!.meta.transactionId;
    h.fromApp(`SIP/2.0 200 OK\nCall-ID: call-${n}\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n`, txnId);
  }
  assert.equal(h.core.stats().dialogs, 3);
  const cancel = (callId: string, branch: string) => `CANCEL sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 CANCEL

`;
  // The second INVITE's branch with the first call's Call-ID: 481, and the first call goes on.
  const before = h.transport.sent.length;
  h.fromNet(cancel('call-1', 'z9hG4bKinv2'));
  await flush();
  assert.deepEqual(h.transport.starts(before), ['SIP/2.0 481 Call/Transaction Does Not Exist']);
  assert.equal(h.core.stats().dialogs, 3);
  // The third call's own CANCEL, crossing its 200: 481 and a BYE for that call.
  const race = h.transport.sent.length;
  h.fromNet(cancel('call-3', 'z9hG4bKinv3'));
  await flush();
  assert.deepEqual(h.transport.starts(race), ['SIP/2.0 481 Call/Transaction Does Not Exist', 'BYE sip:alice@127.0.0.2:5070 SIP/2.0']);
  assert.match(h.transport.sent.at(-1)!.text, /\r\nCall-ID: call-3\r\n/);
});

test('in-dialog BYE from the network goes to the owner with the dialogId and ends the dialog after the answer', () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1];
  h.fromNet(`BYE sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbye2
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: 2 BYE

`);
  const bye = h.hub.sips.at(-1)!;
  assert.equal(bye.meta.dialogId, DIALOG);
  assert.notEqual(bye.meta.transactionId, h.hub.sips[0]!.meta.transactionId);
  h.fromApp('SIP/2.0 200 OK\n\n', bye.meta.transactionId);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 200 OK');
  assert.equal(h.core.stats().dialogs, 0);
});

test('an app BYE in a UAS dialog: placeholder R-URI replaced by the remote target, tags swapped, CSeq counted', async () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  const msgId = h.fromApp('BYE sip:placeholder SIP/2.0\nX-Why: done\n\n', '', DIALOG);
  await flush();
  const bye = h.transport.last();
  assert.equal(bye.kind === 'request' && bye.uri, 'sip:alice@127.0.0.2:5070');
  assert.equal(header(bye, 'to'), '<sip:alice@127.0.0.2>;tag=atag');
  assert.match(header(bye, 'from')!, /^<sip:bob@127\.0\.0\.1>;tag=/);
  assert.match(header(bye, 'cseq')!, /^\d+ BYE$/);
  assert.equal(header(bye, 'x-why'), 'done');
  assert.match(header(bye, 'via')!, /^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;rport;branch=z9hG4bK/);
  const r = h.hub.replies.find((x) => x.appMsgId === msgId)!;
  assert.equal(r.fields[0], 'OK');
  assert.equal(r.fields[8], 'Msg sent:');
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'normal-release');
  const unknown = h.fromApp('INFO sip:placeholder SIP/2.0\n\n', '', 'nope;from-tag=x');
  assert.match(h.hub.replies.find((x) => x.appMsgId === unknown)!.fields[1]!, /unable to find dialog/);
});

test('a reliable 183 gets RSeq and Contact, is retransmitted until the PRACK, and the PRACK reaches the app in the dialog', () => {
  const h = setup();
  h.fromNet(invite());
  const msgId = answer(h, '183 Session Progress', 'Require: 100rel\n');
  const p = h.transport.last();
  const rseq = header(p, 'rseq')!;
  assert.match(rseq, /^\d+$/);
  assert.equal(header(p, 'contact'), '<sip:127.0.0.1:5060>');
  assert.match(h.hub.replies.find((x) => x.appMsgId === msgId)!.sip!, /RSeq: \d+/);
  assert.equal(h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[8], DIALOG);
  const n = h.transport.sent.length;
  h.clock.advance(500);
  assert.deepEqual(h.transport.starts(n), ['SIP/2.0 183 Session Progress']);
  const toTag = /tag=([\w-]+)$/.exec(header(p, 'to')!)![1];
  h.fromNet(`PRACK sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKprack
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: 2 PRACK
RAck: ${rseq} 1 INVITE

`);
  const prack = h.hub.sips.at(-1)!;
  assert.match(prack.sip, /^PRACK /);
  assert.equal(prack.meta.dialogId, DIALOG);
  const m = h.transport.sent.length;
  h.clock.advance(4_000);
  assert.equal(h.transport.starts(m).filter((s) => s.startsWith('SIP/2.0 183')).length, 0);
});

test('a re-INVITE while our 2xx awaits its ACK gets 491', () => {
  const h = setup();
  h.fromNet(invite());
  answer(h);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1];
  h.fromNet(invite('z9hG4bKre1').replace('To: <sip:bob@127.0.0.1>', `To: <sip:bob@127.0.0.1>;tag=${toTag}`).replace('1 INVITE', '2 INVITE'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 491 Request Pending');
});

test('a request the app never answers is answered 503 with a Reason after the answer time, and freed', () => {
  const h = setup();
  h.fromNet(invite().replace(/INVITE/g, 'OPTIONS'));
  assert.equal(h.core.stats().serverPending, 1);
  h.clock.advance(4_999);
  assert.equal(h.core.stats().serverPending, 1);
  h.clock.advance(1);
  assert.equal(h.core.stats().serverPending, 0);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=503;text="no answer from the application within 5000 ms"$/);
});

test('an early dialog ends with the failure response that follows its provisional: no dialog is left behind', () => {
  const h = setup();
  h.fromNet(invite());
  answer(h, '180 Ringing');
  assert.equal(h.core.stats().dialogs, 1);
  answer(h, '486 Busy Here');
  assert.equal(h.core.stats().dialogs, 0);
  assert.equal(h.core.stats().serverPending, 0);
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'call-rejected');
});

test('an app 100 to an INVITE is not sent again to the network and gives the app the final-answer time', () => {
  const h = setup();
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  const msgId = h.fromApp('SIP/2.0 100 Trying\nCall-ID: call-1\nCSeq: 1 INVITE\n\n', txnId);
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying'], 'only the engine\'s own 100 went out');
  assert.equal(h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[0], 'OK');
  h.clock.advance(10_000);
  assert.equal(h.core.stats().serverPending, 1, 'past the first-answer time the call is still waiting for its answer');
  h.clock.advance(170_000);
  assert.equal(h.core.stats().serverPending, 0);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
});

test("an app's answer with a header line no parser takes is refused with NOK and its reason; nothing goes on the wire", () => {
  const h = setup();
  h.fromNet(invite());
  const sent = h.transport.starts().length;
  const txnId = h.hub.sips[0]!.meta.transactionId;
  const msgId = h.fromApp('SIP/2.0 200 OK\r\nContent-X: a\nINVITE sip:+1@127.0.0.1:5060 SIP/2.0\r\n\r\n', txnId);
  const r = h.hub.replies.find((x) => x.appMsgId === msgId)!;
  assert.deepEqual(r.fields, ['NOK', "invalid SIP message: bad header name 'INVITE sip'"]);
  assert.equal(r.sip, undefined);
  assert.equal(h.transport.starts().length, sent);
  // The request is still the app's to answer.
  answer(h);
  assert.equal(h.transport.last().kind, 'response');
  assert.equal((h.transport.last() as { status?: number }).status, 200);
});
