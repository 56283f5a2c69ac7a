import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as netServer, connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { createSecureContext, type ConnectionOptions, type TlsOptions } from 'node:tls';
import { ManualClock } from '../../src/common/clock.js';
import type { GatewayError } from '../../src/common/gateway-error.js';
import type { TlsFailure } from '../../src/tls/index.js';
import { TransportLayer, type TransportLayerOptions } from '../../src/sip/transport/transport-layer.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { Inbox, nextEvent, sipRequest } from './transport.case.js';

await requireOpenssl();
const ca = await createTestCa({ keyType: 'rsa' });
const otherCa = await createTestCa();
process.on('exit', () => {
  void ca.cleanup();
  void otherCa.cleanup();
});
const gwCert = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'DNS:alias.test', 'IP:127.0.0.1'] });
const pbxCert = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test', 'IP:127.0.0.1'], keyType: 'rsa' });

async function layer(t: TestContext, tls: TlsOptions, options: Partial<TransportLayerOptions> = {}, profile = 'p1'): Promise<TransportLayer> {
  const l = new TransportLayer({
    listeners: [{ id: 'tls-a', protocol: 'tls', host: '127.0.0.1', port: 0, tls, tlsProfile: profile, tenant: 'acme' }],
    tlsClientOptions: (_p, _sn): ConnectionOptions => ({ ca: ca.cert, key: pbxCert.key, cert: pbxCert.cert }),
    ...options,
  });
  t.after(() => l.close());
  await l.start();
  return l;
}

const serverTls = (): TlsOptions => ({ key: gwCert.key, cert: gwCert.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false });
const msg = (cseq = 1): Buffer => Buffer.from(sipRequest({ protocol: 'tls', viaHost: 'pbx.test', cseq }));

test('outbound TLS: the server identity, SNI, version and group are reported on the flow', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls());
  const inbox = new Inbox();
  server.setUser(inbox);
  const port = server.listeners()[0]!.port;
  const flow = await client.send(msg(), { protocol: 'tls', address: '127.0.0.1', port, tlsProfile: 'p1', servername: 'gw.test' });
  assert.equal(flow.tls?.authorized, true);
  assert.deepEqual(flow.tls?.identities, ['dns:gw.test', 'dns:alias.test', 'ip:127.0.0.1']);
  assert.equal(flow.tls?.servername, 'gw.test');
  assert.equal(flow.tls?.profile, 'p1');
  assert.equal(typeof flow.tls?.group, 'string');
  await inbox.waitFor(1);
  const inbound = inbox.items[0]!.flow;
  assert.equal(inbound.tls?.servername, 'gw.test', 'the SNI we sent is what the server saw');
  assert.deepEqual(inbound.tls?.identities, ['dns:pbx.test', 'sip:pbx.test', 'ip:127.0.0.1']);
  const rows = client.connections();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.direction, 'outbound');
  assert.equal(rows[0]!.messagesOut, 1);
  assert.equal(rows[0]!.tls?.version, 'TLSv1.3');
});

test('outbound TLS reuse: same profile and SNI reuse; another SNI or profile never does', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls());
  const inbox = new Inbox();
  server.setUser(inbox);
  const port = server.listeners()[0]!.port;
  const base = { protocol: 'tls' as const, address: '127.0.0.1', port };
  const a = await client.send(msg(1), { ...base, tlsProfile: 'p1', servername: 'gw.test' });
  const b = await client.send(msg(2), { ...base, tlsProfile: 'p1', servername: 'gw.test' });
  const c = await client.send(msg(3), { ...base, tlsProfile: 'p1', servername: 'alias.test' });
  const d = await client.send(msg(4), { ...base, tlsProfile: 'p2', servername: 'gw.test' });
  assert.equal(a.connectionId, b.connectionId);
  assert.notEqual(c.connectionId, a.connectionId);
  assert.notEqual(d.connectionId, a.connectionId);
  assert.notEqual(d.connectionId, c.connectionId);
  assert.equal(client.connections().length, 3);
  await inbox.waitFor(4);
});

test('concurrent sends to one new destination share one connection', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls());
  server.setUser(new Inbox());
  const target = { protocol: 'tls' as const, address: '127.0.0.1', port: server.listeners()[0]!.port, servername: 'gw.test' };
  const flows = await Promise.all([1, 2, 3, 4, 5].map((i) => client.send(msg(i), target)));
  assert.equal(new Set(flows.map((f) => f.connectionId)).size, 1);
});

