/**
 * A tenant listener that cannot bind fails alone (CUBE's %SIP-3-LISTEN_SOCKET): trunkgate started as `npm start`
 * starts it, with a tenant's own TLS port already taken by another process, logs the failure naming tenant,
 * address, port, transport and the OS error, shows it in /health and /trunks, and its other trunks carry calls.
 * A shared listener that cannot bind still stops the start.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { startTrunkgate } from '../support/trunkgate-process.js';
import { answeringUa, placeCall } from './calls-support.js';

async function occupy(t: TestContext, port: number): Promise<void> {
  const s = createServer();
  s.listen(port, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
}

function profiles(t: TestContext, o: { sipPort: number; adminPort: number; farPort: number; ownPort: number }): string {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-listen-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  domain: gw.test
  bindHost: 127.0.0.1
  listen: [{ transport: udp, host: 127.0.0.1, port: ${o.sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${o.adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ${join(root, 'pki', 'trustpoints', 'gw')} }
tlsProfiles:
  edge: { trustpoint: gw }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  far: { transport: udp, sipServer: 127.0.0.1:${o.farPort} }
  backup: { transport: tls, tlsProfile: edge, listenPortSecure: ${o.ownPort} }
dialPeers:
  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }
`);
  return root;
}

test('a tenant port already taken: LISTEN_SOCKET (ERR_SIP_TRANSPORT_BIND) logged with tenant, address, port, transport and error; /health degraded; the other trunks carry a call', async (t) => {
  const b = await answeringUa(t);
  const ownPort = await freePort();
  await occupy(t, ownPort);
  const sipPort = await freePort();
  const adminPort = await freePort();
  const root = profiles(t, { sipPort, adminPort, farPort: b.port, ownPort });
  const p = await startTrunkgate(t, root, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  const { line } = await p.waitFor((l) => l.code === 'ERR_SIP_TRANSPORT_BIND', 10_000);
  assert.equal(line.tenant, 'backup');
  assert.equal(line.address, '127.0.0.1');
  assert.equal(line.port, ownPort);
  assert.equal(line.transport, 'tls');
  assert.match(String(line.err), /EADDRINUSE/);

  const health = await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as { status: string; listenersDown?: { tenant?: string; port: number }[] };
  assert.equal(health.status, 'degraded');
  assert.deepEqual(health.listenersDown?.map((l) => [l.tenant, l.port]), [['backup', ownPort]]);
  const trunks = await (await fetch(`http://127.0.0.1:${adminPort}/trunks`)).json() as { listenersDown: unknown[] };
  assert.equal(trunks.listenersDown.length, 1);

  const a = await ua(t);
  const call = await placeCall(a, sipPort, '3001');
  assert.match(call.final, /^SIP\/2\.0 200 /, 'the pbx → far trunk carries the call');
});

test('a shared listener that cannot bind stops the start with a non-zero exit', async (t) => {
  const sipPort = await freePort();
  const adminPort = await freePort();
  const ownPort = await freePort();
  // The shared UDP listener's port is taken by a UDP socket of ours.
  const u = createSocket('udp4');
  u.bind(sipPort, '127.0.0.1');
  await once(u, 'listening');
  t.after(() => u.close());
  const root = profiles(t, { sipPort, adminPort, farPort: 9, ownPort });
  await assert.rejects(startTrunkgate(t, root, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') }),
    /trunkgate exited \(1\)[\s\S]*EADDRINUSE/);
});
