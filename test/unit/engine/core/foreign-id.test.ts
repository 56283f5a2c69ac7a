// A transaction or dialog belongs to the app it was offered to or that made it. Another app naming it (ids are a
// per-process prefix and a counter, so guessable) gets the NOK an unknown id gets, and nothing is touched: not the
// request, not the call, not the count of unanswered INVITEs. Counted (foreignIdRefused), one line
// (ERR_ENGINE_FOREIGN_ID).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { AppProxyCommand } from '../../../../src/engine/types.js';
import { captureLog } from '../../../support/log-capture.js';
import { flush, header, invite, setup } from './core-harness.js';

type Harness = ReturnType<typeof setup>;

function twoApps(log = captureLog('warn')) {
  const h = setup(undefined, { log: log.log });
  h.hub.apps.add('app2');
  let n = 0;
  /** A `sip` command from app2; its reply's fields. */
  const fromApp2 = async (sip: string, transactionId = '', dialogId = ''): Promise<string[] | undefined> => {
    const msgId = `x${++n}`;
    h.core.onAppSip({ connId: 'app2', msgId, transactionId, dialogId, sip: sip.replace(/\n/g, '\r\n') });
    await flush();
    return h.hub.replies.find((r) => r.connId === 'app2' && r.appMsgId === msgId)?.fields;
  };
  return { h, log, fromApp2 };
}

/** An inbound INVITE, offered to app1; its transactionId. */
function offered(h: Harness): string {
  h.fromNet(invite());
  const frame = h.hub.sips.at(-1)!;
  assert.equal(frame.connId, 'app1');
  return frame.meta.transactionId;
}

/** An inbound call answered and ACKed by app1; its dialogId. */
function answered(h: Harness): string {
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', offered(h));
  const dialogId = h.hub.replies.at(-1)!.fields[8]!;
  const ok = h.transport.sent.find((s) => s.text.startsWith('SIP/2.0 200'))!.msg;
  h.fromNet(`ACK sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKack\nMax-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: ${header(ok, 'to')}\nCall-ID: call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n`);
  return dialogId;
}

test('a response from another app to an offered request: NOK as unknown, nothing sent, the INVITE still unanswered', async () => {
  const { h, log, fromApp2 } = twoApps();
  const txnId = offered(h);
  assert.equal(h.core.stats().invitesUnanswered, 1);
  assert.deepEqual(await fromApp2('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', txnId), ['NOK', 'Response not sent due to unknown transaction']);
  assert.deepEqual(await fromApp2('SIP/2.0 180 Ringing\n\n', txnId), ['NOK', 'Response not sent due to unknown transaction']);
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying']);
  assert.equal(h.core.stats().invitesUnanswered, 1, 'still counted as unanswered: app2 answered nothing');
  assert.equal(h.core.stats().dialogs, 0);
  assert.equal(h.core.stats().foreignIdRefused, 2);
  const lines = log.records.filter((r) => r['code'] === 'ERR_ENGINE_FOREIGN_ID');
  assert.equal(lines.length, 1, 'rate-limited: one line per code');
  assert.match(String(lines[0]!['msg']), /app2 named one of app1/);
  // Its own app answers it as ever.
  h.fromApp('SIP/2.0 200 OK\nContent-Type: application/sdp\n\nv=0\r\n', txnId);
  assert.deepEqual(h.transport.starts(1), ['SIP/2.0 200 OK']);
  assert.equal(h.hub.replies.at(-1)!.connId, 'app1');
  assert.equal(h.hub.replies.at(-1)!.fields[0], 'OK');
});

test('a request in another app\'s dialog (BYE, re-INVITE) is refused as for an unknown dialog; the call goes on', async () => {
  const { h, fromApp2 } = twoApps();
  const dialogId = answered(h);
  const n = h.transport.sent.length;
  const unknown = ['NOK', `unable to find dialog for dialog id ${dialogId}`];
  assert.deepEqual(await fromApp2('BYE sip:placeholder SIP/2.0\n\n', '', dialogId), unknown);
  assert.deepEqual(await fromApp2('INVITE sip:placeholder SIP/2.0\nContent-Type: application/sdp\n\nv=0\r\n', '', dialogId), unknown);
  assert.deepEqual(h.transport.starts(n), []);
  assert.equal(h.core.stats().dialogs, 1);
  assert.equal(h.core.stats().foreignIdRefused, 2);
  // Its owner still ends it.
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', dialogId);
  await flush();
  assert.deepEqual(h.transport.starts(n), ['BYE sip:alice@127.0.0.2:5070 SIP/2.0']);
});

test('a response from another app to a request inside a dialog: NOK as unknown; the dialog\'s owner answers it', async () => {
  const { h, fromApp2 } = twoApps();
  answered(h);
  const ok = h.transport.sent.find((s) => s.text.startsWith('SIP/2.0 200'))!.msg;
  h.fromNet(`BYE sip:bob@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKbye\nMax-Forwards: 70\nFrom: <sip:alice@127.0.0.2>;tag=atag\nTo: ${header(ok, 'to')}\nCall-ID: call-1\nCSeq: 2 BYE\nContent-Length: 0\n\n`);
  const bye = h.hub.sips.at(-1)!;
  assert.equal(bye.connId, 'app1');
  const n = h.transport.sent.length;
  assert.deepEqual(await fromApp2('SIP/2.0 200 OK\n\n', bye.meta.transactionId), ['NOK', 'Response not sent due to unknown transaction']);
  assert.deepEqual(h.transport.starts(n), []);
  assert.equal(h.core.stats().foreignIdRefused, 1);
  h.fromApp('SIP/2.0 200 OK\n\n', bye.meta.transactionId);
  assert.deepEqual(h.transport.starts(n), ['SIP/2.0 200 OK']);
});

