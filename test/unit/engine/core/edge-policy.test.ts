import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { forwardCopy } from '../../../../src/engine/core/forward.js';
import { RequestGate, requestUriProblem } from '../../../../src/engine/core/request-gate.js';
import { parseAppText } from '../../../../src/sip/message/index.js';
import type { SipRequest } from '../../../../src/sip/message/types.js';
import { flush, header, invite, setup } from './core-harness.js';

const FOREIGN = '127.0.0.66';

function sentTo(h: ReturnType<typeof setup>, address: string): number {
  return h.transport.sent.filter((s) => s.target.address === address).length;
}

function options(uri: string, extra = ''): string {
  return `OPTIONS ${uri} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKopt${uri.length}\nMax-Forwards: 70\n`
    + `From: <sip:ping@127.0.0.2>;tag=ptag\nTo: <${uri}>\nCall-ID: opt-1\nCSeq: 1 OPTIONS\n${extra}Content-Length: 0\n\n`;
}

test('an out-of-dialog INVITE routed to us with a foreign Request-URI is not relayed: our Route removed, the app gets it', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKor1', 'call-1', 'Route: <sip:127.0.0.1:5060;lr>\n').replace('INVITE sip:bob@127.0.0.1:5060', `INVITE sip:+442071234567@${FOREIGN}:5060`));
  await flush();
  assert.equal(sentTo(h, FOREIGN), 0);
  assert.equal(h.hub.sips.length, 1);
  assert.doesNotMatch(h.hub.sips[0]!.sip, /\r\nRoute:/i);
  assert.match(h.hub.sips[0]!.sip, new RegExp(`^INVITE sip:\\+442071234567@${FOREIGN}:5060 `));
});

test('a Route naming another host on an out-of-dialog request is not followed, counted, and the app decides', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKor2', 'call-1', `Route: <sip:${FOREIGN}:5060;lr>\n`));
  await flush();
  assert.equal(sentTo(h, FOREIGN), 0);
  assert.equal(h.hub.sips.length, 1);
  assert.equal(h.core.stats().routeNotFollowed, 1);
});

test('Max-Forwards 0 on a request to the engine gets 483 with a Reason; the app never sees it', () => {
  const h = setup();
  h.fromNet(invite().replace('Max-Forwards: 70', 'Max-Forwards: 0'));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 483 Too Many Hops']);
  assert.equal(header(h.transport.last(), 'reason'), 'SIP;cause=483;text="Max-Forwards reached 0"');
  assert.equal(h.hub.sips.length, 0);
  assert.equal(h.core.stats().tooManyHops, 1);
});

test('the §16.6 copy: Max-Forwards decremented, 70 when absent, 483 at 0, our Route entries removed', () => {
  const req = (extra: string): SipRequest => parseAppText(`BYE sip:b@127.0.0.3 SIP/2.0\r\n${extra}Call-ID: x\r\n\r\n`) as SipRequest;
  const isOurs = (uri: string): boolean => uri.startsWith('sip:127.0.0.1');
  const one = forwardCopy(req('Max-Forwards: 1\r\nRoute: <sip:127.0.0.1;lr>, <sip:127.0.0.8;lr>\r\n'), { isOurs, keepRoutes: true });
  assert.ok(one.ok);
  assert.equal(header(one.request, 'max-forwards'), '0');
  assert.deepEqual(one.request.headers.filter((x) => x.name === 'route').map((x) => x.value), ['<sip:127.0.0.8;lr>']);
  const none = forwardCopy(req(''), { isOurs, keepRoutes: true });
  assert.ok(none.ok);
  assert.equal(header(none.request, 'max-forwards'), '70');
  const zero = forwardCopy(req('Max-Forwards: 0\r\n'), { isOurs, keepRoutes: true });
  assert.equal(zero.ok, false);
  assert.equal(!zero.ok && zero.refusal.status, 483);
  const dropped = forwardCopy(req('Max-Forwards: 5\r\nRoute: <sip:127.0.0.8;lr>\r\n'), { uri: 'sip:c@127.0.0.4', isOurs, keepRoutes: false });
  assert.ok(dropped.ok);
  assert.equal(dropped.request.uri, 'sip:c@127.0.0.4');
  assert.equal(header(dropped.request, 'route'), undefined);
});

