/**
 * A transaction past its final response waits up to 64*T1 (Timers D, J, L, M) or T4 (K) only to absorb or answer
 * retransmissions. It must not keep the parsed request, the parsed response or (where nothing more goes up) its
 * user meanwhile: under load those would survive every young-generation collection of the engine thread. Each
 * case drops its own references, collects garbage while the timer still runs, and checks the objects are gone
 * and the state machine still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../../../src/sip/message/types.js';
import type { ClientTransactionUser } from '../../../../src/sip/transaction/types.js';
import type { InviteClientTransaction } from '../../../../src/sip/transaction/invite-client-transaction.js';
import { parseMessage } from '../../../../src/sip/message/parse.js';
import { collectGarbage as collect } from '../../../support/gc.js';
import { flowFrom, flowTo, makeRequest, makeResponse, setup, targetOf } from './support.js';

const none = Buffer.alloc(0);

/** A user that keeps only statuses, so what it holds is not what is being checked. */
function statusUser(): ClientTransactionUser & { statuses: number[] } {
  const statuses: number[] = [];
  return {
    statuses,
    onResponse: (res) => void statuses.push(res.status),
    onTimeout: () => void statuses.push(408),
    onTransportError: () => void statuses.push(503),
  };
}

test('IST after a 2xx (Accepted, Timer L running): the INVITE and the 200 are collected; Timer L still ends it', async () => {
  const s = setup();
  const refs = ((): { req: WeakRef<SipRequest>; res: WeakRef<SipResponse> } => {
    const invite = makeRequest('INVITE');
    s.layer.receive(invite, none, flowFrom('udp'));
    const txn = s.tu.requests[0]!.txn;
    const ok = makeResponse(invite, 200);
    txn.respond(ok);
    return { req: new WeakRef(invite), res: new WeakRef(ok) };
  })();
  const txn = s.tu.requests[0]!.txn;
  s.tu.requests.length = 0;
  assert.equal(txn.state, 'Accepted');
  await collect([refs.req, refs.res]);
  assert.equal(refs.req.deref(), undefined, 'the INVITE is not held through Timer L');
  assert.equal(refs.res.deref(), undefined, 'the 200 is not held through Timer L');
  assert.throws(() => txn.request, { code: 'ERR_SIP_TRANSACTION_RELEASED' });
  s.clock.advance(32_000);
  assert.equal(txn.state, 'Terminated');
});