test('inbound flow reuse only toward a peer verified for the requested name', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls());
  const inbox = new Inbox();
  server.setUser(inbox);
  client.setUser(new Inbox());
  await client.send(msg(), { protocol: 'tls', address: '127.0.0.1', port: server.listeners()[0]!.port, servername: 'gw.test' });
  await inbox.waitFor(1);
  const flow = inbox.items[0]!.flow;
  const back = { protocol: 'tls' as const, address: flow.remoteAddress, port: flow.remotePort };
  const same = await server.send(msg(2), { ...back, servername: 'pbx.test' });
  assert.equal(same.connectionId, flow.connectionId);
  const anyName = await server.send(msg(3), back);
  assert.equal(anyName.connectionId, flow.connectionId);
  // Not verified as other.test: a new connection is tried toward the peer's ephemeral port, and fails.
  await assert.rejects(server.send(msg(4), { ...back, servername: 'other.test' }), { code: 'ERR_SIP_TRANSPORT_CONNECT' });
  await assert.rejects(server.send(msg(5), { ...back, tlsProfile: 'p9' }), { code: 'ERR_SIP_TRANSPORT_CONNECT' });
});

test('an untrusted server certificate fails the connect with a code', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls(), { tlsClientOptions: () => ({ ca: otherCa.cert }) });
  const target = { protocol: 'tls' as const, address: '127.0.0.1', port: server.listeners()[0]!.port, servername: 'gw.test' };
  await assert.rejects(client.send(msg(), target), (e: GatewayError) => {
    assert.equal(e.code, 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE');
    assert.equal((e.details?.['tlsFailure'] as TlsFailure).reason, 'unknown-ca');
    assert.match(String(e.details?.['cubeText']), /^%SIP-2-TLS_HANDSHAKE_FAILED: .*direction=client/);
    return true;
  });
  // The name check is the resolver's (Node default): a name the certificate lacks is refused too.
  const c2 = await layer(t, serverTls());
  await assert.rejects(c2.send(msg(), { ...target, servername: 'nothere.test' }), (e: GatewayError) => {
    assert.equal(e.code, 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE');
    assert.equal((e.details?.['tlsFailure'] as TlsFailure).reason, 'name-mismatch');
    return true;
  });
  assert.equal(client.stats().connectFailures, 1);
  assert.equal(client.tlsStats().failures('acme', 'client', 'unknown-ca'), 1);
  assert.equal(c2.tlsStats().failures('acme', 'client', 'name-mismatch'), 1);
  // A refused port is a TCP failure, not a handshake one.
  await assert.rejects(c2.send(msg(), { ...target, port: 1 }), { code: 'ERR_SIP_TRANSPORT_CONNECT' });
});

test('TLS 1.2 reports the OpenSSL cipher name; an expired or SAN-less client certificate is reported as such', async (t) => {
  const server = await layer(t, { ...serverTls(), maxVersion: 'TLSv1.2' });
  const inbox = new Inbox();
  server.setUser(inbox);
  const expired = await ca.issue({ cn: 'old.test', sans: ['DNS:old.test'], validity: 'expired' });
  const noSan = await ca.issue({ cn: 'legacy.test' });
  const port = server.listeners()[0]!.port;
  for (const cert of [expired, noSan]) {
    const client = await layer(t, serverTls(), { tlsClientOptions: () => ({ ca: ca.cert, key: cert.key, cert: cert.cert }) });
    const out = await client.send(msg(), { protocol: 'tls', address: '127.0.0.1', port, servername: 'gw.test' });
    assert.equal(out.tls?.version, 'TLSv1.2');
    assert.match(out.tls!.cipher, /^ECDHE-ECDSA-AES\d+-GCM-SHA\d+$/, 'OpenSSL name, not IANA');
  }
  await inbox.waitFor(2);
  assert.equal(inbox.items[0]!.flow.tls?.authorized, false);
  assert.deepEqual(inbox.items[0]!.flow.tls?.identities, ['dns:old.test']);
  assert.equal(inbox.items[1]!.flow.tls?.authorized, true);
  assert.deepEqual(inbox.items[1]!.flow.tls?.identities, ['cn:legacy.test']);
});

