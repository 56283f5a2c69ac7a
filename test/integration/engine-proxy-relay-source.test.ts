/**
 * In a dialog an app proxied with Record-Route, the engine relays an in-dialog request only when it comes from the
 * side its From tag names: a caller that swaps the tags cannot have the gateway send its requests to the address
 * it put in its own Contact. Real engine and drachtio-srf app; caller, callee and that third host on distinct
 * loopback addresses.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, answer, header, relayRig, tagIn, until, type Rig } from './engine-relay-support.js';

let rig: Rig;
let caller: Peer;
let callee: Peer;
let victim: Peer;

before(async () => {
  caller = await Peer.open('127.0.0.2');
  callee = await Peer.open('127.0.0.3');
  victim = await Peer.open('127.0.0.5');
  // The callee answers the INVITE (Record-Route copied) and every other request but ACK with 200.
  callee.onMessage = (m, from) => {
    const method = /^([A-Z]+) /.exec(m)?.[1];
    if (method === undefined || method === 'ACK') return;
    const rr = m.split('\r\n').filter((l) => /^Record-Route:/i.test(l));
    const initial = method === 'INVITE' && tagIn(header(m, 'To')) === undefined;
    callee.send(answer(m, '200 OK', 'calleetag', initial ? [...rr, `Contact: <sip:bob@127.0.0.3:${callee.port}>`] : []), from.port, from.address);
  };
  caller.onMessage = (m, from) => {
    if (m.startsWith('BYE ')) caller.send(answer(m, '200 OK', 'x'), from.port, from.address);
  };
  rig = await relayRig((srf) => srf.invite((req) => {
    srf.proxyRequest(req, [`sip:bob@127.0.0.3:${callee.port}`], { recordRoute: true });
  }));
});

after(async () => {
  await rig?.close();
  for (const p of [caller, callee, victim]) p?.close();
});

interface Call { callId: string; route: string; calleeTag: string }

/** A call from the caller through the app's proxy to the callee, with `contact` as the caller's Contact; ACKed. */
async function call(callId: string, contact: string): Promise<Call> {
  caller.send([`INVITE sip:bob@127.0.0.1:${rig.sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bK${callId}i;rport`,
    'Max-Forwards: 70', `From: <sip:alice@127.0.0.2>;tag=ctag-${callId}`, `To: <sip:bob@127.0.0.1>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <${contact}>`, 'Content-Length: 0', '', ''].join('\r\n'), rig.sipPort);
  const ok = await caller.waitFor(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*Call-ID: ${callId}\\r\\n[\\s\\S]*CSeq: 1 INVITE`));
  const route = header(ok, 'Record-Route')!;
  assert.match(route, new RegExp(`127\\.0\\.0\\.1:${rig.sipPort}`));
  const c = { callId, route, calleeTag: tagIn(header(ok, 'To'))! };
  caller.send(fromCaller(c, 'ACK', 1, `sip:bob@127.0.0.3:${callee.port}`), rig.sipPort);
  await callee.waitFor(new RegExp(`^ACK [\\s\\S]*Call-ID: ${callId}\\r\\n`));
  return c;
}

/** An in-dialog request from the caller's socket; `swapped` puts the callee's tag in From and the caller's in To. */
function fromCaller(c: Call, method: string, cseq: number, uri: string, swapped = false): string {
  const mine = `<sip:alice@127.0.0.2>;tag=ctag-${c.callId}`;
  const theirs = `<sip:bob@127.0.0.1>;tag=${c.calleeTag}`;
  return [`${method} ${uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.2:${caller.port};branch=z9hG4bK${c.callId}${method}${cseq}${swapped ? 's' : ''};rport`,
    `Route: ${c.route}`, 'Max-Forwards: 70', `From: ${swapped ? theirs : mine}`, `To: ${swapped ? mine : theirs}`, `Call-ID: ${c.callId}`,
    `CSeq: ${cseq} ${method}`, `Contact: <sip:alice@127.0.0.2:${caller.port}>`, 'Content-Length: 0', '', ''].join('\r\n');
}

test('a caller that swaps the tags is not relayed to the host of its own Contact: 403 with a Reason, its ACK dropped, counted', async () => {
  const target = `sip:victim@127.0.0.5:${victim.port}`;
  const c = await call('swap-1', target);
  const before = rig.stats();
  caller.send(fromCaller(c, 'MESSAGE', 1, target, true), rig.sipPort);
  const refused = await caller.waitFor(/^SIP\/2\.0 403 [\s\S]*CSeq: 1 MESSAGE/);
  assert.match(header(refused, 'Reason')!, /^SIP;cause=403;text="not sent by the callee its From tag names"$/);
  caller.send(fromCaller(c, 'ACK', 1, target, true), rig.sipPort);
  await until(() => rig.stats()['relayRefused'] === before['relayRefused']! + 2);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(victim.messages, [], 'nothing reached the host the caller named');
  assert.equal(rig.stats()['relayedInDialog'], before['relayedInDialog']);
});

test('the legitimate sides still get through: the caller\'s re-INVITE, then the callee\'s BYE from where it answered', async () => {
  const c = await call('legit-1', `sip:alice@127.0.0.2:${caller.port}`);
  const before = rig.stats();
  caller.send(fromCaller(c, 'INVITE', 2, `sip:bob@127.0.0.3:${callee.port}`), rig.sipPort);
  await caller.waitFor(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 INVITE/);
  callee.send([`BYE sip:alice@127.0.0.2:${caller.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.3:${callee.port};branch=z9hG4bKlegitbye;rport`,
    `Route: ${c.route}`, 'Max-Forwards: 70', `From: <sip:bob@127.0.0.1>;tag=${c.calleeTag}`, `To: <sip:alice@127.0.0.2>;tag=ctag-${c.callId}`,
    `Call-ID: ${c.callId}`, 'CSeq: 1 BYE', 'Content-Length: 0', '', ''].join('\r\n'), rig.sipPort);
  await caller.waitFor(/^BYE sip:alice@127\.0\.0\.2[\s\S]*Call-ID: legit-1\r\n/);
  await callee.waitFor(/^SIP\/2\.0 200 [\s\S]*CSeq: 1 BYE/);
  const now = rig.stats();
  assert.equal(now['relayRefused'], before['relayRefused']);
  // The re-INVITE and the BYE (the re-INVITE's ACK is the caller's to send, none here).
  assert.equal(now['relayedInDialog'], before['relayedInDialog']! + 2);
});

test('the callee cannot speak for the caller either: with the caller\'s From tag it is not relayed to its own Contact', async () => {
  const c = await call('swap-2', `sip:alice@127.0.0.2:${caller.port}`);
  const before = rig.stats();
  callee.send([`INFO sip:bob@127.0.0.3:${callee.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.3:${callee.port};branch=z9hG4bKswap2info;rport`,
    `Route: ${c.route}`, 'Max-Forwards: 70', `From: <sip:alice@127.0.0.2>;tag=ctag-${c.callId}`, `To: <sip:bob@127.0.0.1>;tag=${c.calleeTag}`,
    `Call-ID: ${c.callId}`, 'CSeq: 9 INFO', 'Content-Length: 0', '', ''].join('\r\n'), rig.sipPort);
  const refused = await callee.waitFor(/^SIP\/2\.0 403 [\s\S]*CSeq: 9 INFO/);
  assert.match(header(refused, 'Reason')!, /not sent by the caller its From tag names/);
  assert.equal(rig.stats()['relayRefused'], before['relayRefused']! + 1);
  assert.equal(callee.messages.filter((m) => m.startsWith('INFO ')).length, 0, 'the INFO did not come back to the callee');
});
