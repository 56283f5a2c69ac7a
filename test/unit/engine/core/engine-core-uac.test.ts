import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, setup } from './core-harness.js';

function respond(h: ReturnType<typeof setup>, status: string, toTag: string | undefined, extra = ''): void {
  const req = h.transport.sent.find((s) => s.text.startsWith('INVITE '))!.msg;
  const lines = ['via', 'from', 'to', 'call-id', 'cseq'].map((n) => {
    const v = header(req, n)!;
    const name = n === 'call-id' ? 'Call-ID' : n === 'cseq' ? 'CSeq' : n[0]!.toUpperCase() + n.slice(1);
    return `${name}: ${n === 'to' && toTag ? `${v};tag=${toTag}` : v}`;
  });
  h.fromNet(`SIP/2.0 ${status}\n${lines.join('\n')}\n${extra}Content-Length: 0\n\n`, {
    protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1',
  });
}

async function placeCall(h: ReturnType<typeof setup>): Promise<string> {
  const msgId = h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  return msgId;
}

test('a new app INVITE is completed the way drachtio does and echoed with its transactionId', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const req = h.transport.last();
  assert.equal(req.kind === 'request' && req.uri, 'sip:carol@127.0.0.3:5080');
  assert.match(header(req, 'via')!, /^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;rport;branch=z9hG4bK\S+$/);
  assert.match(header(req, 'from')!, /^<sip:1234@127\.0\.0\.1:5060>;tag=\S+$/);
  assert.equal(header(req, 'to'), '<sip:carol@127.0.0.3:5080>');
  assert.equal(header(req, 'contact'), '<sip:1234@127.0.0.1:5060>');
  assert.equal(header(req, 'max-forwards'), '70');
  assert.equal(header(req, 'content-type'), 'application/sdp');
  assert.match(header(req, 'cseq')!, /^\d+ INVITE$/);
  assert.ok(header(req, 'call-id'));
  assert.deepEqual(h.transport.sent[0]!.target, { protocol: 'udp', address: '127.0.0.3', port: 5080, listenerId: 'udp-1' });
  const r = h.hub.replies.find((x) => x.appMsgId === msgId)!;
  assert.equal(r.fields.length, 10);
  assert.deepEqual([r.fields[0], r.fields[1], r.fields[3], r.fields[4], r.fields[5]], ['OK', 'application', 'udp', '127.0.0.1', '5060']);
  assert.match(r.fields[7]!, /^[0-9a-f]{16}-[0-9a-z]+$/);
  assert.deepEqual(r.fields.slice(8), ['Msg sent:', '']);
  assert.equal(Number(r.fields[2]), Buffer.byteLength(r.sip!));
  assert.equal(h.hub.cdrs[0]!.kind, 'attempt');
});

test('responses reach the app with its transactionId and the dialogId; the app ACK goes to the remote target with the INVITE CSeq', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  respond(h, '180 Ringing', 'btag');
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  assert.deepEqual(h.hub.sips.map((s) => [s.sip.slice(0, 15), s.meta.transactionId, s.meta.dialogId]), [
    ['SIP/2.0 180 Rin', txnId, dialogId],
    ['SIP/2.0 200 OK\r', txnId, dialogId],
  ]);
  const ackId = h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId);
  await flush();
  const ack = h.transport.last();
  assert.equal(ack.kind === 'request' && ack.method, 'ACK');
  assert.equal(ack.kind === 'request' && ack.uri, 'sip:carol@127.0.0.3:5080');
  assert.equal(header(ack, 'cseq'), `${Number.parseInt(header(req, 'cseq')!, 10)} ACK`);
  assert.equal(header(ack, 'to'), '<sip:carol@127.0.0.3:5080>;tag=btag');
  assert.equal(h.hub.replies.find((x) => x.appMsgId === ackId)!.fields[0], 'OK');
  assert.deepEqual(h.hub.cdrs.map((c) => c.kind), ['attempt', 'start']);
  // The peer retransmits its 2xx: the engine answers with the same ACK, the app sees nothing new.
  const n = h.transport.sent.length;
  const frames = h.hub.sips.length;
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  assert.deepEqual(h.transport.starts(n), [`ACK sip:carol@127.0.0.3:5080 SIP/2.0`]);
  assert.equal(h.hub.sips.length, frames);
  // A BYE from the app in this UAC dialog, then its 200 ends the dialog.
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', dialogId);
  await flush();
  assert.match(header(h.transport.last(), 'cseq')!, /BYE$/);
  assert.equal(h.core.stats().dialogs, 1);
});

