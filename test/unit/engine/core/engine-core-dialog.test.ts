// In-dialog requests from the network on a confirmed UAS dialog, per RFC 3261 §12.2.2 and §14.2: a CSeq lower than
// the last one is refused 500, a dialog whose app is gone gets 481, a second re-INVITE while one is in progress gets
// 500 with Retry-After, and a re-INVITE's Contact becomes the target of the app's next request.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, invite, setup } from './core-harness.js';

const DIALOG = 'call-1;from-tag=atag';

/** A confirmed dialog: the INVITE answered 200 by the app and ACKed by the caller; returns our To tag. */
function confirmed(h: ReturnType<typeof setup>): string {
  h.fromNet(invite());
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', h.hub.sips[0]!.meta.transactionId);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1]!;
  h.fromNet(inDialog('ACK', 1, toTag, 'z9hG4bKack1'));
  return toTag;
}

function inDialog(method: string, cseq: number, toTag: string, branch: string, extra = ''): string {
  return `${method} sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>;tag=${toTag}
Call-ID: call-1
CSeq: ${cseq} ${method}
${extra}Content-Length: 0

`;
}

test('an in-dialog request with a CSeq lower than the last one gets 500 with a Reason and never reaches the app', () => {
  const h = setup();
  const toTag = confirmed(h);
  h.fromNet(inDialog('INFO', 5, toTag, 'z9hG4bKi5'));
  assert.equal(h.hub.sips.at(-1)!.sip.split('\r\n')[0], 'INFO sip:bob@127.0.0.1:5060 SIP/2.0', 'CSeq 5 reaches the app');
  const toApp = h.hub.sips.length;
  h.fromNet(inDialog('INFO', 3, toTag, 'z9hG4bKi3'));
  const res = h.transport.last();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 500 Server Internal Error');
  assert.equal(header(res, 'reason'), 'SIP;cause=500;text="CSeq out of order"');
  assert.equal(h.hub.sips.length, toApp, 'CSeq 3 did not reach the app');
  h.fromNet(inDialog('INFO', 6, toTag, 'z9hG4bKi6'));
  assert.equal(h.hub.sips.length, toApp + 1, 'the dialog goes on: CSeq 6 reaches the app');
});

test('a dialog whose app is gone: an in-dialog request gets 481 with a Reason, and a BYE also ends the dialog', () => {
  const h = setup();
  const toTag = confirmed(h);
  const toApp = h.hub.sips.length;
  h.hub.apps.delete('app1');
  h.fromNet(inDialog('INFO', 2, toTag, 'z9hG4bKdead1'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=481;text="application disconnected"');
  assert.equal(h.core.stats().dialogs, 1, 'an INFO does not end it');
  h.fromNet(inDialog('BYE', 3, toTag, 'z9hG4bKdead2'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
  assert.equal(h.core.stats().dialogs, 0, 'the BYE ended the dialog');
  assert.equal(h.hub.sips.length, toApp, 'nothing was handed to a dead app');
});

test('a re-INVITE while another is in progress on the dialog gets 500 with Retry-After between 0 and 10 s (§14.2)', () => {
  const h = setup();
  const toTag = confirmed(h);
  h.fromNet(inDialog('INVITE', 2, toTag, 'z9hG4bKre2', 'Contact: <sip:alice@127.0.0.2:5070>\n'));
  assert.match(h.hub.sips.at(-1)!.sip, /^INVITE /, 'the first re-INVITE reaches the app, which has not answered');
  h.fromNet(inDialog('INVITE', 3, toTag, 'z9hG4bKre3', 'Contact: <sip:alice@127.0.0.2:5070>\n'));
  const res = h.transport.last();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 500 Server Internal Error');
  assert.equal(header(res, 'reason'), 'SIP;cause=500;text="an INVITE is already in progress"');
  const retry = Number(header(res, 'retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 0 && retry <= 10, `Retry-After ${header(res, 'retry-after')}`);
});

test('target refresh: the Contact of a re-INVITE becomes the Request-URI and destination of the app\'s next request', async () => {
  const h = setup();
  const toTag = confirmed(h);
  h.fromNet(inDialog('INVITE', 2, toTag, 'z9hG4bKref', 'Contact: <sip:alice@127.0.0.9:5099>\n'));
  const reinvite = h.hub.sips.at(-1)!;
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', reinvite.meta.transactionId);
  h.fromNet(inDialog('ACK', 2, toTag, 'z9hG4bKrefack'));
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', DIALOG);
  await flush();
  const bye = h.transport.sent.at(-1)!;
  assert.equal(bye.msg.kind === 'request' && bye.msg.uri, 'sip:alice@127.0.0.9:5099');
  assert.equal(`${bye.target.address}:${bye.target.port}`, '127.0.0.9:5099');
});

test("an app's in-dialog requests each get a transaction id of the engine's, whatever id the app wrote: none replaces another", async () => {
  const h = setup();
  confirmed(h);
  const ids = [1, 2, 3].map(() => h.fromApp('INFO sip:placeholder SIP/2.0\nContent-Length: 0\n\n', 'chosen-by-app', DIALOG));
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(h.core.stats()['clientPending'], 3, 'three requests pending, three entries');
  const txnIds = ids.map((id) => h.hub.replies.find((r) => r.appMsgId === id)!.fields[7]);
  assert.equal(new Set(txnIds).size, 3);
  assert.ok(txnIds.every((t) => t !== 'chosen-by-app' && /^[0-9a-f]{16}-[0-9a-z]+$/.test(t!)), txnIds.join(' '));
});
