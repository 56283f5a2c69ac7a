/**
 * A second INVITE with the Call-ID and From tag of a call already there (a merged request, RFC 3261 §8.2.2.2) gets
 * 482 before any app sees it: the app's answer to it could otherwise end the established call. A retransmitted
 * INVITE and a re-INVITE are not merged requests. Real engine and drachtio-srf app, a raw UDP caller.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, header, relayRig, tagIn, until, type Rig } from './engine-relay-support.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

let rig: Rig;
let caller: Peer;
/** Call-IDs of the INVITEs the app got, in order. */
const seen: string[] = [];

before(async () => {
  caller = await Peer.open('127.0.0.2');
  rig = await relayRig((srf) => srf.invite((req, res) => {
    const callId = req.get('Call-ID') ?? '';
    seen.push(callId);
    if (seen.filter((c) => c === callId).length > 1) {
      // What the reviewer's app did with the second INVITE: ringing, then busy.
      res.send(180);
      setTimeout(() => res.send(486), 30);
      return;
    }
    setTimeout(() => {
      srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
    }, callId.startsWith('slow') ? 300 : 0);
  }));
});

after(async () => {
  await rig?.close();
  caller?.close();
});

function invite(callId: string, branch: string, cseq = 1, toTag?: string): string {
  return [`INVITE sip:bob@127.0.0.1:${rig.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bK${branch};rport`,
    'Max-Forwards: 70', `From: <sip:alice@127.0.0.2>;tag=ft-${callId}`, `To: <sip:bob@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`, `Contact: <sip:alice@127.0.0.2:${caller.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${SDP.length}`, '', SDP].join('\r\n');
}

function inDialog(method: string, callId: string, toTag: string, cseq: number): string {
  return [`${method} sip:bob@127.0.0.1:${rig.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bK${callId}${method}${cseq};rport`,
    'Max-Forwards: 70', `From: <sip:alice@127.0.0.2>;tag=ft-${callId}`, `To: <sip:bob@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
}

const answered = (callId: string, status: number, method = 'INVITE', cseq = 1): RegExp =>
  new RegExp(`^SIP/2\\.0 ${status} [\\s\\S]*Call-ID: ${callId}\\r\\n[\\s\\S]*CSeq: ${cseq} ${method}`);

/** A call answered by the app and ACKed; its To tag. */
async function established(callId: string): Promise<string> {
  caller.send(invite(callId, `${callId}-1`), rig.sipPort);
  const toTag = tagIn(header(await caller.waitFor(answered(callId, 200)), 'To'))!;
  caller.send(inDialog('ACK', callId, toTag, 1), rig.sipPort);
  return toTag;
}

test('a second INVITE with the Call-ID and From tag of an established call gets 482; the call goes on', async () => {
  const toTag = await established('merged-1');
  await until(() => rig.stats()['dialogs'] === 1);
  const before = rig.stats()['mergedRequest']!;
  // Another branch, no To tag: the same CSeq (a forked copy), then a new one.
  caller.send(invite('merged-1', 'merged-1-2'), rig.sipPort);
  const merged = await caller.waitFor(answered('merged-1', 482));
  assert.equal(header(merged, 'Reason'), 'SIP;cause=482;text="merged request"');
  caller.send(invite('merged-1', 'merged-1-3', 7), rig.sipPort);
  await caller.waitFor(answered('merged-1', 482, 'INVITE', 7));
  assert.equal(rig.stats()['mergedRequest'], before + 2);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen.filter((c) => c === 'merged-1'), ['merged-1'], 'the app saw the first INVITE only');
  assert.equal(rig.stats()['dialogs'], 1, 'the established call is still there');
  caller.send(inDialog('BYE', 'merged-1', toTag, 2), rig.sipPort);
  await caller.waitFor(answered('merged-1', 200, 'BYE', 2));
  await until(() => rig.stats()['dialogs'] === 0);
});

test('a second INVITE while the first is still under way gets 482; the first is answered as usual', async () => {
  caller.send(invite('slow-1', 'slow-1-1'), rig.sipPort);
  await caller.waitFor(answered('slow-1', 100));
  caller.send(invite('slow-1', 'slow-1-2'), rig.sipPort);
  await caller.waitFor(answered('slow-1', 482));
  const toTag = tagIn(header(await caller.waitFor(answered('slow-1', 200)), 'To'))!;
  assert.deepEqual(seen.filter((c) => c === 'slow-1'), ['slow-1']);
  caller.send(inDialog('ACK', 'slow-1', toTag, 1), rig.sipPort);
  caller.send(inDialog('BYE', 'slow-1', toTag, 2), rig.sipPort);
  await caller.waitFor(answered('slow-1', 200, 'BYE', 2));
});

test('a retransmitted INVITE and a re-INVITE are not merged requests', async () => {
  const callId = 'retrans-1';
  caller.send(invite(callId, `${callId}-1`), rig.sipPort);
  const ok = await caller.waitFor(answered(callId, 200));
  const toTag = tagIn(header(ok, 'To'))!;
  const before = rig.stats()['mergedRequest']!;
  // The same branch again, as if the 200 were lost: the transaction takes it, no 482.
  caller.send(invite(callId, `${callId}-1`), rig.sipPort);
  await new Promise((r) => setTimeout(r, 200));
  caller.send(inDialog('ACK', callId, toTag, 1), rig.sipPort);
  caller.send(invite(callId, `${callId}-re`, 2, toTag), rig.sipPort);
  await caller.waitFor(answered(callId, 200, 'INVITE', 2));
  assert.equal(caller.messages.filter((m) => answered(callId, 482).test(m)).length, 0);
  assert.equal(rig.stats()['mergedRequest'], before);
  assert.deepEqual(seen.filter((c) => c === callId), [callId]);
  caller.send(inDialog('ACK', callId, toTag, 2), rig.sipPort);
  caller.send(inDialog('BYE', callId, toTag, 3), rig.sipPort);
  await caller.waitFor(answered(callId, 200, 'BYE', 3));
});