test('another app\'s ACK or CANCEL of an app\'s outgoing INVITE is refused as unknown; nothing is sent', async () => {
  const { h, fromApp2 } = twoApps();
  const msgId = h.fromApp('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:1234@localhost>\nContact: <sip:1234@localhost>\n\nv=0\r\n');
  await flush();
  const txnId = h.hub.replies.find((r) => r.appMsgId === msgId)!.fields[7]!;
  const req = h.transport.sent[0]!.msg;
  const dialogId = `${header(req, 'call-id')};from-tag=${/tag=(\S+)$/.exec(header(req, 'from')!)![1]}`;
  assert.deepEqual(await fromApp2('CANCEL sip:carol@127.0.0.3:5080 SIP/2.0\n\n', txnId), ['NOK', `unable to find transaction ${txnId} to cancel`]);
  const heads = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((name) => `${name}: ${header(req, name.toLowerCase())}${name === 'To' ? ';tag=btag' : ''}`);
  h.fromNet(`SIP/2.0 200 OK\n${heads.join('\n')}\nContact: <sip:carol@127.0.0.3:5080>\nContent-Length: 0\n\n`, {
    protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.3', remotePort: 5080, listenerId: 'udp-1',
  });
  assert.deepEqual(await fromApp2('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId), ['NOK', `unable to find dialog for dialog id ${dialogId}`]);
  assert.deepEqual(h.transport.starts(1), []);
  assert.equal(h.core.stats().foreignIdRefused, 2);
  // The 2xx still waits for its own app's ACK.
  h.fromApp('ACK sip:carol@127.0.0.3:5080 SIP/2.0\n\n', '', dialogId);
  await flush();
  assert.deepEqual(h.transport.starts(1), ['ACK sip:carol@127.0.0.3:5080 SIP/2.0']);
});

test('another app\'s proxy of an offered request is refused as unknown; its own app may still proxy it', async () => {
  const { h } = twoApps();
  const txnId = offered(h);
  const proxy = (connId: string, msgId: string): AppProxyCommand => ({
    connId, msgId, transactionId: txnId, remainInDialog: false, fullResponse: true, followRedirects: false,
    simultaneous: false, provisionalTimeout: '', finalTimeout: '', destinations: ['sip:carol@127.0.0.3:5080'],
    sip: 'INVITE sip:carol@127.0.0.3:5080 SIP/2.0\r\n\r\n',
  });
  h.core.onAppProxy(proxy('app2', 'p2'));
  await flush();
  assert.deepEqual(h.hub.replies.find((r) => r.appMsgId === 'p2')?.fields, ['NOK', `unable to find transaction ${txnId} to proxy`]);
  assert.deepEqual(h.transport.starts(), ['SIP/2.0 100 Trying']);
  assert.equal(h.core.stats().invitesUnanswered, 1);
  assert.equal(h.core.stats().foreignIdRefused, 1);
  h.core.onAppProxy(proxy('app1', 'p1'));
  await flush();
  assert.deepEqual(h.transport.starts(1), ['INVITE sip:carol@127.0.0.3:5080 SIP/2.0']);
});

test('a new request with the Call-ID of another app\'s dialog is a new request, never sent inside that dialog', async () => {
  const { h, fromApp2 } = twoApps();
  const dialogId = answered(h);
  const n = h.transport.sent.length;
  // Fresh From tag: a request of its own, to where app2 sends it; app1's dialog is not used.
  const ok = await fromApp2('OPTIONS sip:carol@127.0.0.3:5080 SIP/2.0\nCall-ID: call-1\n\n');
  assert.equal(ok?.[0], 'OK');
  assert.deepEqual(h.transport.starts(n), ['OPTIONS sip:carol@127.0.0.3:5080 SIP/2.0']);
  assert.equal(h.transport.sent.at(-1)!.target.address, '127.0.0.3');
  assert.doesNotMatch(header(h.transport.last(), 'to')!, /tag=atag/);
  // The Call-ID and From tag of app1's dialog: refused, it may not take that dialog's place.
  const taken = await fromApp2('INVITE sip:carol@127.0.0.3:5080 SIP/2.0\nFrom: <sip:x@localhost>;tag=atag\nCall-ID: call-1\nContact: <sip:x@localhost>\n\nv=0\r\n');
  assert.deepEqual(taken, ['NOK', 'a dialog with this Call-ID and From tag exists']);
  assert.deepEqual(h.transport.starts(n + 1), []);
  assert.equal(h.core.stats().foreignIdRefused, 1);
  // app1's dialog is whole: its owner's BYE goes to the caller.
  h.fromApp('BYE sip:placeholder SIP/2.0\n\n', '', dialogId);
  await flush();
  assert.deepEqual(h.transport.starts(n + 1), ['BYE sip:alice@127.0.0.2:5070 SIP/2.0']);
});
