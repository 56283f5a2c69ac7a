import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { SipMessage } from '../../../../src/sip/message/types.js';
import { flush, header, invite, setup, type SipRequest } from './core-harness.js';

const B1 = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1' };
const B2 = { ...B1, remoteAddress: '127.0.0.4' };

/** An INVITE from the network handed to the app, and the app's proxy command for it. */
async function proxied(h: ReturnType<typeof setup>, opts: { simultaneous?: boolean; fullResponse?: boolean; remainInDialog?: boolean; followRedirects?: boolean; dests: string[] }) {
  h.fromNet(invite());
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  const msgId = 'px1';
  h.core.onAppProxy({
    connId: 'app1', msgId, transactionId: txnId, remainInDialog: opts.remainInDialog ?? false, fullResponse: opts.fullResponse ?? true,
    followRedirects: opts.followRedirects ?? false, simultaneous: opts.simultaneous ?? false, provisionalTimeout: '', finalTimeout: '', destinations: opts.dests,
    sip: `INVITE ${opts.dests[0]} SIP/2.0\r\n\r\n`,
  });
  await flush();
  return msgId;
}

function forwardedTo(h: ReturnType<typeof setup>, address: string): SipRequest[] {
  return h.transport.sent.filter((s) => s.target.address === address && s.msg.kind === 'request' && s.msg.method === 'INVITE')
    .map((s) => s.msg as SipRequest);
}

/** The downstream answer to a forwarded request, with its Via stack as received. */
function answer(h: ReturnType<typeof setup>, req: SipMessage, status: string, flow = B1, toTag = 'dtag'): void {
  const vias = req.headers.filter((x) => x.name === 'via').map((x) => `Via: ${x.value}`).join('\n');
  h.fromNet(`SIP/2.0 ${status}\n${vias}\nFrom: ${header(req, 'from')}\nTo: ${header(req, 'to')};tag=${toTag}\nCall-ID: ${header(req, 'call-id')}\n`
    + `CSeq: ${header(req, 'cseq')}\nContact: <sip:b@${flow.remoteAddress}:5080>\nContent-Length: 0\n\n`, flow);
}

test('serial proxy: the request goes to the first destination with our Via on top, Max-Forwards - 1 and Record-Route', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'], remainInDialog: true });
  const [fwd] = forwardedTo(h, '127.0.0.3');
  assert.ok(fwd);
  assert.equal(fwd.uri, 'sip:127.0.0.3:5080');
  const vias = fwd.headers.filter((x) => x.name === 'via');
  assert.equal(vias.length, 2);
  assert.match(vias[0]!.value, /^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;rport;branch=z9hG4bK/);
  assert.equal(header(fwd, 'max-forwards'), '69');
  assert.equal(header(fwd, 'record-route'), '<sip:127.0.0.1:5060;lr>');
});

test('a 200 goes upstream without our Via, the app gets continue then done', async () => {
  const h = setup();
  const msgId = await proxied(h, { dests: ['sip:127.0.0.3:5080'] });
  const [fwd] = forwardedTo(h, '127.0.0.3');
  answer(h, fwd!, '200 OK');
  const up = h.transport.sent.filter((s) => s.target.address === '127.0.0.2' && s.text.startsWith('SIP/2.0 200')).at(-1)!.msg;
  assert.equal(up.headers.filter((x) => x.name === 'via').length, 1);
  assert.match(header(up, 'via')!, /branch=z9hG4bKinv1/);
  const replies = h.hub.replies.filter((r) => r.appMsgId === msgId).map((r) => r.fields);
  assert.equal(replies[0]![0], 'OK');
  assert.equal(replies[0]![9], 'continue');
  assert.deepEqual(replies.at(-1), ['OK', 'done']);
});

test('serial: a failure moves to the next destination; all failing sends the best response upstream and done', async () => {
  const h = setup();
  const msgId = await proxied(h, { dests: ['sip:127.0.0.3:5080', 'sip:127.0.0.4:5080'] });
  answer(h, forwardedTo(h, '127.0.0.3')[0]!, '503 Service Unavailable');
  await flush();
  const second = forwardedTo(h, '127.0.0.4')[0];
  assert.ok(second, 'second destination tried after the first failed');
  answer(h, second, '486 Busy Here', B2);
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && s.text.startsWith('SIP/2.0 486')), '486 (lowest class) upstream');
  assert.deepEqual(h.hub.replies.filter((r) => r.appMsgId === msgId).at(-1)!.fields, ['OK', 'done']);
});

