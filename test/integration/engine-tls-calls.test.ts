// Requests through the engine with TLS profiles, over real sockets, with a real drachtio-srf app:
// - inbound: the app gets X-Trunkgate-Peer (tenant, verified, transport, the client certificate's identities),
//   and a copy sent by the peer is removed, whatever it claimed;
// - outbound: X-Trunkgate-Route picks the tenant and profile of a B leg and never reaches the wire; SNI goes out
//   for a name and not for an IP; a server whose certificate does not name the target fails the handshake, the
//   app gets 503 with a Reason naming it, and the failure is counted for the tenant on the client side.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import Srf from 'drachtio-srf';
import { startEngine, type Engine, type EngineListenerOptions } from '../../src/engine/index.js';
import { parsePeerHeader } from '../../src/b2bua/peer-header.js';
import type { ProfileInput } from '../../src/tls/index.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { profile, until } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'engine tls calls CA' });
process.on('exit', () => void ca.cleanup());
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1'] });
const pbx = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test'] });
const carrier = await ca.issue({ cn: 'carrier', sans: ['DNS:localhost', 'IP:127.0.0.1'] });
const wrong = await ca.issue({ cn: 'wrong.test', sans: ['DNS:wrong.test'] });

const SECRET = 'tls-calls-secret';

interface SrfApp {
  connect(o: { host: string; port: number; secret: string }): void;
  disconnect(): void;
  on(event: string, fn: (...a: unknown[]) => void): void;
  invite(fn: (req: { get(h: string): string | undefined; msg: { headers: Record<string, string> } }, res: { send(status: number): void }) => void): void;
  createUAC(uri: string, opts: { headers?: Record<string, string> }): Promise<unknown>;
}

async function setup(t: TestContext, listen: EngineListenerOptions[], profiles: ProfileInput[]): Promise<{ engine: Engine; srf: SrfApp; seen: Array<{ peer: string[] }> }> {
  const engine = await startEngine({ listen, control: { host: '127.0.0.1', port: 0, secret: SECRET }, tls: { profiles } });
  t.after(() => engine.close());
  const srf = new Srf() as unknown as SrfApp;
  srf.on('error', () => undefined);
  const seen: Array<{ peer: string[] }> = [];
  srf.invite((req, res) => {
    const raw = (req as unknown as { raw: string }).raw;
    seen.push({ peer: raw.split('\r\n').filter((l) => /^x-trunkgate-peer\s*:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim()) });
    res.send(480);
  });
  const ready = new Promise<void>((ok, fail) => srf.on('connect', (err) => (err ? fail(err as Error) : ok())));
  srf.connect({ host: '127.0.0.1', port: engine.addresses()!.control.port, secret: SECRET });
  await ready;
  t.after(() => srf.disconnect());
  return { engine, srf, seen };
}

