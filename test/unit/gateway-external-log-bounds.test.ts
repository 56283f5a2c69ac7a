// Engine mode external: a control connection to drachtio-server that keeps dropping right after authenticate
// (drachtio-srf starts its back-off over on each connect) is counted, not logged per drop: engineConnects and
// engineLosses move with every flap, and each code has its first line of the minute and one summary at its end.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { buildAdmin } from '../../src/admin/index.js';
import { ManualClock } from '../../src/common/clock.js';
import { trackEngineConnection, type SrfConnection } from '../../src/gateway-external.js';
import { minimalAdminServices } from '../support/admin-services.js';
import { captureLog } from '../support/log-capture.js';

const FLAPS = 100;
const CODES = new Set(['ERR_GATEWAY_ENGINE_LOST', 'EVT_GATEWAY_ENGINE_CONNECTED']);

function setup() {
  const cap = captureLog();
  const clock = new ManualClock(1_000_000);
  const srf = new EventEmitter();
  let closing = false;
  const link = trackEngineConnection(srf as unknown as SrfConnection, {
    control: '127.0.0.1:9022', hostport: 'udp/127.0.0.1:5060', log: cap.log, clock, closing: () => closing,
  });
  const coded = () => cap.records.filter((r) => CODES.has(r.code as string));
  return { srf, clock, link, coded, close: () => { closing = true; } };
}

test(`${FLAPS} drops and reconnects within a minute: counted each, a bounded number of lines, one summary per code`, async (t) => {
  const { srf, clock, link, coded } = setup();
  for (let i = 0; i < FLAPS; i++) {
    srf.emit('close');
    clock.advance(100);
    srf.emit('connect', null, `udp/127.0.0.1:${5060 + i}`);
    clock.advance(100);
  }
  const status = link.status();
  assert.equal(status.engineLosses, FLAPS);
  assert.equal(status.engineConnects, FLAPS + 1, 'the first connect at start is counted too');
  assert.equal(status.connected, true);
  assert.equal(status.hostport, `udp/127.0.0.1:${5060 + FLAPS - 1}`);
  // Within the minute: the start's connect, the first loss and the first reconnect.
  assert.deepEqual(coded().map((r) => r.code), ['EVT_GATEWAY_ENGINE_CONNECTED', 'ERR_GATEWAY_ENGINE_LOST', 'EVT_GATEWAY_ENGINE_CONNECTED']);
  clock.advance(60_000);
  const summaries = coded().filter((r) => r.event === 'LOG_LINES_LEFT_OUT');
  assert.deepEqual(summaries.map((r) => [r.code, r.suppressed]).sort(),
    [['ERR_GATEWAY_ENGINE_LOST', FLAPS - 1], ['EVT_GATEWAY_ENGINE_CONNECTED', FLAPS - 1]]);
  assert.ok(coded().length <= 5, `${coded().length} lines`);
  // /health shows the counts beside the connection's state.
  const admin = await buildAdmin({ ...minimalAdminServices(), engine: () => link.status() });
  t.after(() => admin.close());
  const health = (await admin.inject({ method: 'GET', url: '/health' })).json() as { engine: Record<string, unknown> };
  assert.deepEqual([health.engine.engineConnects, health.engine.engineLosses, health.engine.connected], [FLAPS + 1, FLAPS, true]);
});

test('a loss in a later minute is logged again, with the counts so far; the close at shutdown is no loss', () => {
  const { srf, clock, link, coded, close } = setup();
  srf.emit('close');
  srf.emit('connect', null, 'udp/127.0.0.1:5060');
  clock.advance(61_000);
  srf.emit('close');
  const lost = coded().filter((r) => r.code === 'ERR_GATEWAY_ENGINE_LOST' && r.event === undefined);
  assert.equal(lost.length, 2);
  assert.deepEqual([lost[1]!.engineLosses, lost[1]!.engineConnects, lost[1]!.level], [2, 2, 50]);
  srf.emit('connect', null, 'udp/127.0.0.1:5060');
  close();
  srf.emit('close');
  assert.equal(link.status().engineLosses, 2);
  assert.equal(link.status().connected, true);
  link.close();
});
