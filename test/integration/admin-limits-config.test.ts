/**
 * The admin API's connection caps as a user sets them: `gateway.admin.maxConnectionsPerSource` in gateway.yaml
 * reaches the running admin server of `trunkgate start`, which closes a connection past it at accept and says so
 * once (ERR_ADMIN_CONN_SOURCE_LIMIT).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../support/sipp.js';
import { profilesDir, startTrunkgate } from '../support/trunkgate-process.js';

test('gateway.admin.maxConnectionsPerSource from the file caps the running admin API', async (t) => {
  const [sipPort, adminPort] = [await freePort(), await freePort()];
  const dir = profilesDir(t, `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { enabled: true, host: 127.0.0.1, port: ${adminPort}, maxConnectionsPerSource: 2 }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
`);
  const p = await startTrunkgate(t, dir, { ready: (l) => l.code === 'EVT_GATEWAY_READY' });
  await p.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('admin API on'), 10_000);
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const closed: boolean[] = [];
  const open = async (): Promise<void> => {
    const i = sockets.length;
    const s = connect({ host: '127.0.0.1', port: adminPort });
    sockets.push(s);
    s.on('error', () => undefined);
    closed.push(false);
    s.once('close', () => (closed[i] = true));
    await once(s, 'connect');
  };
  for (let i = 0; i < 4; i++) await open();
  await p.waitFor((l) => l.code === 'ERR_ADMIN_CONN_SOURCE_LIMIT', 5_000);
  for (let i = 0; i < 50 && !(closed[2] && closed[3]); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(closed, [false, false, true, true], 'past two connections from the one source, each is closed at accept');
  assert.equal(p.lines.filter((l) => l.code === 'ERR_ADMIN_CONN_SOURCE_LIMIT').length, 1, 'one line for two refusals');
  sockets.slice(0, 2).forEach((s) => s.destroy());
  await new Promise((r) => setTimeout(r, 100));
  const ok = await fetch(`http://127.0.0.1:${adminPort}/health`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(ok.status, 200, 'once they are gone, the API answers');
});