test('simultaneous: both destinations at once; the first 200 wins and the other branch is CANCELled after its 180', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080', 'sip:127.0.0.4:5080'], simultaneous: true });
  const a = forwardedTo(h, '127.0.0.3')[0]!;
  const b = forwardedTo(h, '127.0.0.4')[0]!;
  assert.ok(a && b);
  answer(h, b, '180 Ringing', B2, 'btag');
  answer(h, a, '200 OK');
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.4' && s.text.startsWith('CANCEL ')));
});

test('the caller CANCELs: 200 to the CANCEL, CANCEL downstream, the 487 goes upstream', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'] });
  const fwd = forwardedTo(h, '127.0.0.3')[0]!;
  answer(h, fwd, '180 Ringing');
  h.fromNet(`CANCEL sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinv1;rport=5070;received=127.0.0.2\n`
    + 'Max-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>\nCall-ID: call-1\nCSeq: 1 CANCEL\nContent-Length: 0\n\n');
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && /^SIP\/2\.0 200 OK\r\n[\s\S]*CSeq: 1 CANCEL/.test(s.text)));
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.3' && s.text.startsWith('CANCEL ')));
  answer(h, fwd, '487 Request Terminated');
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && s.text.startsWith('SIP/2.0 487')));
});

test('an unknown transaction gets NOK', () => {
  const h = setup();
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px9', transactionId: 'nope', remainInDialog: false, fullResponse: true, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.3'], sip: 'INVITE sip:127.0.0.3 SIP/2.0\r\n\r\n',
  });
  assert.equal(h.hub.replies.at(-1)!.fields[0], 'NOK');
});

function byeFromA(h: ReturnType<typeof setup>, mf: number, route = 'Route: <sip:127.0.0.1:5060;lr>\n'): void {
  h.fromNet(`BYE sip:b@127.0.0.3:5080 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbye${mf}\n${route}`
    + `Max-Forwards: ${mf}\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=dtag\nCall-ID: call-1\nCSeq: ${2 + mf} BYE\nContent-Length: 0\n\n`);
}

test('in a dialog proxied with Record-Route, a request whose top Route is ours is relayed with that Route removed and Max-Forwards - 1', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'], remainInDialog: true });
  answer(h, forwardedTo(h, '127.0.0.3')[0]!, '200 OK');
  assert.equal(h.core.stats().proxiedDialogs, 1);
  byeFromA(h, 1);
  await flush();
  const bye = h.transport.sent.find((s) => s.target.address === '127.0.0.3' && s.text.startsWith('BYE '));
  assert.ok(bye, 'relayed to the Request-URI');
  assert.equal(header(bye.msg, 'route'), undefined);
  assert.equal(header(bye.msg, 'max-forwards'), '0');
  assert.equal(bye.msg.headers.filter((x) => x.name === 'via').length, 2);
  answer(h, bye.msg, '200 OK');
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && s.text.startsWith('SIP/2.0 200') && s.text.includes('BYE')));
  assert.equal(h.core.stats().relayedInDialog, 1);
});

test('in a proxied dialog a request goes only to the other side: a Route or Request-URI naming another host gets 403, counted', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'], remainInDialog: true });
  answer(h, forwardedTo(h, '127.0.0.3')[0]!, '200 OK');
  const elsewhere = () => h.transport.sent.filter((s) => s.target.address === '192.0.2.9').length;
  // The caller names a host of its own choosing in the Request-URI, then in a Route below ours.
  h.fromNet('INFO sip:victim@192.0.2.9:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKinfo1\nRoute: <sip:127.0.0.1:5060;lr>\n'
    + 'Max-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: <sip:bob@127.0.0.1>;tag=dtag\nCall-ID: call-1\nCSeq: 3 INFO\nContent-Length: 0\n\n');
  await flush();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 403 Forbidden');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=403;text="next hop is not the other side of the dialog"$/);
  byeFromA(h, 70, 'Route: <sip:127.0.0.1:5060;lr>, <sip:192.0.2.9;lr>\n');
  await flush();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 403 Forbidden');
  assert.equal(elsewhere(), 0, 'nothing went to the host the caller named');
  assert.equal(h.core.stats().relayRefused, 2);
  // The callee's own BYE to the caller's Contact goes through.
  h.fromNet('BYE sip:alice@127.0.0.2:5070 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.3:5080;branch=z9hG4bKbyeb\nRoute: <sip:127.0.0.1:5060;lr>\n'
    + 'Max-Forwards: 70\nFrom: <sip:bob@127.0.0.1>;tag=dtag\nTo: <sip:alice@127.0.0.2>;tag=atag\nCall-ID: call-1\nCSeq: 1 BYE\nContent-Length: 0\n\n', B1);
  await flush();
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && s.text.startsWith('BYE sip:alice@127.0.0.2:5070')), 'relayed to the caller');
  assert.equal(h.core.stats().relayedInDialog, 1);
});