test('OPTIONS without a user part is answered 200 by the engine with Allow, Accept and Supported; no app involved', () => {
  const h = setup();
  h.hub.apps.clear();
  h.fromNet(options('sip:127.0.0.1:5060'));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 200 OK']);
  const res = h.transport.last();
  assert.match(header(res, 'allow')!, /\bINVITE\b.*\bOPTIONS\b/);
  assert.equal(header(res, 'accept'), 'application/sdp');
  assert.ok(header(res, 'supported') !== undefined);
  assert.match(header(res, 'to')!, /;tag=/);
  assert.equal(h.hub.sips.length, 0);
  assert.equal(h.core.stats().optionsAnswered, 1);
});

test('OPTIONS for a user goes to the app like INVITE', () => {
  const h = setup();
  h.fromNet(options('sip:bob@127.0.0.1:5060'));
  assert.equal(h.transport.sent.length, 0);
  assert.equal(h.hub.sips.length, 1);
  assert.match(h.hub.sips[0]!.sip, /^OPTIONS sip:bob@/);
});

test('an INVITE without Contact gets 400 Missing Contact; one with a non-SIP Contact 400 Bad Contact; both with a Reason', () => {
  const h = setup();
  h.fromNet(invite().replace('Contact: <sip:alice@127.0.0.2:5070>\n', ''));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 400 Missing Contact']);
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=400;text="INVITE without Contact"$/);
  h.fromNet(invite('z9hG4bKbc').replace('Contact: <sip:alice@127.0.0.2:5070>', 'Contact: <tel:+15551234>'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 400 Bad Contact');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=400;/);
  assert.equal(h.hub.sips.length, 0);
  assert.equal(h.core.stats().badContact, 2);
});

test('the request gate never puts a request with an empty or unusable Request-URI on the wire, and counts it', async () => {
  assert.equal(requestUriProblem(''), 'empty Request-URI');
  assert.ok(requestUriProblem('sip:a b@c'));
  assert.ok(requestUriProblem('http://x'));
  assert.equal(requestUriProblem('sip:bob@127.0.0.1:5060;transport=tcp'), undefined);
  const h = setup();
  const gate = new RequestGate(h.transactions, undefined);
  const bye = parseAppText('BYE  SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n'
    + 'Call-ID: y\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n\r\n') as SipRequest;
  bye.uri = '';
  const user = { onResponse() {}, onTimeout() {}, onTransportError() {} };
  assert.throws(() => gate.sendRequest(bye, { target: { protocol: 'udp', address: '127.0.0.2', port: 5070 }, user }),
    (e: unknown) => (e as { code?: string }).code === 'ERR_ENGINE_REQUEST_URI_INVALID');
  await assert.rejects(gate.sendStateless({ ...bye, method: 'ACK' }, { protocol: 'udp', address: '127.0.0.2', port: 5070 }),
    (e: unknown) => (e as { code?: string }).code === 'ERR_ENGINE_REQUEST_URI_INVALID');
  await flush();
  assert.equal(h.transport.sent.length, 0);
  assert.equal(gate.refused, 2);
});

test('an INVITE no app answers gets 503 with a Reason at the answer time, the app a CANCEL, and the tables are freed', () => {
  const h = setup({ appAnswerTimeoutMs: 2_000 });
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  assert.equal(h.core.stats().serverPending, 1);
  h.clock.advance(2_000);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=503;text="no answer from the application within 2000 ms"$/);
  const cancel = h.hub.sips.at(-1)!;
  assert.match(cancel.sip, /^CANCEL /);
  assert.equal(cancel.meta.transactionId, txnId);
  const s = h.core.stats();
  assert.equal(s.serverPending, 0);
  assert.equal(s.invitesPending, 0);
  assert.equal(s.appNoAnswer, 1);
});

test('after a provisional the app has the final-answer time, then 503 and the early dialog ends', () => {
  const h = setup({ appAnswerTimeoutMs: 2_000, appFinalTimeoutMs: 60_000 });
  h.fromNet(invite());
  const txnId = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 180 Ringing\n\n', txnId);
  h.clock.advance(10_000);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 180 Ringing');
  assert.equal(h.core.stats().dialogs, 1);
  h.clock.advance(50_000);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.equal(h.core.stats().dialogs, 0);
  assert.equal(h.core.stats().serverPending, 0);
});