test('a 100 Trying to an app INVITE stays with the engine: the app gets the 180 and the 200 only', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  respond(h, '100 Trying', undefined);
  assert.equal(h.hub.sips.length, 0);
  respond(h, '180 Ringing', 'btag');
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  assert.deepEqual(h.hub.sips.map((s) => [s.sip.slice(0, 15), s.meta.transactionId]), [
    ['SIP/2.0 180 Rin', txnId],
    ['SIP/2.0 200 OK\r', txnId],
  ]);
});

test('a failure is ACKed by the transaction layer; the ACK srf still sends gets NOK "automatically generated"', async () => {
  const h = setup();
  await placeCall(h);
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  respond(h, '486 Busy Here', 'btag');
  assert.doesNotMatch(h.hub.sips.at(-1)!.sip, /X-Trunkgate-Peer/i, 'the far end\'s own answer over UDP: no internal header');
  assert.match(h.transport.starts().at(-1)!, /^ACK /);
  assert.equal(h.hub.sips.at(-1)!.meta.dialogId, dialogId);
  const ackId = h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId);
  const r = h.hub.replies.find((x) => x.appMsgId === ackId)!;
  assert.equal(r.fields[0], 'NOK');
  assert.match(r.fields[1]!, /automatically generated/);
  assert.equal(h.core.stats().dialogs, 0);
  assert.equal(h.hub.cdrs.at(-1)!.fields[2], 'call-rejected');
});

test('no response: the app gets a 408 with its transactionId', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  h.clock.advance(32_000);
  const f = h.hub.sips.at(-1)!;
  assert.match(f.sip, /^SIP\/2\.0 408 /);
  assert.equal(f.meta.transactionId, txnId);
  // The app can tell the engine's own 408 from a far end's: the b2bua's CDR calls it a timeout.
  assert.match(f.sip, /\r\nX-Trunkgate-Peer: verified=0;transport=udp;origin=engine\r\n/);
});

test('the app CANCELs its INVITE: CANCEL on the wire with the INVITE branch, echo with a new transactionId; a 200 after it is ACKed and BYEd', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  respond(h, '180 Ringing', 'btag');
  const cancelId = h.fromApp('CANCEL sip:carol@127.0.0.3:5080 SIP/2.0\n\n', txnId);
  const cancel = h.transport.last();
  assert.equal(cancel.kind === 'request' && cancel.method, 'CANCEL');
  assert.equal(header(cancel, 'via'), header(h.transport.sent[0]!.msg, 'via'));
  const echo = h.hub.replies.find((x) => x.appMsgId === cancelId)!;
  assert.equal(echo.fields[0], 'OK');
  assert.notEqual(echo.fields[7], txnId);
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  await flush();
  await flush();
  const starts = h.transport.starts();
  assert.ok(starts.some((s) => s.startsWith('ACK ')), 'ACK sent');
  assert.ok(starts.some((s) => s.startsWith('BYE ')), 'BYE sent');
});

test('the app CANCELs before any provisional: echoed OK at once, on the wire only after the 180 (RFC 3261 §9.1)', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  const cancelId = h.fromApp('CANCEL sip:carol@127.0.0.3:5080 SIP/2.0\n\n', txnId);
  await flush();
  const cancels = (): string[] => h.transport.sent.filter((s) => s.text.startsWith('CANCEL ')).map((s) => s.text);
  assert.deepEqual(cancels(), [], 'no CANCEL before a provisional response');
  const echo = h.hub.replies.find((x) => x.appMsgId === cancelId)!;
  assert.equal(echo.fields[0], 'OK');
  respond(h, '180 Ringing', 'btag');
  assert.equal(cancels().length, 1);
  assert.equal(echo.sip, cancels()[0], 'the app was echoed the CANCEL that went out');
  respond(h, '183 Session Progress', 'btag');
  assert.equal(cancels().length, 1);
});

test('an INVITE the app CANCELled that never gets a final response: the app gets 408 64*T1 after the CANCEL, nothing lingers', async () => {
  const h = setup();
  const msgId = await placeCall(h);
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)!.fields[7]!;
  respond(h, '180 Ringing', 'btag');
  h.fromApp('CANCEL sip:carol@127.0.0.3:5080 SIP/2.0\n\n', txnId);
  await flush();
  h.clock.advance(32_000);
  await flush();
  const f = h.hub.sips.at(-1)!;
  assert.match(f.sip, /^SIP\/2\.0 408 /);
  assert.equal(f.meta.transactionId, txnId);
  assert.equal(h.transactions.stats().live.ict, 0);
});

test('a new request reusing the Call-ID of a dialog is sent inside that dialog', async () => {
  const h = setup();
  await placeCall(h);
  const req = h.transport.sent[0]!.msg;
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  h.fromApp(`INFO sip:carol@127.0.0.3:5080 SIP/2.0\nCall-ID: ${header(req, 'call-id')}\n\n`);
  await flush();
  const info = h.transport.last();
  assert.equal(header(info, 'to'), '<sip:carol@127.0.0.3:5080>;tag=btag');
  assert.equal(header(info, 'from'), header(req, 'from'));
});

