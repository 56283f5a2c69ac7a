/**
 * In-dialog requests for dialogs that do not exist, over real UDP sockets on loopback. Anyone can put a To tag on a
 * request; one that matches no dialog is answered 481 with a Reason at the edge, once, statelessly: no server
 * transaction keeps it or resends the 481 (to an INVITE's claimed source, ten times over 32 s), so made-up
 * dialogs can neither fill the transaction table nor turn the gateway into a reflector. A source no tenant trusts
 * gets the 403 any of its new requests gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { startEngine, type Engine } from '../../src/engine/index.js';
import { until } from '../support/until.js';

async function engine(t: { after(fn: () => unknown): void }): Promise<{ e: Engine; udp: number }> {
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'stray' },
    trust: { defaultTenant: 'pbx', tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1'], hosts: [], restrictTls: false }] },
  });
  t.after(() => e.close());
  return { e, udp: e.addresses()!.sip[0]!.port };
}

function request(method: string, peer: UdpPeer, host: string, n: number, toTag: string): string {
  return `${method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bKs${method}${n}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@${host}>;tag=f${n}\r\nTo: <sip:1000@127.0.0.1>${toTag}\r\nCall-ID: stray-${method}-${n}@test\r\nCSeq: 1 ${method}\r\n`
    + `Contact: <sip:a@${host}:${peer.port}>\r\nContent-Length: 0\r\n\r\n`;
}

const coreStats = (e: Engine): Record<string, number> => (e.core as { stats?: () => Record<string, number> }).stats?.() ?? {};

/** Sends an OPTIONS without a To tag and waits for its answer: one socket, in order, so every earlier answer is in. */
async function probe(peer: UdpPeer, udp: number, n: number): Promise<void> {
  const before = peer.got.length;
  peer.s.send(request('OPTIONS', peer, '127.0.0.1', 1000 + n, ''), udp, '127.0.0.1');
  await until(() => peer.got.slice(before).some((m) => m.includes(`stray-OPTIONS-${1000 + n}@test`)), 'the probe\'s answer');
}

test('made-up in-dialog requests get one stateless 481 each, with a Reason, and leave no transaction behind', async (t) => {
  const { e, udp } = await engine(t);
  const pbx = await udpPeer(t, '127.0.0.1');
  const methods = ['INVITE', 'BYE', 'UPDATE', 'INFO', 'OPTIONS'];
  for (let i = 0; i < 100; i++) pbx.s.send(request(methods[i % methods.length]!, pbx, '127.0.0.1', i, `;tag=made-up-${i}`), udp, '127.0.0.1');
  await until(() => pbx.got.length >= 100, 'an answer to each');
  // Timer G would resend an INVITE's 481 after 500 ms; a full second and a probe later, still one answer each.
  await new Promise((r) => setTimeout(r, 1100));
  await probe(pbx, udp, 1);
  const answers = pbx.got.filter((m) => !m.includes('stray-OPTIONS-1001@test'));
  assert.equal(answers.length, 100, 'one answer per request, none resent');
  for (const m of answers) {
    assert.match(m, /^SIP\/2\.0 481 Call\/Transaction Does Not Exist\r\n/);
    assert.match(m, /\r\nReason: SIP;cause=481;text="no such dialog"\r\n/);
  }
  const created = e.transactions.stats().created;
  assert.equal(created.ist, 0, 'no INVITE server transaction');
  assert.equal(created.nist, 1, 'only the probe made a transaction');
  assert.equal(coreStats(e)['noDialog'], 100);
});

test('a made-up in-dialog INVITE from a source no tenant trusts gets the 403 its new requests get, and no transaction', async (t) => {
  const { e, udp } = await engine(t);
  const stranger = await udpPeer(t, '127.0.0.7');
  stranger.s.send(request('INVITE', stranger, '127.0.0.7', 1, ';tag=made-up'), udp, '127.0.0.1');
  await until(() => stranger.got.length >= 1, 'the answer');
  assert.match(stranger.got[0]!, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.match(stranger.got[0]!, /\r\nReason: SIP;cause=403;text="untrusted source"\r\n/);
  const pbx = await udpPeer(t, '127.0.0.1');
  await probe(pbx, udp, 2);
  assert.equal(stranger.got.length, 1);
  assert.equal(e.transactions.stats().created.ist, 0);
  assert.equal(coreStats(e)['noDialog'], 0, 'refused as untrusted before it was judged a stray');
});
