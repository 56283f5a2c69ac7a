import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answer, header, sdp, ua } from '../support/mini-ua.js';
import { startGateway } from '../../src/gateway.js';

test('npm start composition: engine in a worker thread, b2bua in this one; a call goes through end to end', async (t) => {
  const uas = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (msg.startsWith('BYE ')) self.send(answer(msg, '200 OK', self.port), from);
  });
  const gw = await startGateway({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'gw-test-secret' },
    target: `127.0.0.1:${uas.port}`,
    logLevel: 'silent',
  });
  t.after(() => gw.close());
  const sipPort = gw.addresses.sip[0]!.port;
  assert.ok(sipPort > 0);
  assert.match(gw.b2bua.hostport, new RegExp(`udp/127\\.0\\.0\\.1:${sipPort}`));

  const uac = await ua(t);
  const callId = `gw-call-${process.pid}`;
  const common = (branch: string, cseq: string, toTag = '') => [
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK${branch};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=uac1`, `To: <sip:2000@127.0.0.1:${sipPort}>${toTag}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq}`, `Contact: <sip:1000@127.0.0.1:${uac.port}>`];
  uac.send([`INVITE sip:2000@127.0.0.1:${sipPort} SIP/2.0`, ...common('inv1', '1 INVITE'), 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const ok = await uac.next(/^SIP\/2\.0 [2-6]\d\d .*\r\n[\s\S]*CSeq:\s*1 INVITE/im);
  assert.match(ok, /^SIP\/2\.0 200 /);
  const toTag = /;tag=([^;>\s]+)/.exec(header(ok, 'To'))![1]!;
  // The B leg as the far end saw it: its INVITE, then an ACK in the same dialog (the gateway confirmed it).
  const bInvite = await uas.next(/^INVITE /);
  const bCallId = header(bInvite, 'Call-ID');
  assert.notEqual(bCallId, callId, 'the B leg is a dialog of its own');
  const bAck = await uas.next(/^ACK /);
  assert.equal(header(bAck, 'Call-ID'), bCallId, 'the B leg was acknowledged');
  uac.send([`ACK sip:2000@127.0.0.1:${sipPort} SIP/2.0`, ...common('ack1', '1 ACK', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), sipPort);
  uac.send([`BYE sip:2000@127.0.0.1:${sipPort} SIP/2.0`, ...common('bye1', '2 BYE', `;tag=${toTag}`), 'Content-Length: 0', '', ''].join('\r\n'), sipPort);
  const byeOk = await uac.next(/^SIP\/2\.0 \d+ [\s\S]*CSeq:\s*2 BYE/im);
  assert.match(byeOk, /^SIP\/2\.0 200 /);
  // The A leg's BYE reached the far end as a BYE of the B leg (answered 200 by the handler above).
  const bBye = await uas.next(/^BYE /);
  assert.equal(header(bBye, 'Call-ID'), bCallId, 'the far end got the B leg\'s BYE');
  assert.match(header(bBye, 'CSeq'), /^\d+ BYE$/);
  const stats = gw.b2bua.stats();
  assert.equal(stats.connected, 1);

  await Promise.all([gw.close(), gw.close()]);
});
