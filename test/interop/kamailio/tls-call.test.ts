// Calls over TLS with kamailio (tls.so) as the carrier SBC in front of the gateway:
//   sipp UAC (UDP) → kamailio → TLS, mutual → gateway (engine + b2bua) → UDP → sipp UAS.
// kamailio's certificate comes from a CA of its own that the gateway's listener trusts; a second kamailio,
// whose certificate comes from a CA the gateway does not know, is refused at the handshake.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { classifyTlsFailure } from '../../../src/tls/index.js';
import { kamailioVersion, startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, type TestCa, type TestCert } from '../../support/test-certs.js';
import { startTlsGateway, type TlsGateway } from './tls-gateway.js';

interface Pki {
  gatewayCa: TestCa;
  carrierCa: TestCa;
  gateway: TestCert;
  carrier: TestCert;
}

async function pki(t: TestContext, carrierCaName: string): Promise<Pki> {
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa = await createTestCa({ cn: carrierCaName });
  t.after(() => carrierCa.cleanup());
  return {
    gatewayCa,
    carrierCa,
    gateway: await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] }),
    carrier: await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test', 'IP:127.0.0.1'] }),
  };
}

/** The carrier side: kamailio relaying everything from its UDP side to the gateway's TLS listener. */
async function carrierSbc(t: TestContext, p: Pki, gwTlsPort: number): Promise<KamailioProcess> {
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: p.carrier.cert, privateKey: p.carrier.key, caList: p.gatewayCa.cert,
      destinations: [{ host: '127.0.0.1', port: gwTlsPort, serverName: 'gw.trunkgate.test' }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: gwTlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());
  return kam;
}

/** The gateway's TLS listener: its own certificate, demanding a client certificate from the trusted CA. */
async function gateway(t: TestContext, p: Pki, trusted: string, uasPort: number): Promise<TlsGateway> {
  const gw = await startTlsGateway({
    tls: { key: p.gateway.key, cert: p.gateway.cert, ca: trusted, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    target: `127.0.0.1:${uasPort}`,
  });
  t.after(() => gw.close());
  return gw;
}

async function legsDown(gw: TlsGateway, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && gw.b2bua.stats().legsUp > 0) await new Promise((r) => setTimeout(r, 50));
}

test(`sipp → kamailio (${kamailioVersion()}) → mutual TLS → gateway → sipp: 20 calls, 0 failed`, async (t) => {
  const p = await pki(t, 'carrier SBC CA');
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const gw = await gateway(t, p, p.carrierCa.cert, uas.port);
  const kam = await carrierSbc(t, p, gw.tlsPort);

  const calls = 20;
  const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kam.port('udp')}`, calls, rate: 20, timeoutSec: 30 });
  await legsDown(gw, 5000);
  const diag = `sipp: ${r.errors.slice(0, 1500)}\nkamailio:\n${kam.logs().slice(-2500)}`;
  assert.equal(r.exitCode, 0, diag);
  assert.equal(r.stats.successful, calls, diag);
  assert.equal(r.stats.failed, 0, diag);

  const stats = gw.b2bua.stats();
  assert.equal(stats.connected, calls);
  assert.equal(stats.failedTotal, 0, JSON.stringify(stats.failed));
  assert.equal(stats.legsUp, 0, 'no legs left up');
  assert.equal(gw.engine.transport.stats().tlsHandshakeFailures, 0);

  // Every request of every call, INVITE, ACK and BYE, went through kamailio: the route was recorded.
  const seen = await kam.waitForRequests((s) => s.filter((x) => x.method === 'BYE').length >= calls);
  // Counted by Call-ID: a request sipp retransmitted on UDP is logged again by kamailio, and is still one request.
  for (const m of ['INVITE', 'ACK', 'BYE']) assert.equal(new Set(seen.filter((x) => x.method === m).map((x) => x.callId)).size, calls, `${m} requests at kamailio`);
  assert.deepEqual(kam.relayFailures(), []);
});

test('kamailio with a certificate from a CA the gateway does not trust: refused at the handshake, no call reaches the b2bua', async (t) => {
  const p = await pki(t, 'rogue CA');
  const trustedButUnused = await createTestCa({ cn: 'the CA the gateway trusts' });
  t.after(() => trustedButUnused.cleanup());
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const gw = await gateway(t, p, trustedButUnused.cert, uas.port);
  const kam = await carrierSbc(t, p, gw.tlsPort);

  const calls = 3;
  const r = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kam.port('udp')}`, calls, rate: 10, timeoutSec: 25 });
  const diag = `sipp: ${r.errors.slice(0, 1500)}\nkamailio:\n${kam.logs().slice(-2500)}`;
  assert.notEqual(r.exitCode, 0, diag);
  assert.equal(r.stats.successful, 0, diag);
  assert.equal(r.stats.failed, calls, diag);

  assert.equal(gw.b2bua.stats().attempted, 0, 'no INVITE got past the TLS listener');
  const transport = gw.engine.transport.stats();
  assert.ok(transport.tlsHandshakeFailures >= 1, JSON.stringify(transport));
  // kamailio reaches the gateway over TLS only: no connection of it was opened, so nothing of it was read. (The
  // gateway's UDP listener takes a kernel-chosen port, which a stray datagram of another run may reach.)
  assert.equal(transport.connectionsOpened, 0, `no connection from kamailio was opened: ${JSON.stringify(transport)}`);
  assert.ok(transport.messagesIn <= transport.datagramsIn, `nothing was read but datagrams: ${JSON.stringify(transport)}`);

  const refused = gw.logLines().filter((l) => l.event === 'TLS_HANDSHAKE_FAILED');
  assert.ok(refused.length >= 1, 'the engine logged the refused handshake');

  // The listener accepts the handshake and refuses the client after it, so the verify code is kept: the log
  // line, in CUBE's words, and the per-tenant server-side counter name the unknown CA.
  const err = refused[0]!.err as { code?: string; message?: string };
  assert.equal(classifyTlsFailure(err).reason, 'unknown-ca', JSON.stringify({ code: err.code, message: err.message }));
  assert.equal(refused[0]!.reason, 'unknown-ca');
  assert.equal(refused[0]!.direction, 'server');
  assert.match(String(refused[0]!.msg), /^%SIP-2-TLS_HANDSHAKE_FAILED: TLS handshake failure - certificate verify failed \(unknown CA\)/);
  assert.ok(gw.engine.transport.tlsStats().failures(undefined, 'server', 'unknown-ca') >= 1);
});