test('IST after a 486 (Completed): the messages are collected; Timer G still re-sends the bytes and the ACK matches', async () => {
  const s = setup();
  const refs = ((): WeakRef<SipResponse> => {
    const invite = makeRequest('INVITE');
    s.layer.receive(invite, none, flowFrom('udp'));
    const busy = makeResponse(invite, 486);
    s.tu.requests[0]!.txn.respond(busy);
    return new WeakRef(busy);
  })();
  const txn = s.tu.requests[0]!.txn;
  s.tu.requests.length = 0;
  await collect([refs]);
  assert.equal(refs.deref(), undefined);
  s.clock.advance(500);
  assert.deepEqual(s.transport.lines(), ['SIP/2.0 486 Busy Here', 'SIP/2.0 486 Busy Here']);
  s.layer.receive(makeRequest('ACK', { toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom('udp'));
  assert.equal(txn.state, 'Confirmed');
});

test('NIST after its final (Completed, Timer J running): the request and the 200 are collected; a retransmission is answered', async () => {
  const s = setup();
  const refs = ((): { req: WeakRef<SipRequest>; res: WeakRef<SipResponse> } => {
    const bye = makeRequest('BYE');
    s.layer.receive(bye, none, flowFrom('udp'));
    const ok = makeResponse(bye, 200);
    s.tu.requests[0]!.txn.respond(ok);
    return { req: new WeakRef(bye), res: new WeakRef(ok) };
  })();
  const txn = s.tu.requests[0]!.txn;
  s.tu.requests.length = 0;
  assert.equal(txn.state, 'Completed');
  await collect([refs.req, refs.res]);
  assert.equal(refs.req.deref(), undefined);
  assert.equal(refs.res.deref(), undefined);
  s.layer.receive(makeRequest('BYE'), none, flowFrom('udp'));
  assert.deepEqual(s.transport.lines(), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  s.clock.advance(32_000);
  assert.equal(txn.state, 'Terminated');
});

test('ICT after a 2xx (Accepted, Timer M running): the INVITE and the 200 are collected; a retransmitted 2xx still goes up', async () => {
  const s = setup();
  const user = statusUser();
  const target = targetOf('udp');
  const refs = ((): { req: WeakRef<SipRequest>; res: WeakRef<SipResponse>; txn: InviteClientTransaction } => {
    const invite = makeRequest('INVITE');
    const txn = s.layer.sendRequest(invite, { target, user }) as InviteClientTransaction;
    const ok = makeResponse(invite, 200);
    s.layer.receive(ok, none, flowTo(target));
    return { req: new WeakRef(invite), res: new WeakRef(ok), txn };
  })();
  assert.equal(refs.txn.state, 'Accepted');
  await collect([refs.req, refs.res]);
  assert.equal(refs.req.deref(), undefined, 'the INVITE is not held through Timer M');
  assert.equal(refs.res.deref(), undefined, 'the 200 is not held through Timer M');
  s.layer.receive(makeResponse(makeRequest('INVITE'), 200), none, flowTo(target));
  assert.deepEqual(user.statuses, [200, 200]);
  s.clock.advance(32_000);
  assert.equal(refs.txn.state, 'Terminated');
});

test('ICT after a 486 (Completed, Timer D running): request, response and user are collected; the ACK is re-sent', async () => {
  const s = setup();
  const target = targetOf('udp');
  const refs = ((): { res: WeakRef<SipResponse>; user: WeakRef<object> } => {
    const invite = makeRequest('INVITE');
    const user = statusUser();
    s.layer.sendRequest(invite, { target, user });
    const busy = makeResponse(invite, 486);
    s.layer.receive(busy, none, flowTo(target));
    assert.deepEqual(user.statuses, [486]);
    return { res: new WeakRef(busy), user: new WeakRef(user) };
  })();
  await collect([refs.res, refs.user]);
  assert.equal(refs.res.deref(), undefined);
  assert.equal(refs.user.deref(), undefined, 'nothing goes up in Completed, so the user is let go');
  s.layer.receive(makeResponse(makeRequest('INVITE'), 486), none, flowTo(target));
  assert.deepEqual(s.transport.lines().filter((l) => l.startsWith('ACK')).length, 2);
});

test('NICT after its final (Completed, Timer K running): request, response and user are collected', async () => {
  const s = setup();
  const target = targetOf('udp');
  const refs = ((): { req: WeakRef<SipRequest>; res: WeakRef<SipResponse>; user: WeakRef<object> } => {
    const bye = makeRequest('BYE');
    const user = statusUser();
    s.layer.sendRequest(bye, { target, user });
    const ok = makeResponse(bye, 200);
    s.layer.receive(ok, none, flowTo(target));
    assert.deepEqual(user.statuses, [200]);
    return { req: new WeakRef(bye), res: new WeakRef(ok), user: new WeakRef(user) };
  })();
  await collect([refs.req, refs.res, refs.user]);
  assert.equal(refs.req.deref(), undefined);
  assert.equal(refs.res.deref(), undefined);
  assert.equal(refs.user.deref(), undefined);
  assert.equal(s.layer.stats().live.nict, 1, 'the transaction itself still absorbs retransmissions until Timer K');
  s.clock.advance(5_000);
  assert.equal(s.layer.stats().live.nict, 0);
});

test('lingering server transactions keep copies of their keys, not the header text of their requests: 200 parsed requests with 20 KB headers hold under 1 MB through Timer J', async () => {
  const s = setup();
  const pad = Array.from({ length: 4 }, (_, k) => `X-Pad-${k}: ${'x'.repeat(5_000)}\r\n`).join('');
  await collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) {
    // A branch and a sent-by long enough that V8 would cut them from the header text rather than copy them.
    const text = `OPTIONS sip:bob@127.0.0.3 SIP/2.0\r\nVia: SIP/2.0/UDP gateway-peer-host.example.net:5070;branch=z9hG4bK-long-branch-value-${i}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.2>;tag=from-tag-value-${i}\r\nTo: <sip:bob@127.0.0.3>\r\nCall-ID: call-id-long-enough-${i}@127.0.0.2\r\n` +
      `CSeq: 1 OPTIONS\r\n${pad}Content-Length: 0\r\n\r\n`;
    const parsed = parseMessage(Buffer.from(text, 'latin1'));
    assert.ok(parsed.ok && parsed.message.kind === 'request');
    s.layer.receive(parsed.message, none, flowFrom('udp'));
    const txn = s.tu.requests[0]!.txn;
    txn.respond(makeResponse(parsed.message, 200));
    s.tu.requests.length = 0;
  }
  await collect();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(s.layer.stats().live.nist, 200, 'all 200 wait out Timer J');
  assert.ok(grown < 1_000_000, `200 lingering transactions hold ${grown} bytes of heap (their requests' header text is 4 MB)`);
  s.clock.advance(32_000);
  assert.equal(s.layer.stats().live.nist, 0);
});

/** Whether `bytes` has memory of its own, not a slice of the 8 KiB block Node shares among small Buffers. */
const ownMemory = (bytes: Buffer): boolean => bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length;

test('IST after a 2xx sent by respond2xx: once the ACK came, the 2xx\'s bytes are let go though Timer L still runs', async () => {
  const s = setup({ autoTrying: false });
  const invite = makeRequest('INVITE', { callId: 'c-l', cseq: 3 });
  s.layer.receive(invite, none, flowFrom('udp'));
  const txn = s.tu.requests[0]!.txn;
  const bytes = ((): WeakRef<Buffer> => {
    // The retransmitter holds the bytes until the ACK; the layer lets it go then (so does this scope).
    const r = s.layer.respond2xx(txn, makeResponse(invite, 200), { onTimeout() {} });
    s.layer.receive(makeRequest('ACK', { branch: 'z9hG4bK-ack-l', callId: 'c-l', cseq: 3, toTag: 'totag9', cseqMethod: 'ACK' }), none, flowFrom('udp'));
    assert.equal(r.state, 'acked');
    return new WeakRef(s.transport.sent[0]!.data);
  })();
  s.transport.clear();
  s.tu.requests.length = 0;
  s.tu.acks.length = 0;
  await collect([bytes]);
  assert.equal(txn.state, 'Accepted');
  assert.equal(bytes.deref(), undefined, 'the 2xx is not held through Timer L');
  s.clock.advance(32_000);
  assert.equal(txn.state, 'Terminated');
});

test('NICT after its final: the request\'s bytes are let go at once, not after Timer K', async () => {
  const s = setup();
  const target = targetOf('udp');
  const bye = makeRequest('BYE');
  const txn = s.layer.sendRequest(bye, { target, user: statusUser() });
  const bytes = new WeakRef(s.transport.sent[0]!.data);
  s.layer.receive(makeResponse(bye, 200), none, flowTo(target));
  s.transport.clear();
  await collect([bytes]);
  assert.equal(txn.state, 'Completed');
  assert.equal(bytes.deref(), undefined);
  s.clock.advance(5_000);
  assert.equal(txn.state, 'Terminated');
});

test('bytes kept through a wait have memory of their own: one kept response does not hold an 8 KiB block of other messages', () => {
  const s = setup();
  // NIST, Timer J: the 200 re-sent on a retransmitted BYE.
  const bye = makeRequest('BYE');
  s.layer.receive(bye, none, flowFrom('udp'));
  s.tu.requests[0]!.txn.respond(makeResponse(bye, 200));
  assert.equal(ownMemory(s.transport.sent[0]!.data), false, 'a fresh small Buffer is a slice of the shared block');
  s.layer.receive(makeRequest('BYE'), none, flowFrom('udp'));
  assert.equal(s.transport.sent.length, 2);
  assert.ok(ownMemory(s.transport.sent[1]!.data), 'the 200 kept for Timer J');
  // IST after a 486, Timer G: the 486 re-sent until the ACK.
  s.transport.clear();
  s.tu.requests.length = 0;
  const invite = makeRequest('INVITE', { callId: 'c-g' });
  s.layer.receive(invite, none, flowFrom('udp'));
  s.tu.requests[0]!.txn.respond(makeResponse(invite, 486));
  s.clock.advance(500);
  const busy = s.transport.sent.filter((x) => x.line === 'SIP/2.0 486 Busy Here');
  assert.equal(busy.length, 2);
  assert.ok(ownMemory(busy[1]!.data), 'the 486 kept for Timer G');
  // ICT after a 486, Timer D: the ACK re-sent for each retransmitted final response.
  s.transport.clear();
  const target = targetOf('udp');
  const out = makeRequest('INVITE', { callId: 'c-d' });
  s.layer.sendRequest(out, { target, user: statusUser() });
  s.layer.receive(makeResponse(out, 486), none, flowTo(target));
  s.layer.receive(makeResponse(out, 486), none, flowTo(target));
  const acks = s.transport.sent.filter((x) => x.line.startsWith('ACK'));
  assert.equal(acks.length, 2);
  assert.ok(ownMemory(acks[1]!.data), 'the ACK kept for Timer D');
});