test('a failed inbound handshake is counted and opens no connection', async (t) => {
  const server = await layer(t, serverTls());
  const s = netConnect({ host: '127.0.0.1', port: server.listeners()[0]!.port });
  t.after(() => s.destroy());
  await once(s, 'connect');
  s.write('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n');
  await once(s, 'close');
  assert.equal(server.stats().tlsHandshakeFailures, 1);
  assert.equal(server.connections().length, 0);
});

test('a handshake that never completes times out on the injected clock', async (t) => {
  const silent = netServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    silent.close();
  });
  const accepted = once(silent, 'connection');
  const clock = new ManualClock(0);
  const client = await layer(t, serverTls(), { clock, connectTimeoutMs: 5_000 });
  const port = (silent.address() as { port: number }).port;
  const p = client.send(msg(), { protocol: 'tls', address: '127.0.0.1', port, servername: 'gw.test' });
  const [sock] = (await accepted) as [import('node:net').Socket];
  t.after(() => sock.destroy());
  clock.advance(5_000);
  await assert.rejects(p, { code: 'ERR_SIP_TRANSPORT_CONNECT_TIMEOUT' });
  assert.equal(client.connections().length, 0);
});

test('connection table rows carry counters and close events carry the reason', async (t) => {
  const server = await layer(t, serverTls());
  const client = await layer(t, serverTls());
  server.setUser(new Inbox());
  const out = await client.send(msg(), { protocol: 'tls', address: '127.0.0.1', port: server.listeners()[0]!.port, servername: 'gw.test' });
  const closed = nextEvent(client, 'connectionClose');
  assert.equal(client.closeConnection(out.connectionId!), true);
  assert.equal(client.closeConnection(out.connectionId!), false);
  const [info, reason] = await closed;
  assert.equal(reason, 'closed by request');
  assert.equal(info.messagesOut, 1);
  assert.ok(info.bytesOut > 0);
  assert.equal(info.servername, 'gw.test');
});

test('a listener refuses a ready SecureContext as its default (Node builds that one from options)', async (t) => {
  const l = new TransportLayer({ listeners: [{ id: 'x', protocol: 'tls', host: '127.0.0.1', port: 0, tls: { secureContext: createSecureContext({ key: gwCert.key, cert: gwCert.cert }) } }] });
  t.after(() => l.close());
  await assert.rejects(l.start(), { code: 'ERR_SIP_TRANSPORT_TLS_CONFIG' });
});

test('a listener picks its certificate by SNI through SNICallback, its options being the default', async (t) => {
  const sniCert = await ca.issue({ cn: 'sni.test', sans: ['DNS:sni.test'] });
  const byName = new Map([['sni.test', createSecureContext({ key: sniCert.key, cert: sniCert.cert })]]);
  const seen: string[] = [];
  const server = await layer(t, {
    key: gwCert.key, cert: gwCert.cert,
    SNICallback: (name, cb) => {
      seen.push(name);
      cb(null, byName.get(name));
    },
  });
  const inbox = new Inbox();
  server.setUser(inbox);
  const client = await layer(t, serverTls());
  const target = { protocol: 'tls' as const, address: '127.0.0.1', port: server.listeners()[0]!.port };
  const viaSni = await client.send(msg(1), { ...target, servername: 'sni.test' });
  assert.deepEqual(viaSni.tls?.identities, ['dns:sni.test']);
  const byDefault = await client.send(msg(2), { ...target, servername: 'gw.test' });
  assert.deepEqual(byDefault.tls?.identities, ['dns:gw.test', 'dns:alias.test', 'ip:127.0.0.1']);
  await inbox.waitFor(2);
  assert.deepEqual(inbox.items.map((x) => x.flow.tls?.servername).sort(), ['gw.test', 'sni.test']);
  assert.deepEqual(inbox.items.map((x) => x.flow.tls?.identities), [[], []], 'no client certificate was asked for');
  assert.deepEqual(seen.sort(), ['gw.test', 'sni.test']);
});

