/**
 * Where the ACK and BYE of a call the app placed go, with the real engine and a real drachtio-srf app, every party
 * on loopback: a callee on 127.0.0.2 whose 200 Record-Routes through another loopback host is followed (a peer on
 * loopback may name loopback), one whose 200 Record-Routes through the gateway's own listener is not: the ACK and
 * a BYE with a Reason go to the 200's source, the app is told, the refusal is counted.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, answer, header, relayRig, until, type Rig } from './engine-relay-support.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

interface UacDialog { on(event: 'destroy', fn: (msg: unknown, reason: string) => void): void; destroy(): Promise<void> }
interface UacSrf { createUAC(uri: string, opts: { localSdp: string }): Promise<UacDialog> }

let rig: Rig;
let app: UacSrf;
let callee: Peer;
let hop: Peer;
/** The Record-Route the callee puts in its next 200. */
let recordRoute = '';

before(async () => {
  callee = await Peer.open('127.0.0.2');
  hop = await Peer.open('127.0.0.1');
  callee.onMessage = (m, from) => {
    if (m.startsWith('INVITE ')) {
      callee.send(answer(m, '200 OK', 'calleetag', [`Contact: <sip:bob@127.0.0.2:${callee.port}>`, `Record-Route: ${recordRoute}`]), from.port, from.address);
    } else if (m.startsWith('BYE ')) {
      callee.send(answer(m, '200 OK', 'calleetag'), from.port, from.address);
    }
  };
  rig = await relayRig((srf) => {
    app = srf as unknown as UacSrf;
    srf.invite(() => undefined);
  });
});

after(async () => {
  await rig?.close();
  callee?.close();
  hop?.close();
});

const callIdOf = (m: string): string => header(m, 'Call-ID')!;

test('a callee on loopback that Record-Routes through another loopback host: the ACK follows the route', async () => {
  recordRoute = `<sip:127.0.0.1:${hop.port};lr>`;
  const before = rig.stats().dialogHopRefused ?? 0;
  const dialog = await app.createUAC(`sip:bob@127.0.0.2:${callee.port}`, { localSdp: SDP });
  const invite = await callee.waitFor(/^INVITE /);
  const ack = await hop.waitFor(new RegExp(`^ACK [\\s\\S]*Call-ID: ${callIdOf(invite)}\\r\\n`));
  assert.equal(header(ack, 'Route'), recordRoute);
  assert.equal(rig.stats().dialogHopRefused ?? 0, before);
  void dialog.destroy().catch(() => undefined);
  await hop.waitFor(new RegExp(`^BYE [\\s\\S]*Call-ID: ${callIdOf(invite)}\\r\\n`));
});

test('a callee that Record-Routes through the gateway\'s own listener: ACK and BYE go to the 200\'s source, the app is told', async () => {
  recordRoute = `<sip:127.0.0.1:${rig.sipPort};lr>`;
  callee.messages.length = 0;
  const before = rig.stats();
  const dialog = await app.createUAC(`sip:bob@127.0.0.2:${callee.port}`, { localSdp: SDP });
  const ended = new Promise<void>((resolve) => dialog.on('destroy', () => resolve()));
  const callId = callIdOf(await callee.waitFor(/^INVITE /));
  await callee.waitFor(new RegExp(`^ACK [\\s\\S]*Call-ID: ${callId}\\r\\n`));
  const bye = await callee.waitFor(new RegExp(`^BYE [\\s\\S]*Call-ID: ${callId}\\r\\n`));
  assert.match(header(bye, 'Reason') ?? '', /^SIP;cause=403;text="/);
  await ended;
  await until(() => rig.stats().dialogs === before.dialogs);
  const after = rig.stats();
  assert.equal(after.dialogHopRefused, (before.dialogHopRefused ?? 0) + 1);
  // Nothing of this call came back to the gateway through its own listener.
  assert.equal(after.unmatchedAck, before.unmatchedAck);
  assert.equal(after.noDialog, before.noDialog);
  assert.equal(hop.messages.filter((m) => m.includes(`Call-ID: ${callId}\r\n`)).length, 0);
});