function invite(proto: 'TLS' | 'UDP', local: string, extra: string[] = []): string {
  const branch = `z9hG4bK${Math.random().toString(16).slice(2)}`;
  return [`INVITE sip:2000@gw.test SIP/2.0`, `Via: SIP/2.0/${proto} ${local};branch=${branch};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@pbx.test>;tag=${branch.slice(7, 15)}`, 'To: <sip:2000@gw.test>', `Call-ID: ${branch}`, 'CSeq: 1 INVITE',
    `Contact: <sip:1000@${local}>`, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

const SPOOF = 'X-Trunkgate-Peer: tenant=evil;verified=1;transport=tls;identities="sip:bank.example"';

test('inbound over mutual TLS: the app gets the engine\'s X-Trunkgate-Peer with the verified identities; the peer\'s own copy is removed', async (t) => {
  const { engine, seen } = await setup(t, [
    { transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'lan' },
    { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'mtls', tenant: 'pbx' },
  ], [profile({ name: 'mtls', requireClientCertificate: true, cnSanValidate: 'client', cnSan: ['pbx.test'] }, ca, gw)]);
  const port = engine.addresses()!.sip.find((l) => l.protocol === 'tls')!.port;

  const s: TLSSocket = tls.connect({ host: '127.0.0.1', port, servername: 'gw.test', ca: ca.cert, key: pbx.key, cert: pbx.cert });
  t.after(() => s.destroy());
  await once(s, 'secureConnect');
  s.write(invite('TLS', `127.0.0.1:${s.localPort}`, [SPOOF, 'x-trunkgate-peer: verified=1']));
  await until(() => seen.length === 1);
  assert.equal(seen.length, 1, 'the app got the INVITE');
  const version = s.getProtocol()!;
  const cipher = s.getCipher().name;
  assert.equal(seen[0]!.peer.length, 1, 'exactly one X-Trunkgate-Peer, the engine\'s');
  assert.match(seen[0]!.peer[0]!, /;conn=tls-\d+\.[A-Za-z0-9_-]{8}$/);
  assert.equal(seen[0]!.peer[0]!.replace(/;conn=tls-\d+\.[A-Za-z0-9_-]{8}$/, ''), `tenant=pbx;verified=1;transport=tls;tls=${version};cipher=${cipher};identities="dns:pbx.test,sip:pbx.test"`,
    'naming the version and suite the client negotiated, and the connection');
  assert.deepEqual(parsePeerHeader(seen[0]!.peer[0]), {
    tenant: 'pbx', verified: true, transport: 'tls', identities: ['dns:pbx.test', 'sip:pbx.test'], tlsVersion: version, cipher,
  }, 'the b2bua reads what the engine writes');

  // Over UDP: the listener's tenant, nothing verified, and again the network's copy is gone.
  const udp = createSocket('udp4');
  t.after(() => udp.close());
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const udpPort = engine.addresses()!.sip.find((l) => l.protocol === 'udp')!.port;
  udp.send(invite('UDP', `127.0.0.1:${(udp.address() as AddressInfo).port}`, [SPOOF]), udpPort, '127.0.0.1');
  await until(() => seen.length === 2);
  assert.deepEqual(seen[1]?.peer, ['tenant=lan;verified=0;transport=udp']);
});

/** A far end over TLS: records the SNI and the bytes of each request, and answers 486. */
async function farEnd(t: TestContext, cert: { key: string; cert: string }): Promise<{ port: number; got: Array<{ sni: string | false; text: string }>; errors: string[] }> {
  const got: Array<{ sni: string | false; text: string }> = [];
  const errors: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => {
    sockets.add(s);
    let buf = '';
    s.setEncoding('utf8');
    s.on('error', () => undefined);
    s.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = buf.slice(0, end + 4);
      buf = buf.slice(end + 4);
      got.push({ sni: (s as TLSSocket & { servername: string | false }).servername, text });
      if (!text.startsWith('INVITE ')) return;
      const h = (n: string) => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`)).join('\r\n');
      s.write([`SIP/2.0 486 Busy Here`, h('Via'), h('From'), `${h('To')};tag=far`, h('Call-ID'), h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
    });
  });
  server.on('tlsClientError', (e: Error & { code?: string }) => errors.push(e.code ?? e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => {
    server.close(() => r());
    for (const s of sockets) s.destroy();
  }));
  return { port: (server.address() as AddressInfo).port, got, errors };
}

const ROUTE = { 'X-Trunkgate-Route': 'tenant=carrier;profile=out' };

async function statusOf(p: Promise<unknown>): Promise<{ status: number; reason?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (e) {
    const err = e as { status?: number; res?: { get(h: string): string | undefined } };
    const reason = err.res?.get('Reason');
    return { status: err.status ?? 0, ...(reason !== undefined ? { reason } : {}) };
  }
}

test('outbound: the B leg uses the routed profile, SNI for a name and none for an IP, X-Trunkgate-Route never on the wire, the connection table names profile, tenant and identities', async (t) => {
  const far = await farEnd(t, carrier);
  const { engine, srf } = await setup(t, [
    { transport: 'udp', host: '127.0.0.1', port: 0 },
    { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'out' },
  ], [profile({ name: 'out', cnSanValidate: 'server' }, ca, gw)]);

  const byName = await statusOf(srf.createUAC(`sip:3000@localhost:${far.port};transport=tls`, { headers: ROUTE }));
  assert.equal(byName.status, 486, JSON.stringify(byName));
  const byIp = await statusOf(srf.createUAC(`sip:3000@127.0.0.1:${far.port};transport=tls`, { headers: ROUTE }));
  assert.equal(byIp.status, 486, JSON.stringify(byIp));

  // A dns: target goes to its address with the name in `domain=`: same key as the named call, so its connection.
  const byDomain = await statusOf(srf.createUAC(`sip:3000@127.0.0.1:${far.port};transport=tls`,
    { headers: { 'X-Trunkgate-Route': 'tenant=carrier;profile=out;domain=localhost' } }));
  assert.equal(byDomain.status, 486, JSON.stringify(byDomain));

  const invites = far.got.filter((g) => g.text.startsWith('INVITE '));
  assert.equal(invites.length, 3);
  assert.equal(invites[0]!.sni, 'localhost', 'SNI for a name');
  assert.equal(invites[1]!.sni, false, 'no SNI for an IP address');
  assert.equal(invites[2]!.sni, 'localhost', 'the route\'s domain is the SNI');
  for (const g of far.got) assert.doesNotMatch(g.text, /x-trunkgate-/i, 'no internal header on the wire');

  const rows = engine.transport.connections().filter((c) => c.direction === 'outbound');
  assert.equal(rows.length, 2, 'one connection per (address, port, profile, SNI), reused for the same key');
  const named = rows.find((r) => r.servername === 'localhost')!;
  assert.equal(named.tlsProfile, 'out');
  assert.equal(named.tenant, 'carrier');
  assert.equal(named.tls?.tenant, 'carrier');
  assert.equal(named.tls?.profile, 'out');
  assert.deepEqual(named.tls?.identities, ['dns:localhost', 'ip:127.0.0.1']);
  assert.match(named.tls?.version ?? '', /^TLSv1\.[23]$/);
  assert.ok(named.tls?.cipher && named.tls.group, JSON.stringify(named.tls));
});

test('outbound: a server certificate that does not name the target fails the handshake; the app gets 503 with a Reason naming it; counted for the tenant', async (t) => {
  const far = await farEnd(t, wrong);
  const { engine, srf } = await setup(t, [
    { transport: 'udp', host: '127.0.0.1', port: 0 },
    { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'out' },
  ], [profile({ name: 'out', cnSanValidate: 'server' }, ca, gw)]);

  const r = await statusOf(srf.createUAC(`sip:3000@localhost:${far.port};transport=tls`, { headers: ROUTE }));
  assert.equal(r.status, 503);
  assert.match(r.reason ?? '', /^SIP;cause=503;text="TLS_HANDSHAKE_FAILED name-mismatch: Certificate identity does not match requested domain; ERR_TLS_NAME_MISMATCH \(expected localhost, presented dns:wrong\.test\)"$/);
  assert.equal(far.got.length, 0, 'nothing was sent to a server that is not who we wanted');
  assert.equal(engine.transport.tlsStats().failures('carrier', 'client', 'name-mismatch'), 1);
  assert.equal(engine.transport.connections().length, 0);
});
