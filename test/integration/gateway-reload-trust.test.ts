// Trusted sources follow a configuration reload without a restart (the product's own entry, src/main.ts, with its
// engine in a worker thread): sipp from a source no tenant trusts (127.0.0.23) gets 403 with the Reason; the address
// added to the tenant's trustedSources and the gateway reloaded (admin API), the next call from it connects end to
// end (sipp ↔ sipp); removed again and reloaded (SIGHUP), 403 again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, runSipp, startSippUas } from '../support/sipp.js';
import { startTrunkgate } from '../support/trunkgate-process.js';

const NEWCOMER = '127.0.0.23';

test('a source added to trustedSources is let in after a reload, and refused again once removed and reloaded', async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const sipPort = await freePort();
  const adminPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-reload-trust-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const gatewayYaml = (pbxSources: string) => writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort}, tokenEnv: RELOAD_TEST_TOKEN }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [${pbxSources}] }
  far: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
`);
  gatewayYaml('127.0.0.1');
  const gw = await startTrunkgate(t, root, {
    env: { RELOAD_TEST_TOKEN: 'cli-token' }, ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: admin API on'),
  });
  const refused = async (what: string): Promise<void> => {
    const r = await runSipp({ scenario: { file: 'uac-invite-403.xml' }, localIp: NEWCOMER, remote: `127.0.0.1:${sipPort}`, service: '2001', calls: 1, timeoutSec: 10 });
    assert.equal(r.exitCode, 0, `${what}: ${r.errors || r.stderr}`);
  };
  const connects = async (what: string): Promise<void> => {
    const r = await runSipp({ scenario: { file: 'uac-call.xml' }, localIp: NEWCOMER, remote: `127.0.0.1:${sipPort}`, service: '2002', calls: 1, timeoutSec: 20 });
    assert.equal(r.exitCode, 0, `${what}: ${r.errors || r.stderr}`);
    assert.equal(r.stats.successful, 1);
  };

  await refused('no tenant trusts the newcomer');

  // Added through the admin API's reload: applied, nothing waiting for a restart, and the next call connects.
  gatewayYaml(`127.0.0.1, ${NEWCOMER}`);
  const res = await fetch(`http://127.0.0.1:${adminPort}/reload/config`, { method: 'POST', headers: { authorization: 'Bearer cli-token' } });
  const body = (await res.json()) as { applied: string[]; needsRestart: unknown[]; trust?: { ok: boolean; tenants: number } };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.applied, ['trustedSources'], JSON.stringify(body));
  assert.deepEqual(body.needsRestart, []);
  assert.deepEqual([body.trust?.ok, body.trust?.tenants], [true, 2]);
  await connects('the newcomer, trusted by pbx now');

  // Removed again, reloaded by SIGHUP: refused again.
  gatewayYaml('127.0.0.1');
  const mark = gw.lines.length;
  gw.child.kill('SIGHUP');
  const reloaded = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: configuration reloaded'), 10_000, mark);
  assert.deepEqual(reloaded.line.applied, ['trustedSources']);
  assert.deepEqual(reloaded.line.needsRestart, []);
  await refused('the newcomer, no longer trusted');
});
