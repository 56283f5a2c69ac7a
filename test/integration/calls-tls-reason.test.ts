import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls, { type TLSSocket } from 'node:tls';
import { startB2bua } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { header, ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { profile } from './engine-tls-support.js';
import { placeCall } from './calls-support.js';

await requireOpenssl();
const ca = await createTestCa({ cn: 'calls tls reason CA' });
process.on('exit', () => void ca.cleanup());
const gw = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1'] });
const wrong = await ca.issue({ cn: 'wrong.test', sans: ['DNS:wrong.test'] });

test('a B leg that fails on TLS (identity mismatch): the caller gets 503 with sipXbridge\'s words, the expected and presented identities, and the CDR the same Reason', async (t) => {
  const sockets = new Set<TLSSocket>();
  const server = tls.createServer({ key: wrong.key, cert: wrong.cert }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => {
    server.close(() => r());
    for (const s of sockets) s.destroy();
  }));
  const farPort = (server.address() as AddressInfo).port;

  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }, { transport: 'tls', host: '127.0.0.1', port: 0, tlsProfile: 'out' }],
    control: { host: '127.0.0.1', port: 0, secret: 'tls-reason' },
    tls: { profiles: [profile({ name: 'out', cnSanValidate: 'server' }, ca, gw)] },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip.find((l) => l.protocol === 'udp')!.port;
  const { log, cdrs } = captureLog();
  const app = await startB2bua({
    engine: { ...addrs.control, secret: 'tls-reason' }, log,
    policy: {
      tenants: { pbx: { transport: 'udp' }, carrier: { transport: 'tls', tlsProfile: 'out', sipServer: `localhost:${farPort}` } },
      listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
      categories: [],
      dialPeers: [{ id: 'carrier', destinationPattern: '^\\d+$', tenant: 'carrier' }],
    },
  });
  t.after(() => app.close());

  const a = await ua(t);
  const call = await placeCall(a, sipPort, '4001');
  assert.match(call.final, /^SIP\/2\.0 503 /);
  const reason = header(call.final, 'Reason');
  assert.match(reason, /^SIP;cause=503;text="TLS_HANDSHAKE_FAILED name-mismatch: Certificate identity does not match requested domain; ERR_TLS_[A-Z_]+ \(expected localhost, presented dns:wrong\.test\)"$/);
  for (let i = 0; i < 100 && cdrs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(cdrs[0]?.reason, reason);
  assert.equal(cdrs[0]?.cause, 'b-leg-503');
});
