import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Dialog, DialogTable, dialogIdOf } from '../../../../src/sip/dialog/index.js';
import { getHeader, getHeaderValues, parseMessage, tagOf } from '../../../../src/sip/message/index.js';
import { collectGarbage, forceGc } from '../../../support/gc.js';

const base = { callId: 'c1', localUri: '<sip:a@x>;tag=L', remoteUri: '<sip:b@y>', localSeq: 10, localContact: '<sip:x>' };

test('the dialog id is callid;from-tag=<UAC tag> in both roles', () => {
  assert.equal(dialogIdOf('abc@h', 't1'), 'abc@h;from-tag=t1');
  assert.equal(new Dialog({ ...base, role: 'uac', localTag: 'L', remoteTag: 'R' }).id, 'c1;from-tag=L');
  assert.equal(new Dialog({ ...base, role: 'uas', localTag: 'L', remoteTag: 'R' }).id, 'c1;from-tag=R');
});

test('local CSeq counts up by one; an older remote CSeq is refused, ACK and CANCEL are exempt', () => {
  const d = new Dialog({ ...base, role: 'uac', localTag: 'L' });
  assert.equal(d.nextSeq(), 11);
  assert.equal(d.nextSeq(), 12);
  assert.equal(d.acceptRemoteSeq(5, 'INFO'), true);
  assert.equal(d.acceptRemoteSeq(4, 'INFO'), false);
  assert.equal(d.acceptRemoteSeq(1, 'ACK'), true);
  assert.equal(d.acceptRemoteSeq(6, 'BYE'), true);
});

test('the table finds a dialog by id, by Call-ID and, once the remote tag is known, by (Call-ID, local, remote)', () => {
  const t = new DialogTable();
  const d = new Dialog({ ...base, role: 'uac', localTag: 'L' });
  t.add(d);
  assert.equal(t.get('c1;from-tag=L'), d);
  assert.equal(t.byCallId('c1'), d);
  assert.equal(t.match('c1', 'L', 'R'), undefined);
  d.remoteTag = 'R';
  t.rekey(d);
  assert.equal(t.match('c1', 'L', 'R'), d);
  t.remove(d);
  assert.equal(t.get('c1;from-tag=L'), undefined);
  assert.equal(t.size, 0);
  assert.equal(t.match('c1', 'L', 'R'), undefined);
  assert.equal(t.byCallId('c1'), undefined);
});

test('a dialog keeps copies of what it took from a message, not the message: 200 dialogs from INVITEs with 20 KB headers hold well under their 4 MB', async () => {
  const pad = Array.from({ length: 4 }, (_, k) => `X-Pad-${k}: ${'x'.repeat(5_000)}\r\n`).join('');
  const kept: Dialog[] = [];
  forceGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) {
    const text = `INVITE sip:bob@127.0.0.3 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-${i}\r\nMax-Forwards: 70\r\n` +
      `From: "Alice Example" <sip:alice-the-caller@127.0.0.2>;tag=from-tag-value-${i}\r\nTo: <sip:bob-the-callee@127.0.0.3>\r\n` +
      `Call-ID: call-id-long-enough-${i}@127.0.0.2\r\nCSeq: 1 INVITE\r\nContact: <sip:alice-the-caller@127.0.0.2:5070;transport=udp>\r\n` +
      `Record-Route: <sip:proxy-one.example.net;lr>\r\nRecord-Route: <sip:proxy-two.example.net;lr>\r\n${pad}Content-Length: 0\r\n\r\n`;
    const parsed = parseMessage(Buffer.from(text, 'latin1'));
    assert.ok(parsed.ok);
    const m = parsed.message;
    const d = new Dialog({
      role: 'uas', callId: getHeader(m, 'call-id')!, localTag: `local-tag-${i}-abcdef`, remoteTag: tagOf(getHeader(m, 'from'))!,
      localUri: `${getHeader(m, 'to')!};tag=local-tag-${i}-abcdef`, remoteUri: getHeader(m, 'from')!, localSeq: 1, remoteSeq: 1,
      routeSet: getHeaderValues(m, 'record-route'), remoteTarget: getHeader(m, 'contact')!, localContact: '<sip:gw@127.0.0.1:5060>',
    });
    // Later updates from other messages are copied too.
    d.remoteTarget = getHeader(m, 'contact')!;
    d.remoteUri = getHeader(m, 'from')!;
    kept.push(d);
  }
  await collectGarbage();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(kept.length, 200);
  assert.equal(kept[7]!.callId, 'call-id-long-enough-7@127.0.0.2');
  assert.deepEqual(kept[7]!.routeSet, ['<sip:proxy-one.example.net;lr>', '<sip:proxy-two.example.net;lr>']);
  assert.ok(grown < 1_000_000, `200 dialogs hold ${grown} bytes of heap (the INVITEs' header text is 4 MB)`);
});
