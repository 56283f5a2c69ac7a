// A fatal exit keeps the CDRs the gateway holds: the engine worker dies (the test fault of src/engine/worker.ts)
// while PostgreSQL cannot be reached and the records wait in memory for their batch; the process still ends 70, and
// every record it logged is in the JSON-lines file and in the database's on-disk queue. And what cannot be made
// safe in the time the exit allows is counted in one line.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CdrSink, CdrSinkStats } from '../../src/cdr/index.js';
import { closeCdrsBeforeExit } from '../../src/start-command.js';
import { captureLog } from '../support/log-capture.js';
import { ua } from '../support/mini-ua.js';
import { freePort } from '../support/sipp.js';
import { startTrunkgate } from '../support/trunkgate-process.js';
import { answeringUa, placeCall } from './calls-support.js';

/** A loopback port nothing listens on: PostgreSQL there refuses every connection. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const jsonLines = (file: string): Array<{ callId: string }> => (existsSync(file) ? readFileSync(file, 'utf8') : '')
  .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { callId: string });

async function gateway(t: TestContext, farPort: number, faultMs: number) {
  const sipPort = await freePort();
  const dbPort = await closedPort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-cdr-exit-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A batch goes only when full or a minute after its first record: until then the records are in memory.
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { enabled: false }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  far: { transport: udp, sipServer: 127.0.0.1:${farPort} }
dialPeers:
  - { id: far, destinationPattern: "^\\\\d+$", tenant: far, from: [pbx] }
cdr:
  file: { path: ${join(root, 'cdr', 'cdr.jsonl')} }
  postgres: { host: 127.0.0.1, port: ${dbPort}, database: cdr, user: cdr, batchSize: 1000, flushMs: 60000, queueDir: ${join(root, 'cdr', 'queue')} }
`);
  const p = await startTrunkgate(t, root, {
    env: { NODE_ENV: 'test', TRUNKGATE_TEST_ENGINE_FAULT: `exit:${faultMs}` },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  return { p, sipPort, cdrDir: join(root, 'cdr') };
}

test('the engine worker dying ends the process 70 only once every CDR it logged is in the file and in the database\'s on-disk queue', async (t) => {
  const far = await answeringUa(t);
  const { p, sipPort, cdrDir } = await gateway(t, far.port, 4_000);
  // Calls to a number no dial peer takes: each refused at once, each with its CDR.
  const caller = await ua(t);
  for (let i = 0; i < 5; i++) await placeCall(caller, sipPort, `no-route-${i}`);
  const [code] = await once(p.child, 'exit') as [number | null];
  assert.equal(code, 70);
  const logged = p.lines.filter((l) => l.msg === 'cdr').map((l) => (l.cdr as { callId: string }).callId).sort();
  assert.ok(logged.length >= 5, `the refused calls' records: ${logged.length}`);
  assert.deepEqual(jsonLines(join(cdrDir, 'cdr.jsonl')).map((r) => r.callId).sort(), logged, 'all in the JSON-lines file');
  const queueDir = join(cdrDir, 'queue');
  const queued = readdirSync(queueDir).filter((n) => n.endsWith('.jsonl')).flatMap((n) => jsonLines(join(queueDir, n)));
  assert.deepEqual(queued.map((r) => r.callId).sort(), logged, 'all in the on-disk queue for the database');
  assert.equal(p.lines.filter((l) => l.code === 'ERR_CDR_EXIT_UNSAFE').length, 0);
});

test('an exit whose CDR sink does not close in the time allowed says how many records are not safe, per sink, in one line', async () => {
  const cap = captureLog();
  const stats = { records: 7, file: { written: 3, lost: 1 }, postgres: { pending: 2 } } as unknown as CdrSinkStats;
  const stuck: CdrSink = { write: () => undefined, flush: () => new Promise(() => undefined), close: () => new Promise(() => undefined), stats: () => stats };
  await closeCdrsBeforeExit(stuck, cap.log, 20);
  const lines = cap.records.filter((l) => l.code === 'ERR_CDR_EXIT_UNSAFE');
  assert.equal(lines.length, 1);
  assert.deepEqual([lines[0]!.file, lines[0]!.database, lines[0]!.closed], [3, 2, false]);
});
