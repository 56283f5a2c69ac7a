// The SNI a TLS client sends is its own text, and OpenSSL lets CR, LF and ESC through in it. The inbound connection's
// record (the admin API's connections, `trunkgate show connections`) and a failed handshake's report keep it without
// control characters (src/common/printable.ts). A real handshake on loopback, port 0.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { connect, type TlsOptions } from 'node:tls';
import { createLocalCa, issueGatewayCertificate } from '../../../src/pki/index.js';
import { TransportLayer } from '../../../src/sip/transport/transport-layer.js';
import type { TlsFailureEvent } from '../../../src/sip/transport/tls-failure-report.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SNI = 'gw.example\r\n[2026-01-01 00:00:00.000] INFO: forged\u001b[2J';
const ca = createLocalCa({ key: { type: 'ec' } });
const gw = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: { type: 'ec' } });

async function listener(t: TestContext, tls: TlsOptions): Promise<{ layer: TransportLayer; port: number }> {
  const layer = new TransportLayer({ listeners: [{ id: 'tls-a', protocol: 'tls', host: '127.0.0.1', port: 0, tls, tlsProfile: 'p1', tenant: 'acme' }] });
  t.after(() => layer.close());
  await layer.start();
  return { layer, port: layer.listeners()[0]!.port };
}

function nextFailure(layer: TransportLayer): Promise<TlsFailureEvent> {
  return new Promise((resolve) => layer.once('tlsFailure', resolve));
}

function dial(port: number, servername: string) {
  const c = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  c.on('error', () => undefined);
  return c;
}

test('an inbound connection whose client sent CR, LF and ESC in its SNI: the connection record holds ? for each', async (t) => {
  const { layer, port } = await listener(t, { key: gw.keyPem, cert: gw.certPem });
  const c = dial(port, SNI);
  t.after(() => c.destroy());
  await once(c, 'secureConnect');
  let row = layer.connections()[0];
  // The server's side of the handshake ends a moment after the client's: waited for, 5 s at most.
  for (let i = 0; i < 500 && row === undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
    row = layer.connections()[0];
  }
  assert.equal(row?.direction, 'inbound');
  assert.equal(row?.servername, 'gw.example??[2026-01-01 00:00:00.000] INFO: forged?[2J');
  assert.equal(row?.tls?.servername, row?.servername);
});

test('a failed inbound handshake (no client certificate) with such an SNI: the event and its log text hold none of it raw', async (t) => {
  const { layer, port } = await listener(t, { key: gw.keyPem, cert: gw.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
  const failed = nextFailure(layer);
  const c = dial(port, SNI);
  t.after(() => c.destroy());
  const ev = await failed;
  assert.equal(ev.direction, 'server');
  assert.equal(ev.failure.reason, 'no-client-certificate');
  assert.equal(ev.servername, 'gw.example??[2026-01-01 00:00:00.000] INFO: forged?[2J');
  assert.ok(!CONTROL.test(ev.cubeText), JSON.stringify(ev.cubeText));
  assert.match(ev.cubeText, /, sni=gw\.example\?\?\[2026-01-01 00:00:00\.000\] INFO: forged\?\[2J, code=ERR_TLS_NO_CLIENT_CERT$/);
});

test('a handshake that fails before it is secure (no shared cipher) with such an SNI: the event holds ? for each control character', async (t) => {
  const { layer, port } = await listener(t, { key: gw.keyPem, cert: gw.certPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  const failed = nextFailure(layer);
  const c = connect({ host: '127.0.0.1', port, servername: SNI, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
  c.on('error', () => undefined);
  t.after(() => c.destroy());
  const ev = await failed;
  assert.equal(ev.failure.reason, 'no-shared-cipher');
  assert.equal(ev.servername, 'gw.example??[2026-01-01 00:00:00.000] INFO: forged?[2J');
  assert.ok(!CONTROL.test(ev.cubeText), JSON.stringify(ev.cubeText));
});
