/**
 * A tenant listener that could not bind at start is tried again by a configuration reload: trunkgate started as
 * `npm start` with a tenant's own UDP port held by another socket starts degraded; a SIGHUP while the port is still
 * held logs ERR_SIP_TRANSPORT_BIND again and reports it still failed; once the port is free, `trunkgate reload`
 * reports it bound, /health is ok again, /listeners shows it listening, and a sipp call through that tenant's listener connects.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { startSippGatewayRig } from '../support/sipp-gateway-rig.js';
import { runSipp } from '../support/sipp.js';
import { productEntry, repoRoot } from '../support/trunkgate-process.js';

/** `trunkgate reload --json` as a user runs it: exit status and the report. */
async function reloadJson(root: string, env: Record<string, string>): Promise<{ code: number | null; report: Record<string, unknown> }> {
  const child = spawn(process.execPath, [...productEntry(), 'reload', '--json', '--profiles', root], {
    cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await once(child, 'exit') as [number | null];
  clearTimeout(timer);
  return { code, report: JSON.parse(out) as Record<string, unknown> };
}

test('a tenant port taken at start: a reload after the port is freed binds the listener, /health is ok and a call through it connects', async (t) => {
  const held = createSocket('udp4');
  held.bind(0, '127.0.0.1');
  await once(held, 'listening');
  let released = false;
  t.after(() => { if (!released) held.close(); });
  const ownPort = held.address().port;
  const { gw, dir, env, adminPort, admin } = await startSippGatewayRig(t, {
    token: { env: 'RETRY_TEST_TOKEN', value: 'retry-token' }, gateway: '  domain: gw.test\n  bindHost: 127.0.0.1\n',
    tenants: `  branch: { transport: udp, trustedSources: [127.0.0.0/8], listen: [{ port: ${ownPort} }] }\n`,
    sections: 'dialPeers:\n  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx, branch] }\n',
  });
  const health = async () => (await fetch(`http://127.0.0.1:${adminPort}/health`)).json() as Promise<{ status: string; listenersDown?: { tenant?: string; port: number }[] }>;
  await gw.waitFor((l) => l.code === 'ERR_SIP_TRANSPORT_BIND' && l.port === ownPort, 10_000);
  const down = await health();
  assert.equal(down.status, 'degraded');
  assert.deepEqual(down.listenersDown?.map((l) => [l.tenant, l.port]), [['branch', ownPort]]);

  // SIGHUP while the port is still held: tried, still failed, LISTEN_SOCKET logged again.
  const mark = gw.lines.length;
  gw.child.kill('SIGHUP');
  await gw.waitFor((l) => l.code === 'ERR_SIP_TRANSPORT_BIND' && l.port === ownPort, 10_000, mark);
  const still = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: listeners that could not bind at start tried again'), 10_000, mark);
  assert.deepEqual(still.line.bound, []);
  assert.equal((still.line.stillFailed as { error: string }[]).length, 1);
  assert.equal((await health()).status, 'degraded');

  // The port is freed; `trunkgate reload` (the admin API) binds it.
  held.close();
  released = true;
  const r = await reloadJson(dir, env);
  assert.equal(r.code, 0, JSON.stringify(r.report));
  const listeners = r.report.listeners as { bound: string[]; stillFailed: unknown[] };
  assert.equal(listeners.bound.length, 1, JSON.stringify(r.report));
  assert.deepEqual(listeners.stillFailed, []);
  assert.ok((r.report.applied as string[]).includes('listeners'));
  await gw.waitFor((l) => l.code === 'EVT_LISTENER_UP' && typeof l.msg === 'string' && l.msg.includes('bound on retry') && l.port === ownPort, 5_000, mark);
  // /health reuses the engine's last report of its listeners for up to a second (src/admin/routes/health-route.ts):
  // it says ok once a report taken after the bind comes in.
  let up = await health();
  for (let i = 0; i < 30 && up.status !== 'ok'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = await health();
  }
  assert.equal(up.status, 'ok', JSON.stringify(up));
  assert.equal(up.listenersDown, undefined);
  const listed = (await admin<{ listeners: { tenant: string; port: number; state: string }[] }>('/listeners')).body;
  assert.deepEqual(listed.listeners.filter((l) => l.port === ownPort).map((l) => [l.tenant, l.state]), [['branch', 'listening']]);

  const call = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${ownPort}`, service: '3001', calls: 1, timeoutSec: 10 });
  assert.equal(call.exitCode, 0, call.errors || call.stderr);
});
