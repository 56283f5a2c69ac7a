// A CANCEL that reaches the core and cancels nothing (no INVITE transaction, or its INVITE answered already) gets
// 481 as before, and is now counted (unmatchedCancel) with a rate-limited line; one for an INVITE under way is not.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { captureLog } from '../../../support/log-capture.js';
import { invite, setup } from './core-harness.js';

const cancel = (branch: string, callId: string, toTag = ''): string => `CANCEL sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>${toTag}
Call-ID: ${callId}
CSeq: 1 CANCEL
Content-Length: 0

`;

test('a CANCEL for no INVITE, with a To tag or without, gets 481 and is counted with one line', () => {
  const capture = captureLog('warn');
  const h = setup(undefined, { log: capture.log });
  h.fromNet(cancel('z9hG4bKnone1', 'no-call'));
  h.fromNet(cancel('z9hG4bKnone2', 'no-call', ';tag=made-up'));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 481 Call/Transaction Does Not Exist', 'SIP/2.0 481 Call/Transaction Does Not Exist']);
  assert.equal(h.core.stats()['unmatchedCancel'], 2);
  const lines = capture.records.filter((r) => r['code'] === 'ERR_ENGINE_NO_DIALOG');
  assert.equal(lines.length, 1, 'rate-limited: one line per code');
  assert.equal(lines[0]!['msg'], 'CANCEL for no INVITE under way: 481');
});

test('a CANCEL for an INVITE under way is not counted; one after its final answer is', () => {
  const h = setup();
  h.fromNet(invite());
  h.fromNet(cancel('z9hG4bKinv1', 'call-1'));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
  assert.equal(h.core.stats()['unmatchedCancel'], 0);
  h.fromNet(invite('z9hG4bKinv2', 'call-2'));
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.fromApp('SIP/2.0 486 Busy Here\nTo: <sip:bob@127.0.0.1>\n\n', txnId);
  const before = h.transport.sent.length;
  h.fromNet(cancel('z9hG4bKinv2', 'call-2'));
  assert.deepEqual(h.transport.starts(before), ['SIP/2.0 481 Call/Transaction Does Not Exist']);
  assert.equal(h.core.stats()['unmatchedCancel'], 1);
});
