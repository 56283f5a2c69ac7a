// A request an app sends waits for its target's name to be looked up before it has a transaction (and a new INVITE
// before it has a dialog), so the app's disconnect cannot see it. When the lookup ends, a request whose app is gone
// is dropped (appGoneRequestsDropped, ERR_ENGINE_APP_GONE): nothing leaves the gateway for an app that left, and no
// dialog is left behind. One whose dialog ended meanwhile is answered NOK, as for a dialog the engine does not know.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { captureLog } from '../../../support/log-capture.js';
import { flush, header, invite, setup } from './core-harness.js';

/** A resolver whose answers the test gives: every lookup waits until `answer`. */
function heldLookup() {
  const waiting: ((address: string) => void)[] = [];
  return {
    fn: (_host: string) => new Promise<string>((r) => waiting.push(r)),
    get waiting(): number {
      return waiting.length;
    },
    answer(address: string): void {
      for (const r of waiting.splice(0)) r(address);
    },
  };
}

const newInvite = (callId: string): string =>
  `INVITE sip:bob@callee.example.com SIP/2.0\r\nFrom: <sip:a@localhost>\r\nContact: <sip:a@localhost>\r\nCall-ID: ${callId}\r\n\r\nv=0\r\n`;

test('a new INVITE whose app disconnects during the name lookup is dropped: not sent, no dialog, counted, one line', async () => {
  const capture = captureLog('warn');
  const names = heldLookup();
  const h = setup(undefined, { lookup: names.fn, log: capture.log });
  h.hub.apps.add('app2');
  h.core.onAppSip({ connId: 'app1', msgId: 'm1', transactionId: '', dialogId: '', sip: newInvite('b-leg-1') });
  h.core.onAppSip({ connId: 'app2', msgId: 'm2', transactionId: '', dialogId: '', sip: newInvite('b-leg-2') });
  await flush();
  assert.equal(names.waiting, 1, 'one lookup for the name, shared');
  assert.equal(h.core.stats().clientPending, 2);
  h.hub.apps.delete('app1');
  h.core.onAppDisconnected('app1');
  names.answer('192.0.2.55');
  await flush();
  // Only the INVITE of the app still connected leaves.
  assert.deepEqual(h.transport.sent.map((s) => [s.text.slice(0, s.text.indexOf('\r\n')), header(s.msg, 'call-id')]),
    [['INVITE sip:bob@callee.example.com SIP/2.0', 'b-leg-2']]);
  const s = h.core.stats();
  assert.equal(s.dialogs, 1, 'app2\'s dialog only');
  assert.equal(s.clientPending, 1);
  assert.equal(s.appGoneRequestsDropped, 1);
  assert.deepEqual(h.hub.replies.map((r) => [r.connId, r.fields[0]]), [['app2', 'OK']]);
  assert.equal(h.hub.cdrs.length, 1, 'one attempt CDR, app2\'s');
  const lines = capture.records.filter((r) => r['code'] === 'ERR_ENGINE_APP_GONE');
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]!['msg']), /^INVITE to callee\.example\.com not sent: its app app1 disconnected/);
});

/** An inbound call answered by app1, whose caller's Contact is a name: requests in its dialog need a lookup. */
async function answeredCall(h: ReturnType<typeof setup>): Promise<string> {
  h.fromNet(invite().replace('Contact: <sip:alice@127.0.0.2:5070>', 'Contact: <sip:alice@caller.example.com:5070>'));
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', h.hub.sips[0]!.meta.transactionId);
  const dialogId = h.hub.replies.at(-1)!.fields[8]!;
  const ok = h.transport.sent.find((s) => s.text.startsWith('SIP/2.0 200'))!.msg;
  h.fromNet(`ACK sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKack\nMax-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: ${header(ok, 'to')}\nCall-ID: call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n`);
  await flush();
  return dialogId;
}

test('a re-INVITE whose app disconnects during the lookup is dropped: only the engine\'s BYE leaves', async () => {
  const names = heldLookup();
  const h = setup(undefined, { lookup: names.fn });
  const dialogId = await answeredCall(h);
  const n = h.transport.sent.length;
  h.fromApp('INVITE sip:placeholder SIP/2.0\nContent-Type: application/sdp\n\nv=0\r\n', '', dialogId);
  await flush();
  assert.equal(names.waiting, 1);
  h.hub.apps.delete('app1');
  h.core.onAppDisconnected('app1');
  names.answer('192.0.2.66');
  await flush();
  assert.deepEqual(h.transport.starts(n), ['BYE sip:alice@caller.example.com:5070 SIP/2.0']);
  const s = h.core.stats();
  assert.deepEqual([s.dialogs, s.clientPending, s.appGoneRequestsDropped], [0, 0, 1]);
});

test('a request whose dialog ended during the lookup is not sent: NOK to the app still connected', async () => {
  const names = heldLookup();
  const h = setup(undefined, { lookup: names.fn });
  const dialogId = await answeredCall(h);
  const n = h.transport.sent.length;
  const infoId = h.fromApp('INFO sip:placeholder SIP/2.0\nContent-Type: application/dtmf-relay\n\nSignal=1\r\n', '', dialogId);
  await flush();
  // Meanwhile the caller hangs up and the app answers its BYE: the dialog is gone.
  h.fromNet(`BYE sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbye\nMax-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: ${header(h.transport.sent.find((s) => s.text.startsWith('SIP/2.0 200'))!.msg, 'to')}\nCall-ID: call-1\nCSeq: 2 BYE\nContent-Length: 0\n\n`);
  h.fromApp('SIP/2.0 200 OK\n\n', h.hub.sips.at(-1)!.meta.transactionId);
  assert.equal(h.core.stats().dialogs, 0);
  names.answer('192.0.2.66');
  await flush();
  assert.deepEqual(h.transport.starts(n), ['SIP/2.0 200 OK']);
  assert.deepEqual(h.hub.replies.find((r) => r.appMsgId === infoId)!.fields, ['NOK', `unable to find dialog for dialog id ${dialogId}`]);
  assert.equal(h.core.stats().appGoneRequestsDropped, 0);
  assert.equal(h.core.stats().clientPending, 0);
});

test('the ACK of an app that disconnects while its next hop is looked up is dropped; the engine\'s BYE ends the call', async () => {
  const names = heldLookup();
  const h = setup(undefined, { lookup: names.fn });
  h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  const heads = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((name) => `${name}: ${header(req, name.toLowerCase())}${name === 'To' ? ';tag=btag' : ''}`);
  // A route set naming a host: every request of the dialog, the ACK first, waits for that name.
  h.fromNet(`SIP/2.0 200 OK\n${heads.join('\n')}\nRecord-Route: <sip:edge.example.com;lr>\nContact: <sip:carol@127.0.0.3:5080>\nContent-Length: 0\n\n`, {
    protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1',
  });
  const n = h.transport.sent.length;
  h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId);
  await flush();
  assert.equal(names.waiting, 1);
  h.hub.apps.delete('app1');
  h.core.onAppDisconnected('app1');
  names.answer('192.0.2.77');
  await flush();
  assert.deepEqual(h.transport.starts(n), ['BYE sip:carol@127.0.0.3:5080 SIP/2.0']);
  assert.equal(h.transport.sent.at(-1)!.target.address, '192.0.2.77');
  assert.equal(h.core.stats().appGoneRequestsDropped, 1);
  assert.equal(h.core.stats().dialogs, 0);
});
