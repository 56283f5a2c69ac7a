import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSipp, startSippUas } from '../support/sipp.js';
import { callRig } from '../integration/calls-support.js';

test('300 sipp calls with session timers and a maximum duration on: all complete, and no call or leg is left held, no BYE failed', async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const r = await callRig(t, (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'udp', sipServer: `127.0.0.1:${uas.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [],
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far', noAnswerTimeoutSeconds: 10 }],
    calls: { sessionTimer: { expiresSeconds: 1800, minSeSeconds: 90 }, maxDurationSeconds: 3600 },
  }));
  const res = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${r.sipPort}`, service: '5000', calls: 300, rate: 100, limit: 50, timeoutSec: 60 });
  assert.equal(res.exitCode, 0, res.errors || res.stderr);
  assert.equal(res.stats.successful, 300);
  const deadline = Date.now() + 5_000;
  while ((r.app.activeCalls > 0 || r.cdrs.length < 300) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  const s = r.app.stats();
  assert.equal(r.app.activeCalls, 0, 'every call left the active set');
  assert.equal(s.active, 0);
  assert.equal(s.legsUp, 0);
  assert.equal(s.completed, 300);
  assert.equal(s.byeFailed, 0);
  assert.deepEqual(s.endedByGateway, {});
  assert.equal(r.cdrs.filter((c) => c.cause === 'normal').length, 300);
});
