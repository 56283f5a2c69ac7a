// A new request refused at the cap on transactions at work is told to the layer's onRefusedAtCap, with the flow it
// came on and the Reason of the 503 it got, so the engine can record a refused call; one let in is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../../../src/sip/message/index.js';
import type { Flow } from '../../../../src/sip/transport/types.js';
import { flowFrom, makeRequest, setup } from './support.js';

test('each request answered 503 at the cap is told with its flow and the Reason sent; the ones let in are not', () => {
  const told: { request: SipRequest; flow: Flow; reason: string }[] = [];
  const { layer, tu, transport } = setup({ maxTransactions: 1, autoTrying: false, onRefusedAtCap: (request, flow, reason) => void told.push({ request, flow, reason }) });
  layer.receive(makeRequest('INVITE', { branch: 'z9hG4bK-cap1' }), Buffer.alloc(0), flowFrom());
  assert.equal(told.length, 0);
  const tcp = flowFrom('tcp', 40000);
  layer.receive(makeRequest('INVITE', { branch: 'z9hG4bK-cap2', callId: 'refused@x' }), Buffer.alloc(0), tcp);
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-cap3' }), Buffer.alloc(0), flowFrom());
  assert.equal(tu.requests.length, 1);
  assert.deepEqual(told.map((t) => [t.request.method, t.flow, t.reason]), [
    ['INVITE', tcp, 'SIP;cause=503;text="too many transactions at work"'], ['OPTIONS', flowFrom(), 'SIP;cause=503;text="too many transactions at work"'],
  ]);
  const busy = transport.sent.filter((s) => s.line === 'SIP/2.0 503 Service Unavailable');
  assert.equal(busy.length, 2);
  assert.ok(busy.every((s) => s.text.includes(`\r\nReason: ${told[0]!.reason}\r\n`)), 'the Reason told is the one sent');
  // The refusal's To tag is a hex one from newTag (test/unit/sip/transaction/new-tag.test.ts says why).
  assert.ok(busy.every((s) => /\r\nTo: [^\r]*;tag=[0-9a-f]{16}\r\n/.test(s.text)), busy.map((s) => s.text).join('\n'));
});
