import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../../src/common/clock.js';
import { buildCancel } from '../../../../src/sip/transaction/build-cancel.js';
import { TransactionLayer } from '../../../../src/sip/transaction/transaction-layer.js';
import { newBranch } from '../../../../src/sip/transaction/new-branch.js';
import {
  FakeTransport, flowFrom, flowTo, makeRequest, makeResponse, recordingClientUser, recordingTu, setup, targetOf,
} from './support.js';

const none = Buffer.alloc(0);

test('client matching (§17.1.3): a response with another branch or another CSeq method is not the transaction\'s', () => {
  const { layer, tu } = setup();
  const user = recordingClientUser();
  const req = makeRequest('INVITE', { branch: 'z9hG4bK-a' });
  layer.sendRequest(req, { target: targetOf(), user });
  layer.receive(makeResponse(makeRequest('INVITE', { branch: 'z9hG4bK-b' }), 180), none, flowTo(targetOf()));
  layer.receive(makeResponse(makeRequest('CANCEL', { branch: 'z9hG4bK-a' }), 200), none, flowTo(targetOf()));
  assert.equal(user.events.length, 0);
  assert.equal(tu.strays.length, 2);
  assert.equal(layer.stats().strayResponses, 2);
  layer.receive(makeResponse(req, 180), none, flowTo(targetOf()));
  assert.equal(user.events.length, 1);
});

test('CANCEL (§9.1): buildCancel copies Request-URI, Call-ID, To, From, CSeq number, the top Via and Route', () => {
  const invite = makeRequest('INVITE', {
    branch: 'z9hG4bK-inv', cseq: 7, route: ['<sip:p1;lr>'], extraVia: ['SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-lower'],
  });
  const cancel = buildCancel(invite);
  assert.equal(cancel.method, 'CANCEL');
  assert.equal(cancel.uri, invite.uri);
  const vals = (n: string, m = cancel) => m.headers.filter((h) => h.name === n).map((h) => h.value);
  assert.deepEqual(vals('via'), ['SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-inv']);
  for (const n of ['from', 'to', 'call-id', 'route']) assert.deepEqual(vals(n), vals(n, invite), n);
  assert.deepEqual(vals('cseq'), ['7 CANCEL']);
  assert.deepEqual(vals('max-forwards'), ['70']);
});

test('CANCEL gets its own client transaction with the INVITE\'s branch; responses go to the right one', () => {
  const { layer } = setup();
  const invUser = recordingClientUser();
  const canUser = recordingClientUser();
  const invite = makeRequest('INVITE');
  const ict = layer.sendRequest(invite, { target: targetOf(), user: invUser });
  layer.receive(makeResponse(invite, 180), none, flowTo(targetOf()));
  const cancel = buildCancel(invite);
  const nict = layer.sendRequest(cancel, { target: targetOf(), user: canUser });
  assert.notEqual(ict.id, nict.id);
  layer.receive(makeResponse(cancel, 200), none, flowTo(targetOf()));
  layer.receive(makeResponse(invite, 487), none, flowTo(targetOf()));
  assert.deepEqual(canUser.events.map((e) => e.type === 'response' && e.status), [200]);
  assert.deepEqual(invUser.events.map((e) => e.type === 'response' && e.status), [180, 487]);
  assert.equal(layer.stats().created.nict, 1);
});

test('server matching (§17.2.3): CANCEL has its own transaction and finds its INVITE; other branch or sent-by is new', () => {
  const { layer, tu } = setup({ autoTrying: false });
  const invite = makeRequest('INVITE', { branch: 'z9hG4bK-x' });
  layer.receive(invite, none, flowFrom());
  const cancel = buildCancel(invite);
  layer.receive(cancel, none, flowFrom());
  assert.deepEqual(tu.requests.map((r) => r.request.method), ['INVITE', 'CANCEL']);
  assert.notEqual(tu.requests[0]!.txn, tu.requests[1]!.txn);
  assert.equal(layer.findInviteServerTransaction(cancel), tu.requests[0]!.txn);
  assert.equal(layer.findInviteServerTransaction(buildCancel(makeRequest('INVITE', { branch: 'z9hG4bK-y' }))), undefined);
  layer.receive(makeRequest('INVITE', { branch: 'z9hG4bK-x', sentBy: '127.0.0.9:5070' }), none, flowFrom());
  layer.receive(makeRequest('INVITE', { branch: 'z9hG4bK-z' }), none, flowFrom());
  assert.equal(tu.requests.length, 4, 'a different sent-by or branch is a new transaction');
  layer.receive(invite, none, flowFrom());
  assert.equal(tu.requests.length, 4, 'the same branch, sent-by and method is a retransmission');
  assert.equal(layer.stats().created.ist, 3);
  assert.equal(layer.stats().created.nist, 1);
});

