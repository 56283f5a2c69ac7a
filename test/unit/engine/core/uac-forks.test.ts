import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, header, setup } from './core-harness.js';

const FORK = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1' };

/** A response to the app's INVITE from the far end, with `toTag` and any `extra` header lines. */
function respond(h: ReturnType<typeof setup>, status: string, toTag: string, extra = ''): void {
  const req = h.transport.sent.find((s) => s.text.startsWith('INVITE '))!.msg;
  const lines = ['via', 'from', 'to', 'call-id', 'cseq'].map((n) => {
    const v = header(req, n)!;
    const name = n === 'call-id' ? 'Call-ID' : n === 'cseq' ? 'CSeq' : n[0]!.toUpperCase() + n.slice(1);
    return `${name}: ${n === 'to' ? `${v};tag=${toTag}` : v}`;
  });
  h.fromNet(`SIP/2.0 ${status}\n${lines.join('\n')}\n${extra}Content-Length: 0\n\n`, FORK);
}

async function placeCall(h: ReturnType<typeof setup>): Promise<{ dialogId: string; seq: number; callId: string; fromTag: string }> {
  h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  const req = h.transport.sent[0]!.msg;
  const callId = header(req, 'call-id')!;
  const fromTag = /tag=(\S+)$/.exec(header(req, 'from')!)![1]!;
  return { dialogId: `${callId};from-tag=${fromTag}`, seq: Number.parseInt(header(req, 'cseq')!, 10), callId, fromTag };
}

function byeFromFar(h: ReturnType<typeof setup>, call: { callId: string; fromTag: string }, farTag: string): void {
  h.fromNet(`BYE sip:1234@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.3:5080;branch=z9hG4bKbye${farTag}\nMax-Forwards: 70\n`
    + `From: <sip:carol@127.0.0.3:5080>;tag=${farTag}\nTo: <sip:1234@127.0.0.1:5060>;tag=${call.fromTag}\nCall-ID: ${call.callId}\nCSeq: 5 BYE\nContent-Length: 0\n\n`, FORK);
}

test('an early dialog with one fork, answered by another: the ACK and later requests carry the answering fork\'s tag', async () => {
  const h = setup();
  const call = await placeCall(h);
  respond(h, '183 Session Progress', 'early1', 'Contact: <sip:ann@127.0.0.3:5080>\n');
  respond(h, '200 OK', 'ans2', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', call.dialogId);
  await flush();
  const ack = h.transport.last();
  assert.equal(ack.kind === 'request' && ack.method, 'ACK');
  assert.equal(header(ack, 'to'), '<sip:carol@127.0.0.3:5080>;tag=ans2');
  // The far end's BYE names the confirmed dialog by the answering fork's tag: it reaches the app.
  byeFromFar(h, call, 'ans2');
  assert.match(h.hub.sips.at(-1)!.sip, /^BYE /);
  assert.equal(h.hub.sips.at(-1)!.meta.dialogId, call.dialogId);
  // The early fork's tag no longer names any dialog: 481 at the edge, the app not told.
  const frames = h.hub.sips.length;
  const sent = h.transport.sent.length;
  byeFromFar(h, call, 'early1');
  assert.equal(h.hub.sips.length, frames);
  assert.deepEqual(h.transport.starts(sent), ['SIP/2.0 481 Call/Transaction Does Not Exist']);
});

test('a 2xx of a second fork is ACKed and ended by the engine; the app sees one answer; more forks than the bound are dropped', async () => {
  const h = setup();
  const call = await placeCall(h);
  respond(h, '200 OK', 'forkA', 'Contact: <sip:carol@127.0.0.3:5080>\n');
  const frames = h.hub.sips.length;
  let n = h.transport.sent.length;
  respond(h, '200 OK', 'forkB', 'Contact: <sip:dave@127.0.0.4:5090>\nRecord-Route: <sip:127.0.0.5:5060;lr>\n');
  await flush();
  assert.equal(h.hub.sips.length, frames, 'the app sees only the first fork\'s 2xx');
  const [ack, bye] = h.transport.sent.slice(n);
  assert.ok(ack && bye, 'an ACK and a BYE went out');
  assert.equal(ack.msg.kind === 'request' && ack.msg.uri, 'sip:dave@127.0.0.4:5090');
  assert.equal(header(ack.msg, 'to')!.endsWith(';tag=forkB'), true);
  assert.equal(header(ack.msg, 'cseq'), `${call.seq} ACK`);
  assert.equal(header(ack.msg, 'route'), '<sip:127.0.0.5:5060;lr>');
  assert.equal(bye.msg.kind === 'request' && bye.msg.method, 'BYE');
  assert.equal(header(bye.msg, 'cseq'), `${call.seq + 1} BYE`);
  assert.match(header(bye.msg, 'reason')!, /^SIP;cause=200;text="Call answered by another fork"$/);
  assert.deepEqual([ack.target.address, ack.target.port, bye.target.address], ['127.0.0.3', 5080, '127.0.0.3'], 'to where the 2xx came from');
  // Its retransmission gets the same ACK, no second BYE; the app's own dialog keeps its fork's tag.
  n = h.transport.sent.length;
  respond(h, '200 OK', 'forkB', 'Contact: <sip:dave@127.0.0.4:5090>\n');
  assert.deepEqual(h.transport.sent.slice(n).map((s) => s.text), [ack.text]);
  h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', call.dialogId);
  await flush();
  assert.equal(header(h.transport.last(), 'to')!.endsWith(';tag=forkA'), true);
  // Three more forks are ended; the one after them is dropped and counted.
  for (const tag of ['forkC', 'forkD', 'forkE', 'forkF']) respond(h, '200 OK', tag, 'Contact: <sip:x@127.0.0.3:5080>\n');
  await flush();
  const stats = h.core.stats();
  assert.equal(stats['forkAnswersEnded'], 4);
  assert.equal(stats['forkAnswersDropped'], 1);
  assert.equal(h.transport.sent.filter((s) => s.text.startsWith('BYE ')).length, 4);
  assert.equal(h.hub.sips.length, frames);
});