test('past the pending-request cap (less the reserve for calls up) a new INVITE gets 503 with Retry-After and a Reason, counted', () => {
  // A cap of 3 keeps one place for in-dialog requests (core-guard.ts): two new requests fit.
  const h = setup({ maxServerTransactions: 3 });
  h.fromNet(invite('z9hG4bKa', 'c1'));
  h.fromNet(invite('z9hG4bKb', 'c2'));
  h.fromNet(invite('z9hG4bKc', 'c3'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.equal(header(h.transport.last(), 'retry-after'), '5');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=503;text="limit of 3 requests waiting for an app reached"$/);
  assert.equal(h.hub.sips.length, 2);
  assert.equal(h.core.stats().serverTableFull, 1);
});

test('no app, or an app whose control connection is backed up: 503 with a Reason and Retry-After', () => {
  const h = setup();
  h.hub.backlog = true;
  h.fromNet(invite());
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.match(header(h.transport.last(), 'reason')!, /text="application overloaded"/);
  assert.equal(h.core.stats().appBacklog, 1);
  h.hub.backlog = false;
  h.hub.apps.clear();
  h.fromNet(invite('z9hG4bKna', 'c9'));
  assert.match(header(h.transport.last(), 'reason')!, /text="no application"/);
  assert.equal(header(h.transport.last(), 'retry-after'), '5');
  assert.equal(h.core.stats().noApp, 1);
});

test('when its app disconnects, a confirmed dialog gets a BYE with a Reason and a pending INVITE 503; nothing is left', async () => {
  const h = setup();
  h.fromNet(invite());
  const first = h.hub.sips[0]!.meta.transactionId;
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', first);
  h.fromNet(invite('z9hG4bKinv2', 'call-2'));
  assert.equal(h.core.stats().dialogs, 1);
  assert.equal(h.core.stats().serverPending, 1);
  h.hub.apps.clear();
  h.core.onAppDisconnected('app1');
  await flush();
  const bye = h.transport.sent.find((s) => s.text.startsWith('BYE '));
  assert.ok(bye, 'BYE sent to the caller');
  assert.equal(header(bye.msg, 'reason'), 'SIP;cause=503;text="application disconnected"');
  assert.ok(h.transport.starts().includes('SIP/2.0 503 Service Unavailable'));
  const s = h.core.stats();
  assert.equal(s.dialogs, 0);
  assert.equal(s.serverPending, 0);
  assert.equal(s.appGoneDialogsEnded, 1);
  assert.equal(s.appGoneRequestsAnswered, 1);
});

test('a new INVITE the engine refuses has its CDR: attempt, then stop with the status as cause', () => {
  const h = setup();
  h.fromNet(invite().replace('Max-Forwards: 70', 'Max-Forwards: 0'));
  assert.deepEqual(h.hub.cdrs.map((c) => [c.kind, c.fields[2]]), [['attempt', undefined], ['stop', 'refused-483']]);
});

test('an app that sends 100 Trying has claimed the INVITE: no 503 at the answer time, only at the final-answer time', () => {
  const h = setup({ appAnswerTimeoutMs: 1_000, appFinalTimeoutMs: 30_000 });
  h.fromNet(invite());
  h.fromApp('SIP/2.0 100 Trying\n\n', h.hub.sips[0]!.meta.transactionId);
  h.clock.advance(29_999);
  assert.equal(h.core.stats().serverPending, 1);
  assert.ok(!h.transport.starts().includes('SIP/2.0 503 Service Unavailable'));
  h.clock.advance(1);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.equal(h.core.stats().serverPending, 0);
});

test('a BYE relayed in a proxied dialog ends the engine record of it', async () => {
  const h = setup();
  h.fromNet(invite());
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'p', transactionId: txnId, remainInDialog: true, fullResponse: false, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.3:5080'], sip: 'INVITE sip:127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  await flush();
  const fwd = h.transport.sent.find((s) => s.target.address === '127.0.0.3')!.msg;
  const vias = fwd.headers.filter((x) => x.name === 'via').map((x) => `Via: ${x.value}`).join('\n');
  h.fromNet(`SIP/2.0 200 OK\n${vias}\nFrom: ${header(fwd, 'from')}\nTo: ${header(fwd, 'to')};tag=dtag\nCall-ID: call-1\nCSeq: 1 INVITE\nContact: <sip:b@127.0.0.3:5080>\nContent-Length: 0\n\n`,
    { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1' });
  assert.equal(h.core.stats().proxiedDialogs, 1);
  h.fromNet('BYE sip:b@127.0.0.3:5080 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbyeX\nRoute: <sip:127.0.0.1:5060;lr>\n'
    + 'Max-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=dtag\nCall-ID: call-1\nCSeq: 2 BYE\nContent-Length: 0\n\n');
  await flush();
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.3' && s.text.startsWith('BYE ')));
  assert.equal(h.core.stats().proxiedDialogs, 0);
});

test('the proxied-dialog record is bounded: the least recently used goes past the cap (counted), an idle one expires', async () => {
  const { ProxiedDialogs } = await import('../../../../src/engine/core/proxied-dialogs.js');
  const { ManualClock } = await import('../../../../src/common/clock.js');
  const clock = new ManualClock(0);
  const full: number[] = [];
  const t = new ProxiedDialogs({ clock, max: 2, idleMs: 1_000, onEvicted: (max) => full.push(max) });
  t.add('c1', 'a', 'b');
  t.add('c2', 'a', 'b');
  assert.equal(t.has('c1', 'b', 'a'), true, 'tags match in either order; a hit is a use');
  t.add('c3', 'a', 'b');
  assert.equal(t.size, 2);
  assert.equal(t.evicted, 1);
  assert.deepEqual(full, [2], 'the owner hears of it, for its log line');
  assert.equal(t.has('c2', 'a', 'b'), false, 'c2 was the least recently used');
  clock.advance(1_001);
  assert.equal(t.has('c1', 'a', 'b'), false, 'idle past its time');
});

test('a request the app sent that times out reaches the app as 408 with a Reason naming the target', async () => {
  const h = setup();
  h.fromApp('INVITE sip:bob@127.0.0.3:5080 SIP/2.0\nContent-Type: application/sdp\n\nv=0\r\n');
  await flush();
  assert.ok(h.transport.sent.some((s) => s.text.startsWith('INVITE sip:bob@127.0.0.3:5080')));
  h.clock.advance(40_000);
  await flush();
  const res = h.hub.sips.find((f) => f.sip.startsWith('SIP/2.0 408'));
  assert.ok(res, 'the app got a 408');
  assert.match(res.sip, /\r\nReason: SIP;cause=408;text="no answer from 127\.0\.0\.3:5080"\r\n/);
});

test('OPTIONS with Max-Forwards 0 is answered by the engine as its final recipient, even for a user', () => {
  const h = setup();
  h.fromNet(options('sip:bob@127.0.0.1:5060').replace('Max-Forwards: 70', 'Max-Forwards: 0'));
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 200 OK']);
  assert.equal(h.hub.sips.length, 0);
});

test('a re-INVITE with a non-SIP Contact gets 400 Bad Contact and the dialog keeps its target', () => {
  const h = setup();
  h.fromNet(invite());
  h.fromApp('SIP/2.0 200 OK\n\n', h.hub.sips[0]!.meta.transactionId);
  const toTag = /tag=([\w-]+)$/.exec(header(h.transport.last(), 'to')!)![1];
  h.fromNet(`ACK sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKack9\nFrom: <sip:alice@127.0.0.2>;tag=atag\n`
    + `To: <sip:bob@127.0.0.1>;tag=${toTag}\nCall-ID: call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n`);
  h.fromNet(invite('z9hG4bKre2').replace('To: <sip:bob@127.0.0.1>', `To: <sip:bob@127.0.0.1>;tag=${toTag}`).replace('1 INVITE', '2 INVITE')
    .replace('Contact: <sip:alice@127.0.0.2:5070>', 'Contact: <mailto:alice@example.com>'));
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 400 Bad Contact');
  assert.equal(h.hub.sips.filter((f) => f.sip.startsWith('INVITE ')).length, 1, 'the re-INVITE never reached the app');
});
