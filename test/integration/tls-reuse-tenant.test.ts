// Two tenants share a TLS profile and call the same carrier SBC (a Node TLS server on loopback). Each gets an
// outbound connection of its own, and an INVITE the carrier sends back over a connection reaches the app as the
// tenant that connection was opened for: a connection opened for one tenant never carries another's calls, nor
// lends its verified identity to what the carrier sends over it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createTestCa, requireOpenssl, type TestCert } from '../support/test-certs.js';
import { outboundProfile, placeCall, startOutboundRig } from '../interop/openssl/outbound-support.js';
import { until } from './engine-tls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'tenant reuse CA' });
process.on('exit', () => void ca.cleanup());
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
const carrier = await ca.issue({ cn: 'carrier.test', sans: ['DNS:carrier.test'] });

interface Carrier {
  port: number;
  /** TLS connections the carrier accepted. */
  connections: number;
}

/**
 * A carrier SBC that answers each INVITE with 486 and then, over the same connection, sends an INVITE of its own
 * whose Call-ID names that connection (`far-<n>`): the engine attributes it by the connection it came on.
 */
async function carrierSbc(t: TestContext, cert: TestCert, gwPort: number): Promise<Carrier> {
  const far: Carrier = { port: 0, connections: 0 };
  const sockets = new Set<TLSSocket>();
  const server = tls.createServer({ key: cert.key, cert: cert.cert + ca.cert }, (s) => {
    const n = far.connections++;
    sockets.add(s);
    s.on('error', () => undefined);
    let buf = '';
    let called = false;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const text = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        if (!text.startsWith('INVITE ')) continue;
        const h = (name: string): string[] => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
        s.write(['SIP/2.0 486 Busy Here', ...h('Via'), ...h('From'), ...h('To').map((l) => `${l};tag=far`), ...h('Call-ID'), ...h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
        if (called) continue;
        called = true;
        s.write([`INVITE sip:gw@127.0.0.1:${gwPort};transport=tls SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:${far.port};branch=z9hG4bKfar${n}`,
          'Max-Forwards: 70', `From: <sip:carrier@carrier.test>;tag=far${n}`, 'To: <sip:gw@gw.test>', `Call-ID: far-${n}`,
          'CSeq: 1 INVITE', `Contact: <sip:carrier@127.0.0.1:${far.port};transport=tls>`, 'Content-Length: 0', '', ''].join('\r\n'));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  far.port = (server.address() as AddressInfo).port;
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return far;
}

interface InviteSrf {
  invite(fn: (req: { get(h: string): string | undefined }, res: { send(status: number): void }) => void): void;
}

test('two tenants sharing a profile open a connection each to one SBC, and what the SBC sends over each is its own tenant\'s', async (t) => {
  const rig = await startOutboundRig(t, [outboundProfile({ name: 'shared', tenant: 'alpha' }, ca, gw)]);
  const peers = new Map<string, string>();
  (rig.srf as unknown as InviteSrf).invite((req, res) => {
    peers.set(req.get('Call-ID') ?? '', req.get('X-Trunkgate-Peer') ?? '');
    res.send(486);
  });
  await until(() => rig.engine.registry.selectApp('invite') !== undefined);
  const gwTls = rig.engine.addresses()!.sip.find((l) => l.protocol === 'tls')!;
  const far = await carrierSbc(t, carrier, gwTls.port);
  const uri = `sip:3000@127.0.0.1:${far.port};transport=tls`;

  assert.equal((await placeCall(rig, uri, 'tenant=alpha;profile=shared;domain=carrier.test')).status, 486);
  await until(() => peers.has('far-0'));
  assert.equal((await placeCall(rig, uri, 'tenant=beta;profile=shared;domain=carrier.test')).status, 486);
  await until(() => peers.has('far-1'));

  assert.equal(far.connections, 2, 'one connection per tenant');
  assert.match(peers.get('far-0')!, /^tenant=alpha;verified=1;/);
  assert.match(peers.get('far-1')!, /^tenant=beta;verified=1;/);
  const rows = rig.engine.transport.connections().filter((c) => c.direction === 'outbound');
  assert.deepEqual(rows.map((r) => r.tenant).sort(), ['alpha', 'beta']);

  // Each tenant's next call rides its own connection again.
  assert.equal((await placeCall(rig, uri, 'tenant=beta;profile=shared;domain=carrier.test')).status, 486);
  assert.equal((await placeCall(rig, uri, 'tenant=alpha;profile=shared;domain=carrier.test')).status, 486);
  assert.equal(far.connections, 2);
});
