import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { SipMessage } from '../../../../src/sip/message/types.js';
import { flush, header, invite, setup, type SipRequest } from './core-harness.js';

const B1 = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1' };

function proxyCommand(h: ReturnType<typeof setup>, txnId: string, o: { provisionalTimeout?: string; finalTimeout?: string } = {}): void {
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: txnId, remainInDialog: false, fullResponse: true, followRedirects: false, simultaneous: false,
    provisionalTimeout: o.provisionalTimeout ?? '', finalTimeout: o.finalTimeout ?? '', destinations: ['sip:127.0.0.3:5080'],
    sip: 'INVITE sip:127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
}

function forwarded(h: ReturnType<typeof setup>, method = 'INVITE'): SipRequest[] {
  return h.transport.sent.filter((s) => s.target.address === '127.0.0.3' && s.msg.kind === 'request' && s.msg.method === method)
    .map((s) => s.msg as SipRequest);
}

/** The branch's answer to a forwarded request, with its Via stack as received. */
function branchAnswers(h: ReturnType<typeof setup>, req: SipMessage, status: string): void {
  const vias = req.headers.filter((x) => x.name === 'via').map((x) => `Via: ${x.value}`).join('\n');
  h.fromNet(`SIP/2.0 ${status}\n${vias}\nFrom: ${header(req, 'from')}\nTo: ${header(req, 'to')};tag=dtag\nCall-ID: ${header(req, 'call-id')}\n`
    + `CSeq: ${header(req, 'cseq')}\nContact: <sip:b@127.0.0.3:5080>\nContent-Length: 0\n\n`, B1);
}

const upstream = (h: ReturnType<typeof setup>): string[] =>
  h.transport.sent.filter((s) => s.target.address === '127.0.0.2').map((s) => s.text.slice(0, s.text.indexOf('\r\n')));

function appAnswers(h: ReturnType<typeof setup>, txnId: string, status: string): string {
  return h.fromApp(`SIP/2.0 ${status}\nCall-ID: call-1\nCSeq: 1 INVITE\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\n\n`, txnId);
}

test('a response from the app to a request it had proxied is refused as an unknown transaction; the proxy goes on', async () => {
  const h = setup();
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  proxyCommand(h, txnId);
  await flush();
  branchAnswers(h, forwarded(h)[0]!, '180 Ringing');
  const id = appAnswers(h, txnId, '486 Busy Here');
  assert.deepEqual(h.hub.replies.find((r) => r.appMsgId === id)!.fields, ['NOK', 'Response not sent due to unknown transaction']);
  assert.deepEqual(upstream(h), ['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing']);
  branchAnswers(h, forwarded(h)[0]!, '200 OK');
  assert.equal(upstream(h).at(-1), 'SIP/2.0 200 OK', 'the branch\'s 200 is relayed');
  assert.equal(h.core.stats().serverPending, 0);
});

test('a provisional from the app and then a proxy: the early dialog it made ends, no dialog is left once the run ends', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKinv1', 'call-1', 'Supported: 100rel\n'));
  const txnId = h.hub.sips[0]!.meta.transactionId;
  appAnswers(h, txnId, '180 Ringing');
  assert.equal(h.core.stats().dialogs, 1);
  proxyCommand(h, txnId);
  await flush();
  assert.equal(h.core.stats().dialogs, 0);
  branchAnswers(h, forwarded(h)[0]!, '486 Busy Here');
  assert.equal(upstream(h).at(-1), 'SIP/2.0 486 Busy Here');
  const s = h.core.stats();
  assert.equal(s.dialogs, 0);
  assert.equal(s.serverPending, 0);
});

test('Timer C: a proxied INVITE ringing without a final response is CANCELled after 181 s; upstream a 408 once the branch ends', async () => {
  const h = setup();
  h.fromNet(invite());
  proxyCommand(h, h.hub.sips[0]!.meta.transactionId);
  await flush();
  const fwd = forwarded(h)[0]!;
  branchAnswers(h, fwd, '180 Ringing');
  h.clock.advance(100_000);
  branchAnswers(h, fwd, '183 Session Progress');
  h.clock.advance(180_999);
  assert.equal(forwarded(h, 'CANCEL').length, 0, 'each provisional restarts Timer C');
  h.clock.advance(1);
  assert.equal(forwarded(h, 'CANCEL').length, 1);
  assert.equal(h.core.stats().proxyTimerC, 1);
  assert.equal(upstream(h).at(-1), 'SIP/2.0 183 Session Progress');
  branchAnswers(h, fwd, '487 Request Terminated');
  assert.equal(upstream(h).at(-1), 'SIP/2.0 408 Request Timeout');
  const up = h.transport.sent.filter((s) => s.target.address === '127.0.0.2').at(-1)!.msg;
  assert.equal(header(up, 'reason'), 'SIP;cause=408;text="no final response within Timer C"');
  const s = h.core.stats();
  assert.equal(s.serverPending, 0);
  assert.equal(s.invitesPending, 0);
});

test('Timer C without a provisional above 100: the branch counts as 408 at once', async () => {
  const h = setup();
  h.fromNet(invite());
  proxyCommand(h, h.hub.sips[0]!.meta.transactionId);
  await flush();
  branchAnswers(h, forwarded(h)[0]!, '100 Trying');
  h.clock.advance(181_000);
  assert.equal(upstream(h).at(-1), 'SIP/2.0 408 Request Timeout');
  assert.equal(h.core.stats().serverPending, 0);
  assert.equal(h.core.stats().proxyTimerC, 1);
});

test('a CANCEL from the caller while the only destination is still being looked up: 487 with a Reason upstream', async () => {
  let resolve!: (address: string) => void;
  const h = setup(undefined, { lookup: () => new Promise<string>((r) => { resolve = r; }) });
  h.fromNet(invite());
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px1', transactionId: h.hub.sips[0]!.meta.transactionId, remainInDialog: false, fullResponse: true,
    followRedirects: false, simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:callee.example.com:5080'],
    sip: 'INVITE sip:callee.example.com:5080 SIP/2.0\r\n\r\n',
  });
  await flush();
  h.fromNet('CANCEL sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1;rport=5070;received=127.0.0.2\n'
    + 'Max-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\nCall-ID: call-1\nCSeq: 1 CANCEL\nContent-Length: 0\n\n');
  resolve('127.0.0.9');
  await flush();
  await flush();
  assert.deepEqual(upstream(h), ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=487;text="cancelled before any destination answered"');
  assert.equal(h.transport.sent.filter((s) => s.target.address === '127.0.0.9').length, 0, 'nothing sent to the destination');
  assert.equal(h.core.stats().serverPending, 0);
});
