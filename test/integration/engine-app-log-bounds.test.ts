// An app that connects, authenticates and drops in a loop is counted, not logged per connection: the engine keeps
// appConnects and appDisconnects, and writes its first connect and disconnect of the minute from that address plus one
// summary line each at the end (here, at close).
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildAdmin } from '../../src/admin/index.js';
import { startEngine } from '../../src/engine/index.js';
import { engineSnapshot } from '../../src/engine/engine-snapshot.js';
import { minimalAdminServices } from '../support/admin-services.js';
import { captureLog } from '../support/log-capture.js';
import { parsePromText } from '../support/prom-text.js';

const CYCLES = 200;
const CODES = new Set(['EVT_ENGINE_APP_CONNECTED', 'ERR_ENGINE_APP_GONE']);

/** Connects, authenticates, and closes once the engine has answered. */
function cycle(port: number, i: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('connect', () => {
      const m = `m${i}|authenticate|bounded-secret|`;
      c.write(`${Buffer.byteLength(m)}#${m}`);
    });
    c.once('data', () => c.destroy());
    c.on('close', () => resolve());
    c.on('error', () => undefined);
  });
}

test(`${CYCLES} app connects and disconnects from one address: both counted, a bounded number of lines with their codes`, async (t) => {
  const cap = captureLog();
  const engine = await startEngine({
    log: cap.log,
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'bounded-secret' },
  });
  let closed = false;
  t.after(() => (closed ? undefined : engine.close()));
  const { port } = engine.addresses()!.control;
  for (let i = 0; i < CYCLES; i++) await cycle(port, i);
  // The engine sees the last close a moment after the client.
  for (let i = 0; i < 100 && (engineSnapshot(engine).control.appDisconnects ?? 0) < CYCLES; i++) await new Promise((r) => setTimeout(r, 10));
  const control = engineSnapshot(engine).control;
  assert.equal(control.appConnects, CYCLES, JSON.stringify(control));
  assert.equal(control.appDisconnects, CYCLES, JSON.stringify(control));
  assert.equal(control.appsConnected, 0);
  // /stats and /metrics show them as the other control-port counters.
  const admin = await buildAdmin({
    ...minimalAdminServices(), engine: () => ({ mode: 'embedded', control: '-', connected: true }), engineSnapshot: () => Promise.resolve(engineSnapshot(engine)),
  });
  t.after(() => admin.close());
  const stats = (await admin.inject({ method: 'GET', url: '/stats' })).json() as { engine?: { control?: Record<string, number> } };
  assert.equal(stats.engine?.control?.appConnects, CYCLES, JSON.stringify(stats.engine?.control));
  assert.equal(stats.engine?.control?.appDisconnects, CYCLES);
  const prom = parsePromText((await admin.inject({ method: 'GET', url: '/metrics' })).body);
  assert.equal(prom.value('trunkgate_control_events_total', { event: 'appConnects' }), CYCLES);
  assert.equal(prom.value('trunkgate_control_events_total', { event: 'appDisconnects' }), CYCLES);

  closed = true;
  await engine.close();
  const coded = cap.records.filter((r) => (r.level as number) >= 30 && CODES.has(r.code as string));
  const lines = coded.map((r) => `${r.code as string} ${r.msg as string}`);
  assert.ok(coded.length <= 4, `lines with the codes: ${coded.length}\n${lines.join('\n')}`);
  for (const code of CODES) {
    assert.equal(coded.filter((r) => r.code === code && r.event === undefined).length, 1, `one ${code} line: ${lines.join('\n')}`);
    const summary = coded.find((r) => r.code === code && r.event === 'LOG_LINES_LEFT_OUT');
    assert.equal(summary?.suppressed, CYCLES - 1, `${code} summary: ${lines.join('\n')}`);
  }
  const untagged = cap.records.filter((r) => typeof r.msg === 'string' && /app (authenticated|disconnected)/.test(r.msg) && (r.level as number) >= 30 && r.code === undefined);
  assert.deepEqual(untagged, [], 'every connect and disconnect line carries a code');
});
