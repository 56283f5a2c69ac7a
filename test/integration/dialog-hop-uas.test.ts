/**
 * A call the app answered (a UAS dialog) whose caller Record-Routes through the gateway's own listener: the app's
 * BYE is not sent to the gateway itself but to where the caller's INVITE came from, and the refused hop is counted,
 * as for a dialog the engine placed (dialog-hop-loopback.test.ts). Real engine, real drachtio-srf app, all on loopback.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, answer, header, relayRig, until, type Rig } from './engine-relay-support.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

interface UasDialog { destroy(): Promise<void> }
let rig: Rig;
let caller: Peer;
const dialogs: UasDialog[] = [];

before(async () => {
  caller = await Peer.open('127.0.0.2');
  caller.onMessage = (m, from) => {
    if (m.startsWith('BYE ')) caller.send(answer(m, '200 OK', 'callertag'), from.port, from.address);
  };
  rig = await relayRig((srf) => {
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).then((d) => dialogs.push(d as UasDialog)));
  });
});

after(async () => {
  await rig?.close();
  caller?.close();
});

test('the app\'s BYE in a dialog whose caller Record-Routes through the gateway itself goes to the caller, counted', async () => {
  const before = rig.stats();
  const callId = 'uas-hop@127.0.0.2';
  const via = `SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bKuashop1;rport`;
  caller.send(`INVITE sip:1000@127.0.0.1:${rig.sipPort} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\n`
    + `Record-Route: <sip:127.0.0.1:${rig.sipPort};lr>\r\nFrom: <sip:a@127.0.0.2>;tag=callertag\r\nTo: <sip:1000@127.0.0.1>\r\n`
    + `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.2:${caller.port}>\r\nContent-Type: application/sdp\r\n`
    + `Content-Length: ${SDP.length}\r\n\r\n${SDP}`, rig.sipPort);
  const ok = await caller.waitFor(/^SIP\/2\.0 200 /);
  caller.send(`ACK sip:a@127.0.0.1:${rig.sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bKuashop2;rport\r\n`
    + `Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.2>;tag=callertag\r\nTo: ${header(ok, 'To')}\r\nCall-ID: ${callId}\r\nCSeq: 1 ACK\r\n`
    + 'Content-Length: 0\r\n\r\n', rig.sipPort);
  await until(() => dialogs.length === 1);
  void dialogs[0]!.destroy().catch(() => undefined);
  const bye = await caller.waitFor(new RegExp(`^BYE [\\s\\S]*Call-ID: ${callId}\\r\\n`));
  assert.ok(bye, 'the BYE reached the caller');
  await until(() => (rig.stats().dialogHopRefused ?? 0) === (before.dialogHopRefused ?? 0) + 1);
  assert.equal(rig.stats().noDialog, before.noDialog, 'no BYE came back to the gateway through its own listener');
});
