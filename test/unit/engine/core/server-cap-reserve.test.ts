/**
 * The cap on requests waiting for an app keeps a reserve for the calls already up (core-guard.ts): new requests an
 * app holds (MESSAGEs here, ringing INVITEs in the field) fill only the cap less the reserve, so a call's BYE still
 * reaches its app, while the next new request still gets 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { header, invite, setup } from './core-harness.js';

const message = (i: number): string => `MESSAGE sip:x@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKm${i}\nMax-Forwards: 70\n`
  + `From: <sip:a@127.0.0.2>;tag=m${i}\nTo: <sip:x@127.0.0.1>\nCall-ID: m${i}\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n`;

const inDialog = (method: string, toTag: string, cseq: number): string => `${method} sip:bob@127.0.0.1:5060 SIP/2.0\n`
  + `Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK${method}${cseq}\nMax-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\n`
  + `To: <sip:bob@127.0.0.1>;tag=${toTag}\nCall-ID: call-1\nCSeq: ${cseq} ${method}\nContent-Length: 0\n\n`;

/** A call up (answered and ACKed), then new requests held by the app until the table refuses one. */
function callUpAndTableFull(max: number) {
  const h = setup({ maxServerTransactions: max });
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 200 OK\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\nContent-Type: application/sdp\n\nv=0\r\n', txnId);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1]!;
  h.fromNet(inDialog('ACK', toTag, 1));
  let i = 0;
  for (;;) {
    const before = h.transport.sent.length;
    h.fromNet(message(i++));
    if (h.transport.starts(before).includes('SIP/2.0 503 Service Unavailable')) break;
  }
  return { h, toTag, messages: i };
}

test('with new requests filling their share of a cap of 3, a BYE of a call up reaches its app; the next new request gets 503', () => {
  const { h, toTag, messages } = callUpAndTableFull(3);
  assert.equal(messages, 3, 'two MESSAGEs held, the third refused: one place kept');
  assert.equal(h.core.stats().serverTableFull, 1);
  const before = h.transport.sent.length;
  const seen = h.hub.sips.length;
  h.fromNet(inDialog('BYE', toTag, 2));
  assert.deepEqual(h.transport.starts(before), [], 'no 503 for the BYE');
  assert.match(h.hub.sips.at(-1)!.sip, /^BYE /);
  assert.equal(h.hub.sips.length, seen + 1);
  const after = h.transport.sent.length;
  h.fromNet(message(99));
  assert.deepEqual(h.transport.starts(after), ['SIP/2.0 503 Service Unavailable']);
  assert.equal(header(h.transport.last(), 'retry-after'), '5');
  assert.deepEqual([h.core.stats().serverTableFull, h.core.stats().serverTableFullInDialog], [2, 0]);
});

test('the reserve is a tenth of the cap: in-dialog requests other than BYE keep half of it for BYEs; past the cap a BYE gets 503, counted apart', () => {
  const { h, toTag, messages } = callUpAndTableFull(40);
  assert.equal(messages, 37, '36 new requests held: four places kept');
  // Two INFOs of the call fit (half the reserve), the third is refused; BYE takes the last two places.
  let cseq = 2;
  const answers: string[] = [];
  for (let n = 0; n < 3; n++) {
    const before = h.transport.sent.length;
    h.fromNet(inDialog('INFO', toTag, cseq++));
    answers.push(h.transport.starts(before).join() || 'to the app');
  }
  assert.deepEqual(answers, ['to the app', 'to the app', 'SIP/2.0 503 Service Unavailable']);
  assert.equal(h.core.stats().serverTableFullInDialog, 1);
  const byes: string[] = [];
  for (let n = 0; n < 3; n++) {
    const before = h.transport.sent.length;
    h.fromNet(inDialog('BYE', toTag, cseq++));
    byes.push(h.transport.starts(before).join() || 'to the app');
  }
  assert.deepEqual(byes, ['to the app', 'to the app', 'SIP/2.0 503 Service Unavailable'], 'BYEs take the last two places, not one more');
  assert.deepEqual([h.core.stats().serverTableFull, h.core.stats().serverTableFullInDialog], [1, 2]);
});