test('an inbound check can refuse a connection with its own code, or restate identities and profile', async (t) => {
  let refuse = true;
  const server = new TransportLayer({
    listeners: [{
      id: 'tls-checked', protocol: 'tls', host: '127.0.0.1', port: 0, tls: serverTls(), tlsProfile: 'default', tenant: 'acme',
      checkInbound: (socket) => (refuse
        ? { ok: false, code: 'ERR_TLS_PEER_NOT_PERMITTED', reason: 'no cn-san match' }
        : { ok: true, identities: ['dns:pbx.test'], profile: socket.servername === 'gw.test' ? 'by-sni' : 'default', tenant: 'beta' }),
    }],
  });
  t.after(() => server.close());
  await server.start();
  const inbox = new Inbox();
  server.setUser(inbox);
  const client = await layer(t, serverTls());
  const target = { protocol: 'tls' as const, address: '127.0.0.1', port: server.listeners()[0]!.port, servername: 'gw.test' };
  const closed = nextEvent(client, 'connectionClose');
  await client.send(msg(1), target).catch(() => undefined);
  await closed;
  assert.equal(server.stats().drops.ERR_TLS_PEER_NOT_PERMITTED, 1);
  assert.equal(server.stats().tlsHandshakeFailures, 1);
  assert.equal(inbox.items.length, 0);
  refuse = false;
  await client.send(msg(2), target);
  await inbox.waitFor(1);
  const tls = inbox.items[0]!.flow.tls!;
  assert.deepEqual(tls.identities, ['dns:pbx.test']);
  assert.equal(tls.profile, 'by-sni');
  assert.equal(tls.tenant, 'beta');
  assert.equal(server.connections()[0]!.tenant, 'beta');
  assert.equal(server.connections()[0]!.tlsProfile, 'by-sni');
});

test('a client that opens TCP and never sends a ClientHello is disconnected when the handshake time is up, and counted', async (t) => {
  const l = new TransportLayer({
    listeners: [{ id: 'slow', protocol: 'tls', host: '127.0.0.1', port: 0, tls: { key: gwCert.key, cert: gwCert.cert } }],
    connectTimeoutMs: 300,
  });
  const [info] = await l.start();
  t.after(() => l.close());
  const c = netConnect({ host: '127.0.0.1', port: info!.port });
  await once(c, 'connect');
  t.after(() => c.destroy());
  // The verdict is that the gateway closes it; the bound only stops a broken run.
  const closed = await Promise.race([once(c, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  assert.equal(closed, true, 'the stalled handshake was closed by the gateway');
  for (let i = 0; i < 200 && l.stats().inboundSockets > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().inboundSockets, 0, 'its socket no longer counts against the connection limits');
});

test('TLS handshakes in progress are capped per source: past it a socket is closed at accept, a finished handshake frees a place', async (t) => {
  const l = new TransportLayer({
    listeners: [{ id: 'cap', protocol: 'tls', host: '127.0.0.1', port: 0, tls: { key: gwCert.key, cert: gwCert.cert } }],
    connections: { maxHandshakesPerSource: 2 },
  });
  const [info] = await l.start();
  t.after(() => l.close());
  const open = async () => {
    const c = netConnect({ host: '127.0.0.1', port: info!.port });
    t.after(() => c.destroy());
    await once(c, 'connect');
    return c;
  };
  const stalled = [await open(), await open()];
  for (let i = 0; i < 200 && l.stats().tlsHandshakes < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().tlsHandshakes, 2);
  const third = await open();
  await once(third, 'close');
  assert.equal(l.stats().drops['ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT'], 1, 'the refusal is counted under its code');
  stalled[0]!.destroy();
  for (let i = 0; i < 200 && l.stats().tlsHandshakes > 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().tlsHandshakes, 1, 'a handshake whose client went away frees its place');
  const { connect: tlsConnect } = await import('node:tls');
  const ok = tlsConnect({ host: '127.0.0.1', port: info!.port, rejectUnauthorized: false });
  t.after(() => ok.destroy());
  await once(ok, 'secureConnect');
  for (let i = 0; i < 200 && l.stats().tlsHandshakes > 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().tlsHandshakes, 1, 'a finished handshake no longer counts; the stalled one still does');
  const fourth = await open();
  assert.equal(fourth.destroyed, false);
  for (let i = 0; i < 200 && l.stats().tlsHandshakes < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(l.stats().tlsHandshakes, 2, 'the place the finished handshake left is taken again');
  // The layer's close waits for its sockets: the stalled ones go first rather than at their handshake timeout.
  for (const s of [...stalled, fourth]) s.destroy();
});
