// Outbound TLS through the engine and a real drachtio-srf app, against Node TLS servers for what `openssl s_server`
// cannot show in a test's hands: which client certificate each profile presented (the server's own view), several
// B legs waiting on one connection that a TLS 1.3 server refuses after the handshake, and a server that merely
// hangs up (no alert), which stays a plain close and is not counted as a TLS failure.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createTestCa, requireOpenssl, type TestCert } from '../support/test-certs.js';
import { counterDelta, outboundProfile, placeCall, startOutboundRig } from '../interop/openssl/outbound-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'outbound node CA' });
const clientCa = await createTestCa({ cn: 'outbound client CA' });
process.on('exit', () => {
  void ca.cleanup();
  void clientCa.cleanup();
});
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const gwClient = await clientCa.issue({ cn: 'gw-client.test', sans: ['DNS:gw-client.test'] });
const carrier = await ca.issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'] });

interface NodeFarEnd {
  port: number;
  /** The subject CN of the client certificate of each connection the server accepted. */
  clientCns: string[];
  invites: number;
  errors: string[];
}

/** A TLS far end that answers INVITE with 486 and records the client certificate it saw. */
async function nodeFarEnd(t: TestContext, cert: TestCert, opts: tls.TlsOptions = {}, onSecure?: (s: TLSSocket) => boolean): Promise<NodeFarEnd> {
  const far: NodeFarEnd = { port: 0, clientCns: [], invites: 0, errors: [] };
  const sockets = new Set<TLSSocket>();
  const server = tls.createServer({ key: cert.key, cert: cert.cert + ca.cert, ...opts }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    const peer = s.getPeerCertificate();
    if (peer && peer.subject) far.clientCns.push(String(peer.subject.CN));
    if (onSecure && !onSecure(s)) return;
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const text = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        if (!text.startsWith('INVITE ')) continue;
        far.invites++;
        const h = (n: string): string[] => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`));
        s.write(['SIP/2.0 486 Busy Here', ...h('Via'), ...h('From'), ...h('To').map((l) => `${l};tag=far`), ...h('Call-ID'), ...h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
      }
    });
  });
  server.on('tlsClientError', (e: Error & { code?: string }) => far.errors.push(e.code ?? e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  far.port = (server.address() as AddressInfo).port;
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return far;
}

const profiles = (): Parameters<typeof startOutboundRig>[1] => [
  outboundProfile({ name: 'out', tenant: 'carrier' }, ca, gw),
  outboundProfile({ name: 'split', tenant: 'carrier' }, ca, gw, { clientCert: { cert: gwClient, ca: clientCa } }),
];
const uri = (port: number): string => `sip:3000@127.0.0.1:${port};transport=tls`;

test('a server that demands a client certificate sees the profile\'s client trustpoint when it has one, its trustpoint otherwise', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const far = await nodeFarEnd(t, carrier, { requestCert: true, rejectUnauthorized: true, ca: [ca.cert, clientCa.cert] });
  assert.equal((await placeCall(rig, uri(far.port), 'tenant=carrier;profile=split;domain=carrier.test')).status, 486);
  assert.equal((await placeCall(rig, uri(far.port), 'tenant=carrier;profile=out;domain=carrier.test')).status, 486);
  assert.deepEqual(far.clientCns, ['gw-client.test', 'gw.test']);
  const rows = rig.engine.transport.connections().filter((c) => c.direction === 'outbound');
  assert.deepEqual(rows.map((r) => r.tlsProfile).sort(), ['out', 'split'], 'one connection per profile to the same far end');
});

test('a Node server that does not trust our client certificate drops it without an alert: at TLS 1.2 a handshake failure the engine cannot name (other), counted once for every leg waiting; at TLS 1.3 a plain close', async (t) => {
  // Node checks a client certificate after the handshake and destroys the socket without an alert, so the client
  // learns nothing but the reset. OpenSSL servers send the alert: outbound-profile.test.ts covers that path.
  const rig = await startOutboundRig(t, profiles());
  const route = 'tenant=carrier;profile=split;domain=carrier.test';
  const far12 = await nodeFarEnd(t, carrier, { requestCert: true, rejectUnauthorized: true, ca: [ca.cert], maxVersion: 'TLSv1.2' });
  const before = rig.engine.transport.tlsStats().snapshot();
  const legs = await Promise.all([placeCall(rig, uri(far12.port), route), placeCall(rig, uri(far12.port), route)]);
  for (const r of legs) {
    assert.equal(r.status, 503, JSON.stringify(r));
    assert.match(r.reason ?? '', /^SIP;cause=503;text="TLS_HANDSHAKE_FAILED other: ECONNRESET"$/);
  }
  assert.deepEqual(counterDelta(before, rig.engine.transport.tlsStats().snapshot()), ['carrier/client/other: +1'], 'one connection, one failure');
  assert.equal(far12.invites, 0);

  const far13 = await nodeFarEnd(t, carrier, { requestCert: true, rejectUnauthorized: true, ca: [ca.cert], minVersion: 'TLSv1.3' });
  const mid = rig.engine.transport.tlsStats().snapshot();
  const r13 = await placeCall(rig, uri(far13.port), route);
  assert.notEqual(r13.status, 486);
  assert.doesNotMatch(r13.reason ?? '', /TLS_HANDSHAKE_FAILED/, 'nothing says why: no TLS reason is made up');
  assert.deepEqual(counterDelta(mid, rig.engine.transport.tlsStats().snapshot()), []);
  assert.equal(far13.invites, 0);
});

test('a TLS 1.3 server that hangs up after the handshake without an alert: a plain close, not a TLS failure', async (t) => {
  const rig = await startOutboundRig(t, profiles());
  const far = await nodeFarEnd(t, carrier, { minVersion: 'TLSv1.3' }, (s) => {
    s.end();
    return false;
  });
  const r = await placeCall(rig, uri(far.port), 'tenant=carrier;profile=out;domain=carrier.test');
  assert.notEqual(r.status, 486);
  assert.doesNotMatch(r.reason ?? '', /TLS_HANDSHAKE_FAILED/);
  assert.deepEqual(rig.engine.transport.tlsStats().snapshot(), [], 'nothing counted as a TLS failure');
});