test('a digest retry (same Call-ID and From tag, CSeq + 1) after a 407 is a new INVITE, not one inside the failed dialog', async () => {
  const h = setup();
  await placeCall(h);
  const req = h.transport.sent[0]!.msg;
  const seq = Number.parseInt(header(req, 'cseq')!, 10);
  respond(h, '407 Proxy Authentication Required', 'btag', 'Proxy-Authenticate: Digest realm="x", nonce="n"\n');
  const sentBefore = h.transport.sent.length;
  const retryId = h.fromApp(`INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nCall-ID: ${header(req, 'call-id')}\nFrom: ${header(req, 'from')}\n`
    + `CSeq: ${seq + 1} INVITE\nProxy-Authorization: Digest username="u"\n\n`);
  await flush();
  const retry = h.transport.sent.slice(sentBefore).map((s) => s.msg).find((m) => m.kind === 'request' && m.method === 'INVITE');
  assert.ok(retry, 'the retry went out');
  assert.equal(header(retry, 'to'), '<sip:carol@127.0.0.3:5080>', 'no To tag: a new dialog-creating request');
  assert.equal(header(retry, 'cseq'), `${seq + 1} INVITE`);
  assert.equal(header(retry, 'from'), header(req, 'from'));
  assert.notEqual(header(retry, 'via'), header(req, 'via'));
  assert.equal(h.hub.replies.find((x) => x.appMsgId === retryId)!.fields[0], 'OK');
  assert.equal(h.core.stats().dialogs, 1);
});

test('transport from ;transport=tcp, and a body that is not SDP without Content-Type is refused', async () => {
  const h = setup();
  h.fromApp('OPTIONS sip:carol@127.0.0.3:5080;transport=tcp SIP/2.0\n\n');
  await flush();
  assert.equal(h.transport.sent[0]!.target.protocol, 'tcp');
  assert.match(header(h.transport.last(), 'via')!, /^SIP\/2\.0\/TCP /);
  assert.equal(header(h.transport.last(), 'contact'), undefined);
  const bad = h.fromApp('MESSAGE sip:carol@127.0.0.3:5080 SIP/2.0\n\nhello');
  await flush();
  assert.deepEqual(h.hub.replies.find((x) => x.appMsgId === bad)!.fields, ['NOK', 'missing content-type']);
  const tls = h.fromApp('OPTIONS sips:carol@127.0.0.3:5081;transport=tls SIP/2.0\n\n');
  await flush();
  assert.deepEqual(h.hub.replies.find((x) => x.appMsgId === tls)!.fields, ['NOK', 'requested protocol/transport not available']);
});

test('a request to an IP literal is sent and echoed while its command is handled, so the echo leaves in the same write to the app as the replies to the frames read with it', async () => {
  const h = setup();
  const msgId = h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\n');
  // No await between: the app connection writes its replies when the frames of one read are handled.
  assert.equal(h.transport.sent.length, 1, 'the INVITE left at once');
  const txnId = h.hub.replies.find((x) => x.appMsgId === msgId)?.fields[7];
  assert.ok(txnId, 'and its echo was made at once');
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  await flush();
  const byeId = h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', dialogId);
  assert.match(header(h.transport.last(), 'cseq')!, /BYE$/, 'an in-dialog request to an IP literal leaves at once too');
  assert.equal(h.hub.replies.find((x) => x.appMsgId === byeId)?.fields[0], 'OK');
});

test('a request to a name waits for the resolver, then is sent and echoed', async () => {
  const h = setup();
  const msgId = h.fromApp('INVITE sip:carol@localhost:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\n');
  assert.equal(h.transport.sent.length, 0, 'not before the name is resolved');
  for (let i = 0; i < 50 && h.transport.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(h.transport.sent.length, 1);
  assert.match(h.transport.sent[0]!.target.address, /^(127\.0\.0\.1|::1)$/);
  assert.equal(h.hub.replies.find((x) => x.appMsgId === msgId)?.fields[0], 'OK');
});

test('an ACK and a BYE the app sends together leave in that order (drachtio-srf sends both at once when a B2BUA hangs up as it connects)', async () => {
  const h = setup();
  h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\n');
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  respond(h, '200 OK', 'btag', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  await flush();
  const n = h.transport.sent.length;
  h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId);
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', dialogId);
  assert.deepEqual(h.transport.starts(n).map((l) => l.split(' ')[0]), ['ACK', 'BYE']);
});
