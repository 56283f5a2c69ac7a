// A fatal exit with calls up keeps their CDRs: the engine worker dies (the test fault of src/engine/worker.ts) while
// calls are up on both apps of a two-app gateway (this thread's and an app worker's); the process ends 70, and each
// call has one record, cause gateway-exit, written before the CDR file was closed (src/start-command.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { startTrunkgate } from '../support/trunkgate-process.js';
import { answeringUa, placeCall } from './calls-support.js';

test('the engine worker dying with calls up in every app ends the process 70 with a gateway-exit CDR for each call', { timeout: 90_000 }, async (t) => {
  const far = await answeringUa(t);
  const sipPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-cdr-exit-up-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  workers: 2
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  far: { transport: udp, sipServer: 127.0.0.1:${far.port} }
dialPeers:
  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }
cdr:
  file: { path: ${join(root, 'cdr', 'cdr.jsonl')} }
`);
  const p = await startTrunkgate(t, root, {
    env: { NODE_ENV: 'test', TRUNKGATE_TEST_ENGINE_FAULT: 'exit:9000' },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  const caller = await ua(t);
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) {
    const c = await placeCall(caller, sipPort, `555000${i}`);
    assert.match(c.final, /^SIP\/2\.0 200/);
    placed.push(c.callId);
  }
  const [code] = await once(p.child, 'exit') as [number | null];
  assert.equal(code, 70);
  // The engine hands new calls to the apps in turn: both held some.
  assert.ok(p.lines.some((l) => typeof l.msg === 'string' && /2 apps on the engine/.test(l.msg)), 'the gateway ran two apps');
  const file = join(root, 'cdr', 'cdr.jsonl');
  const records = (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { callId: string; cause?: string; status?: number; endAt?: string });
  assert.deepEqual(records.map((r) => r.callId).sort(), [...placed].sort(), 'one record per call, in the file');
  for (const r of records) {
    assert.equal(r.cause, 'gateway-exit');
    assert.equal(r.status, 200, 'the calls were up');
  }
  const logged = p.lines.filter((l) => l.msg === 'cdr').map((l) => (l.cdr as { callId: string }).callId).sort();
  assert.deepEqual(logged, [...placed].sort(), 'one cdr log line per call');
  // The worker's calls, written in the main thread from the pool's copy (src/b2bua/workers/held-calls.ts).
  assert.ok(p.lines.some((l) => l.msg === 'cdr' && l.app === 1), 'records of the app worker\'s calls');
  const exitLine = p.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: exiting with'));
  assert.equal(exitLine?.calls, 4);
});
