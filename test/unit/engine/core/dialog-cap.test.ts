import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { header, invite, setup } from './core-harness.js';

function subscribe(branch: string, callId: string): string {
  return `SUBSCRIBE sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch}\nMax-Forwards: 70\n`
    + `From: <sip:alice@127.0.0.2>;tag=stag\nTo: <sip:bob@127.0.0.1>\nCall-ID: ${callId}\nCSeq: 1 SUBSCRIBE\n`
    + 'Contact: <sip:alice@127.0.0.2:5070>\nEvent: presence\nExpires: 60\nContent-Length: 0\n\n';
}

const appInvite = (host: string): string => `INVITE sip:carol@${host} SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\n`;

function replyTo(h: ReturnType<typeof setup>, msgId: string): string | undefined {
  return h.hub.replies.find((r) => r.appMsgId === msgId)?.fields[0];
}

test('INVITEs waiting for their app hold a place under maxDialogs: the third of three gets 503 with Retry-After, counted', () => {
  const h = setup({ maxDialogs: 2 });
  h.fromNet(invite('z9hG4bKa', 'c1'));
  h.fromNet(invite('z9hG4bKb', 'c2'));
  h.fromNet(invite('z9hG4bKc', 'c3'));
  assert.equal(h.hub.sips.length, 2, 'only two reach the app');
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  assert.equal(header(h.transport.last(), 'retry-after'), '5');
  assert.match(header(h.transport.last(), 'reason')!, /^SIP;cause=503;text="limit of 2 dialogs reached"$/);
  assert.equal(h.core.stats().dialogTableFull, 1);
});

test('a SUBSCRIBE waiting for its app is held like an INVITE', () => {
  const h = setup({ maxDialogs: 1 });
  h.fromNet(subscribe('z9hG4bKs1', 's1'));
  h.fromNet(invite('z9hG4bKa', 'c1'));
  assert.equal(h.hub.sips.length, 1);
  assert.equal(h.core.stats().dialogTableFull, 1);
});

test('a place held is counted once: when the answer makes the dialog, and freed when the request ends without one', () => {
  const h = setup({ maxDialogs: 2 });
  h.fromNet(invite('z9hG4bKa', 'c1'));
  h.fromNet(invite('z9hG4bKb', 'c2'));
  const [first, second] = h.hub.sips.map((s) => s.meta.transactionId);
  h.fromApp('SIP/2.0 180 Ringing\n\n', first);
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', first);
  assert.equal(h.core.stats().dialogs, 1);
  h.fromNet(invite('z9hG4bKc', 'c3'));
  assert.equal(h.core.stats().dialogTableFull, 1, 'one dialog and one INVITE under way fill a cap of 2');
  h.fromApp('SIP/2.0 486 Busy Here\n\n', second);
  h.fromNet(invite('z9hG4bKd', 'c4'));
  assert.equal(h.hub.sips.length, 3, 'the rejected INVITE gave its place back');
  assert.equal(h.core.stats().dialogTableFull, 1);
});

test('a proxied INVITE makes no dialog of the engine and gives its place back', () => {
  const h = setup({ maxDialogs: 1 });
  h.fromNet(invite('z9hG4bKa', 'c1'));
  h.core.onAppProxy({
    connId: 'app1', msgId: 'p1', transactionId: h.hub.sips[0]!.meta.transactionId, remainInDialog: false, fullResponse: true,
    followRedirects: false, simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:carol@127.0.0.3:5080'],
    sip: 'INVITE sip:carol@127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  h.fromNet(invite('z9hG4bKb', 'c2'));
  assert.equal(h.hub.sips.length, 2);
  assert.equal(h.core.stats().dialogTableFull, 0);
});

test('an app INVITE is refused (NOK, counted) while network INVITEs under way fill maxDialogs', () => {
  const h = setup({ maxDialogs: 1 });
  h.fromNet(invite('z9hG4bKa', 'c1'));
  const msgId = h.fromApp(appInvite('127.0.0.3:5080'));
  assert.equal(replyTo(h, msgId), 'NOK');
  assert.equal(h.core.stats().dialogTableFull, 1);
});

test('app INVITEs to a name being looked up hold their places: the third of three under maxDialogs 2 gets NOK', async () => {
  const h = setup({ maxDialogs: 2 });
  const ids = [h.fromApp(appInvite('localhost:5080')), h.fromApp(appInvite('localhost:5080')), h.fromApp(appInvite('localhost:5080'))];
  assert.equal(replyTo(h, ids[2]!), 'NOK', 'refused before the lookup ends');
  for (let i = 0; i < 50 && h.transport.sent.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(ids.map((id) => replyTo(h, id)), ['OK', 'OK', 'NOK']);
  assert.equal(h.core.stats().dialogs, 2);
  assert.equal(h.core.stats().dialogTableFull, 1);
});