test('ACK matching: the ACK for a non-2xx stays in the IST; the ACK for a 2xx (new branch) reaches onAck', () => {
  const { layer, tu } = setup({ autoTrying: false });
  const inv1 = makeRequest('INVITE', { branch: 'z9hG4bK-1', callId: 'c1' });
  layer.receive(inv1, none, flowFrom());
  tu.requests[0]!.txn.respond(makeResponse(inv1, 486));
  layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-1', callId: 'c1', toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(tu.requests[0]!.txn.state, 'Confirmed');
  assert.equal(tu.acks.length, 0);
  const inv2 = makeRequest('INVITE', { branch: 'z9hG4bK-2', callId: 'c2' });
  layer.receive(inv2, none, flowFrom());
  tu.requests[1]!.txn.respond(makeResponse(inv2, 200));
  layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-ack2', callId: 'c2', toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(tu.acks.length, 1);
  assert.equal(tu.requests[1]!.txn.state, 'Accepted');
});

test('RFC 2543 fallback: no magic cookie → Request-URI, tags, Call-ID, CSeq and top Via decide; ACK checks the response To tag', () => {
  const { layer, tu, transport } = setup({ autoTrying: false });
  const old = (method: string, more: Parameters<typeof makeRequest>[1] = {}) =>
    makeRequest(method, { branch: '1234', callId: 'old-1', ...more });
  const invite = old('INVITE');
  layer.receive(invite, none, flowFrom());
  layer.receive(old('INVITE'), none, flowFrom());
  assert.equal(tu.requests.length, 1, 'identical fields: a retransmission');
  layer.receive(old('INVITE', { fromTag: 'other' }), none, flowFrom());
  layer.receive(old('INVITE', { cseq: 2 }), none, flowFrom());
  layer.receive(old('INVITE', { uri: 'sip:carol@127.0.0.3' }), none, flowFrom());
  assert.equal(tu.requests.length, 4, 'a different From tag, CSeq or Request-URI is a new transaction');
  const ist = tu.requests[0]!.txn;
  ist.respond(makeResponse(invite, 404, 'srvtag'));
  assert.equal(layer.findInviteServerTransaction(buildCancel(invite)), ist);
  layer.receive(old('ACK', { toTag: 'wrongtag', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(ist.state, 'Completed', 'an ACK with another To tag does not match');
  assert.equal(tu.acks.length, 1);
  layer.receive(old('ACK', { toTag: 'srvtag', cseqMethod: 'ACK' }), none, flowFrom());
  assert.equal(ist.state, 'Confirmed');
  assert.equal(tu.acks.length, 1);
  assert.ok(transport.sent.length >= 1);
});

test('sendRequest refuses ACK, a branch without the magic cookie, a CSeq mismatch and a branch in use', () => {
  const { layer } = setup();
  const user = recordingClientUser();
  const bad = (req: ReturnType<typeof makeRequest>) =>
    assert.throws(() => layer.sendRequest(req, { target: targetOf(), user }), { code: 'ERR_SIP_TRANSACTION_BAD_REQUEST' });
  bad(makeRequest('ACK'));
  bad(makeRequest('OPTIONS', { branch: 'abc' }));
  bad(makeRequest('OPTIONS', { cseqMethod: 'INFO' }));
  layer.sendRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-dup' }), { target: targetOf(), user });
  bad(makeRequest('OPTIONS', { branch: 'z9hG4bK-dup' }));
  layer.close();
  assert.throws(() => layer.sendRequest(makeRequest('OPTIONS'), { target: targetOf(), user }), { code: 'ERR_SIP_TRANSACTION_CLOSED' });
});

test('the live-transaction cap: requests beyond it get a stateless 503, sendRequest throws ERR_SIP_TRANSACTION_LIMIT', () => {
  const { layer, tu, transport } = setup({ maxTransactions: 2, autoTrying: false });
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-1' }), none, flowFrom());
  layer.sendRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-2' }), { target: targetOf(), user: recordingClientUser() });
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-3' }), none, flowFrom());
  assert.equal(tu.requests.length, 1);
  assert.equal(transport.sent.at(-1)!.line, 'SIP/2.0 503 Service Unavailable');
  assert.match(transport.sent.at(-1)!.text, /\r\nTo: <sip:bob@127\.0\.0\.3>;tag=\S+\r\n/);
  assert.throws(
    () => layer.sendRequest(makeRequest('OPTIONS', { branch: 'z9hG4bK-4' }), { target: targetOf(), user: recordingClientUser() }),
    { code: 'ERR_SIP_TRANSACTION_LIMIT' },
  );
  assert.equal(layer.stats().rejectedOverLimit, 2);
  tu.requests[0]!.txn.respond(makeResponse(tu.requests[0]!.request, 200));
  assert.equal(layer.stats().live.nist, 1, 'Completed still counts until Timer J');
});

test('the 503 past the cap says why and when to try again; one warn line with its code per 10 s, the counter exact', () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const { layer, transport, clock } = setup({ maxTransactions: 1, autoTrying: false, log });
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-c1' }), none, flowFrom());
  for (let i = 2; i <= 5; i++) layer.receive(makeRequest('OPTIONS', { branch: `z9hG4bK-c${i}` }), none, flowFrom());
  const busy = transport.sent.at(-1)!.text;
  assert.match(busy, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.match(busy, /\r\nReason: SIP;cause=503;text="too many transactions at work"\r\n/);
  assert.match(busy, /\r\nRetry-After: 5\r\n/);
  const warned = () => lines.filter((l) => l['code'] === 'ERR_SIP_TRANSACTION_LIMIT');
  assert.equal(warned().length, 1, 'four refusals, one line');
  assert.equal(layer.stats().rejectedOverLimit, 4);
  clock.advance(10_000);
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-c6' }), none, flowFrom());
  assert.equal(warned().length, 2, 'and another once 10 s have passed');
  assert.equal(warned()[1]!['rejected'], 5);
});

test('a transaction waiting out its final timer no longer counts against the cap on transactions at work', () => {
  const { layer, tu } = setup({ maxTransactions: 1, autoTrying: false });
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-w1' }), none, flowFrom());
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-w2' }), none, flowFrom());
  assert.equal(tu.requests.length, 1, 'the second is refused while the first is at work');
  tu.requests[0]!.txn.respond(makeResponse(tu.requests[0]!.request, 200));
  assert.equal(layer.stats().waiting, 1);
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-w3' }), none, flowFrom());
  assert.equal(tu.requests.length, 2, 'admitted: the first only waits out Timer J');
});

test('past the cap on waiting transactions the oldest wait ends early, counted; the others still absorb retransmissions', () => {
  const { layer, tu } = setup({ maxWaiting: 2, autoTrying: false });
  const reqs = ['z9hG4bK-o1', 'z9hG4bK-o2', 'z9hG4bK-o3'].map((branch) => makeRequest('OPTIONS', { branch }));
  for (const r of reqs) layer.receive(r, none, flowFrom());
  for (const { txn, request } of tu.requests) txn.respond(makeResponse(request, 200));
  const [first, second, third] = tu.requests.map((r) => r.txn);
  assert.equal(first!.state, 'Terminated');
  assert.equal(second!.state, 'Completed');
  assert.equal(third!.state, 'Completed');
  const s = layer.stats();
  assert.equal(s.waiting, 2);
  assert.equal(s.waitsEndedEarly, 1);
  assert.equal(s.live.nist, 2);
  layer.receive(reqs[1]!, none, flowFrom());
  assert.equal(tu.requests.length, 3, 'a retransmission of a waiting request is absorbed');
  layer.receive(reqs[0]!, none, flowFrom());
  assert.equal(tu.requests.length, 4, 'the one whose wait ended early is new again');
});

test('a throwing TU does not break the state machine', () => {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const layer = new TransactionLayer({ transport, clock });
  const tu = recordingTu(() => {
    throw new Error('boom');
  });
  layer.setUser(tu);
  const req = makeRequest('OPTIONS');
  layer.receive(req, none, flowFrom());
  tu.requests[0]!.txn.respond(makeResponse(req, 200));
  assert.equal(tu.requests[0]!.txn.state, 'Completed');
});

test('UDP responses go to the packet\'s source address and port, with or without rport, and never to a Via maddr', () => {
  const { layer, tu, transport } = setup({ autoTrying: false });
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-p1', sentBy: 'pbx.example:5099' }), none, flowFrom('udp', 40000));
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-p2', sentBy: 'pbx.example:5099;rport' }), none, flowFrom('udp', 40000));
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-p3', sentBy: 'pbx.example' }), none, flowFrom('udp', 40000));
  layer.receive(makeRequest('OPTIONS', { branch: 'z9hG4bK-p4', sentBy: '127.0.0.9:5099;maddr=127.0.0.4' }), none, flowFrom('udp', 40000));
  for (const r of tu.requests) r.txn.respond(makeResponse(r.request, 200));
  assert.deepEqual(transport.sent.map((s) => `${s.target.address}:${s.target.port}`),
    ['127.0.0.2:40000', '127.0.0.2:40000', '127.0.0.2:40000', '127.0.0.2:40000']);
});

test('newBranch: magic cookie, unique, URL-safe', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const b = newBranch();
    assert.match(b, /^z9hG4bK[A-Za-z0-9_-]{16}$/);
    seen.add(b);
  }
  assert.equal(seen.size, 5000);
});

test('sendStateless sends an ACK for a 2xx outside any transaction and maps a failure to a coded error', async () => {
  const { layer, transport } = setup();
  const ack = makeRequest('ACK', { branch: newBranch(), toTag: 'x', cseqMethod: 'ACK' });
  await layer.sendStateless(ack, targetOf());
  assert.equal(transport.sent[0]!.line, 'ACK sip:bob@127.0.0.3:5080 SIP/2.0');
  transport.failWith = new Error('EHOSTUNREACH');
  await assert.rejects(layer.sendStateless(ack, targetOf()), { code: 'ERR_SIP_TRANSACTION_TRANSPORT' });
  assert.equal(layer.stats().transportErrors, 1);
});

test('performance: 20,000 NICT create/respond/terminate cycles with the manual clock; live counts return to 0', (t) => {
  const { layer, transport, clock } = setup();
  transport.record = false;
  const user = { onResponse() {}, onTimeout() {}, onTransportError() {} };
  const flow = flowTo(targetOf());
  const started = process.hrtime.bigint();
  for (let i = 0; i < 20_000; i++) {
    const req = makeRequest('OPTIONS', { branch: newBranch(), cseq: i + 1 });
    layer.sendRequest(req, { target: targetOf(), user });
    layer.receive(makeResponse(req, 200), none, flow);
    clock.advance(5000); // Timer K (T4) ends it
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const s = layer.stats();
  assert.equal(s.created.nict, 20_000);
  assert.deepEqual(s.live, { ict: 0, nict: 0, ist: 0, nist: 0 });
  assert.equal(clock.pending, 0);
  assert.equal(transport.count, 20_000);
  // A timing never decides a pass (house rule); it is reported for the reader.
  t.diagnostic(`20,000 NICT cycles in ${Math.round(ms)} ms`);
});

test('cancel(): held back until a provisional arrives (§9.1), sent at once in Proceeding, nothing after a final', () => {
  const { layer, transport } = setup();
  const user = recordingClientUser();
  const cancelUser = recordingClientUser();
  const inv1 = makeRequest('INVITE', { branch: 'z9hG4bK-c1' });
  const ict1 = layer.sendRequest(inv1, { target: targetOf(), user });
  assert.equal(layer.cancel(ict1, cancelUser), 'pending');
  assert.ok(!transport.lines().some((l) => l.startsWith('CANCEL')));
  layer.receive(makeResponse(inv1, 180), none, flowTo(targetOf()));
  assert.equal(transport.lines().filter((l) => l.startsWith('CANCEL')).length, 1);
  assert.deepEqual(transport.sent.at(-1)!.target, targetOf(), 'the CANCEL goes where the INVITE went');

  const inv2 = makeRequest('INVITE', { branch: 'z9hG4bK-c2' });
  const ict2 = layer.sendRequest(inv2, { target: targetOf(), user });
  layer.receive(makeResponse(inv2, 183), none, flowTo(targetOf()));
  assert.equal(layer.cancel(ict2, cancelUser), 'sent');
  assert.equal(transport.lines().filter((l) => l.startsWith('CANCEL')).length, 2);

  const inv3 = makeRequest('INVITE', { branch: 'z9hG4bK-c3' });
  const ict3 = layer.sendRequest(inv3, { target: targetOf(), user });
  assert.equal(layer.cancel(ict3, cancelUser), 'pending');
  layer.receive(makeResponse(inv3, 486), none, flowTo(targetOf()));
  layer.receive(makeResponse(inv3, 180), none, flowTo(targetOf()));
  assert.equal(layer.cancel(ict3, cancelUser), 'too-late');
  assert.equal(transport.lines().filter((l) => l.startsWith('CANCEL')).length, 2, 'a final response first: no CANCEL');
});
