// A TLS connection carries the identities its name check read, in both directions: a server certificate without
// subjectAltName that passed as its first CN, `a.example`, does not also carry a second CN `victim.example` that an
// INVITE over our own connection would then present as verified.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsOptions } from 'node:tls';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import type { Flow } from '../../src/sip/transport/types.js';
import { createCheckServerIdentity } from '../../src/tls/index.js';
import { matchTlsPeer } from '../../src/policy/index.js';
import { createTestCa, requireOpenssl, type TestCert } from '../support/test-certs.js';
import { Inbox, sipRequest } from './transport.case.js';

await requireOpenssl();
const ca = await createTestCa();
process.on('exit', () => void ca.cleanup());
// The helper writes `-subj /CN=<cn>`: a `/CN=` inside gives the subject a second CN.
const twoCns = await ca.issue({ cn: 'a.example/CN=victim.example' });
const userUri = await ca.issue({ cn: 'a.example', sans: ['DNS:A.Example.', 'URI:sip:victim@victim.example'] });

/** Sends one request from a client layer (presenting `cert`) to a server layer (presenting `cert`); both flows. */
async function exchange(t: TestContext, cert: TestCert): Promise<{ outbound: Flow; inbound: Flow }> {
  const serverTls: TlsOptions = { key: cert.key, cert: cert.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false };
  const server = new TransportLayer({ listeners: [{ id: 'srv', protocol: 'tls', host: '127.0.0.1', port: 0, tls: serverTls }] });
  const client = new TransportLayer({
    listeners: [{ id: 'cli', protocol: 'tls', host: '127.0.0.1', port: 0, tls: serverTls }],
    // The server's name check of an outbound connection (RFC 5922 §7.3), as a profile gives it.
    tlsClientOptions: () => ({ ca: ca.cert, key: cert.key, cert: cert.cert, checkServerIdentity: createCheckServerIdentity({ domain: 'a.example' }) }),
  });
  t.after(() => Promise.all([server.close(), client.close()]));
  await server.start();
  await client.start();
  const inbox = new Inbox();
  server.setUser(inbox);
  const port = server.listeners()[0]!.port;
  const outbound = await client.send(Buffer.from(sipRequest({ protocol: 'tls', viaHost: 'a.example' })), { protocol: 'tls', address: '127.0.0.1', port, servername: 'a.example' });
  await inbox.waitFor(1);
  return { outbound, inbound: inbox.items[0]!.flow };
}

const victim = { 'victim.example': { permissions: {} } };

test('a certificate with two CNs and no SAN passes the name check as its first CN and carries that CN only, both ways', async (t) => {
  const { outbound, inbound } = await exchange(t, twoCns);
  assert.equal(outbound.tls?.authorized, true, 'the server passed the name check as a.example');
  assert.deepEqual(outbound.tls?.identities, ['cn:a.example']);
  assert.deepEqual(inbound.tls?.identities, ['cn:a.example']);
  assert.equal(matchTlsPeer(outbound.tls!.identities, victim), undefined, 'no TLS peer victim.example over this connection');
});

test('identities are in their normal form, and a sip: URI with a user part is none (RFC 5922 §7.1), both ways', async (t) => {
  const { outbound, inbound } = await exchange(t, userUri);
  assert.deepEqual(outbound.tls?.identities, ['dns:a.example']);
  assert.deepEqual(inbound.tls?.identities, ['dns:a.example']);
});
