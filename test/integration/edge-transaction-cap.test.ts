/**
 * gateway.limits.maxTransactions and maxTransactionWaits size the transaction layer's two caps. The plan carries them
 * from gateway.yaml to the engine, and an engine started with a cap of 3 transactions at work answers the fourth new
 * INVITE with a stateless 503, Retry-After and a Reason, and counts it, over real UDP on loopback.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log/index.js';
import { planStartup } from '../../src/startup.js';
import { startEngine } from '../../src/engine/index.js';
import { profilesDir } from '../support/trunkgate-process.js';
import { udpPeer, type UdpPeer } from '../support/udp-peer.js';
import { until } from '../support/until.js';

const yaml = (limits: string): string => `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: 5060 }]
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
${limits}
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
`;

test('gateway.limits: maxTransactions and maxTransactionWaits reach the engine; the defaults are 50,000 and 150,000', (t: TestContext) => {
  const plan = (limits: string) => planStartup(profilesDir(t, yaml(limits)), {}, silentLogger()).options.limits?.transport;
  assert.deepEqual([plan('')?.maxTransactions, plan('')?.maxTransactionWaits], [50_000, 150_000]);
  const set = plan('  limits: { maxTransactions: 2000, maxTransactionWaits: 300000 }');
  assert.deepEqual([set?.maxTransactions, set?.maxTransactionWaits], [2_000, 300_000]);
  assert.throws(() => plan('  limits: { maxTransactions: 10 }'),
    (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_INVALID' && /maxTransactions/.test(JSON.stringify(e)));
});

function invite(peer: UdpPeer, n: number): string {
  return `INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKcap${n}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@127.0.0.1>;tag=f${n}\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: cap${n}@test\r\nCSeq: 1 INVITE\r\n`
    + `Contact: <sip:a@127.0.0.1:${peer.port}>\r\nContent-Length: 0\r\n\r\n`;
}

test('an engine with maxTransactions 3 answers the fourth new INVITE 503 statelessly, with Retry-After and a Reason', async (t) => {
  // No app is connected: each INVITE is refused by the core, and its transaction stays at work until the ACK that
  // this caller never sends.
  const e = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'cap' },
    transportLimits: { maxTransactions: 3, requestsPerSecondPerSource: 0 },
    limits: { retryAfterSeconds: 9 },
  });
  t.after(() => e.close());
  const udp = e.addresses()!.sip[0]!.port;
  const caller = await udpPeer(t, '127.0.0.1');
  const finals = (): string[] => caller.got.filter((m) => !m.startsWith('SIP/2.0 100 '));
  for (let i = 0; i < 3; i++) caller.s.send(invite(caller, i), udp, '127.0.0.1');
  await until(() => finals().length >= 3, 'an answer to each of the first three');
  caller.s.send(invite(caller, 3), udp, '127.0.0.1');
  await until(() => finals().length >= 4, 'an answer to the fourth');
  const fourth = finals().find((m) => /\r\nCall-ID: cap3@test\r\n/.test(m))!;
  assert.match(fourth, /^SIP\/2\.0 503 /);
  assert.match(fourth, /\r\nRetry-After: \d+\r\n/);
  assert.match(fourth, /\r\nReason: SIP;cause=503;text="[^"]+"\r\n/);
  const s = e.transactions.stats();
  assert.equal(s.rejectedOverLimit, 1);
  assert.equal(s.created.ist, 3, 'the fourth made no transaction');
});