test('in a proxied dialog, Max-Forwards 0 gets 483 with a Reason and is not relayed', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'], remainInDialog: true });
  answer(h, forwardedTo(h, '127.0.0.3')[0]!, '200 OK');
  const before = h.transport.sent.filter((s) => s.target.address === '127.0.0.3').length;
  byeFromA(h, 0);
  await flush();
  assert.equal(h.transport.sent.filter((s) => s.target.address === '127.0.0.3').length, before);
  const res = h.transport.last();
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 483 Too Many Hops');
  assert.match(header(res, 'reason')!, /^SIP;cause=483;text="/);
  assert.equal(h.core.stats().tooManyHops, 1);
});

test('a request naming us in its Route in a dialog nobody proxied is never relayed: 481', async () => {
  const h = setup();
  byeFromA(h, 70);
  await flush();
  assert.equal(h.transport.sent.filter((s) => s.target.address === '127.0.0.3').length, 0);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
});

test('without remainInDialog nothing is record-routed and no dialog is remembered', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:127.0.0.3:5080'] });
  const fwd = forwardedTo(h, '127.0.0.3')[0]!;
  assert.equal(header(fwd, 'record-route'), undefined);
  answer(h, fwd, '200 OK');
  assert.equal(h.core.stats().proxiedDialogs, 0);
});

test('a proxied new request follows the app destination, never a Route that came with it', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKr1', 'call-1', 'Route: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.9:5999;lr>\n'));
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px2', transactionId: txnId, remainInDialog: false, fullResponse: true, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.3:5080'], sip: 'INVITE sip:127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  await flush();
  assert.equal(h.transport.sent.filter((s) => s.target.address === '127.0.0.9').length, 0);
  const fwd = forwardedTo(h, '127.0.0.3')[0]!;
  assert.equal(header(fwd, 'route'), undefined);
});

test('a proxied INVITE with Max-Forwards 1 is forwarded with 0', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKmf0').replace('Max-Forwards: 70', 'Max-Forwards: 1'));
  const txnId = h.hub.sips.at(-1)!.meta.transactionId;
  h.core.onAppProxy({
    connId: 'app1', msgId: 'px3', transactionId: txnId, remainInDialog: false, fullResponse: true, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:127.0.0.3:5080'], sip: 'INVITE sip:127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  await flush();
  assert.equal(header(forwardedTo(h, '127.0.0.3')[0]!, 'max-forwards'), '0');
});

test('redirects: a URI already tried is not tried again (RFC 3261 §16.5), and one run tries at most 16 targets, the rest counted', async () => {
  const h = setup();
  await proxied(h, { dests: ['sip:a0@127.0.0.3:5080'], followRedirects: true });
  const invites = () => h.transport.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'INVITE' && s.target.address === '127.0.0.3');
  // Every target redirects to itself, to the first one and to two new URIs: without the rules this never ends.
  for (let round = 0; round < 40; round++) {
    const sent = invites();
    const last = sent.at(-1)!.msg as SipRequest;
    const n = sent.length;
    const vias = last.headers.filter((x) => x.name === 'via').map((x) => `Via: ${x.value}`).join('\n');
    h.fromNet(`SIP/2.0 302 Moved Temporarily\n${vias}\nFrom: ${header(last, 'from')}\nTo: ${header(last, 'to')};tag=r${round}\n`
      + `Call-ID: ${header(last, 'call-id')}\nCSeq: ${header(last, 'cseq')}\nContact: <${last.uri}>, <sip:a0@127.0.0.3:5080>, `
      + `<sip:a${2 * n}@127.0.0.3:5080>, <sip:a${2 * n + 1}@127.0.0.3:5080>\nContent-Length: 0\n\n`, B1);
    await flush();
    if (invites().length === n) break;
  }
  const uris = invites().map((s) => (s.msg as SipRequest).uri);
  assert.equal(uris.length, 16, 'sixteen targets tried, then no more');
  assert.equal(new Set(uris).size, 16, 'none twice');
  assert.ok((h.core.stats()['proxyTargetsRefused'] ?? 0) > 0, 'the Contacts past the limit are counted');
  assert.ok(h.transport.sent.some((s) => s.target.address === '127.0.0.2' && s.text.startsWith('SIP/2.0 302')), 'the best answer went upstream');
});
