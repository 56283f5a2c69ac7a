// A hung app worker (its thread never yields; its control connection stays open, so the engine keeps handing it new
// calls) is found by the pool's liveness check (src/b2bua/workers/liveness.ts), logged, counted and ended: its calls
// get their records from the pool's copy, the engine ends their legs, and a new worker takes its place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callIdApp } from '../../src/b2bua/active-calls.js';
import { ua } from '../support/mini-ua.js';
import { poolRig } from '../support/app-pool-rig.js';
import { until } from '../support/until.js';
import { answeringUa, count, placeCall } from './calls-support.js';

test('an app worker that stops answering is ended within its bound, its calls recorded app-lost, and later calls answered', { timeout: 90_000 }, async (t) => {
  const far = await answeringUa(t);
  // Worker 1 hangs 6 s after it connects; silent for 1.5 s it is taken for hung.
  const rig = await poolRig(t, { apps: 2, farPort: far.port, fault: 'hang:6000', unresponsiveMs: 1_500 });
  const pool = await rig.started;
  const caller = await ua(t);
  for (let i = 0; i < 4; i++) assert.match((await placeCall(caller, rig.sipPort, `200${i}`)).final, /^SIP\/2\.0 200/);
  // The engine hands new calls to the apps in turn: the worker holds some of them (asked before it hangs).
  const held = (await pool.listCalls(100)).calls.filter((c) => callIdApp(c.id) === 1).length;
  assert.ok(held > 0, 'the worker holds calls');

  await until(() => pool.stats().appWorkersUnresponsive === 1, 'the worker counted unresponsive', 20_000);
  const line = rig.records.find((l) => l.code === 'ERR_B2BUA_WORKER' && /unresponsive/.test(String(l.msg)));
  assert.ok(line, 'one ERR_B2BUA_WORKER line says it was unresponsive');
  assert.equal(line.app, 1);
  // Its calls' records, from the pool's copy; the engine ends their legs as for any app that went away.
  await until(() => rig.sunk.filter((r) => r.cause === 'app-lost').length === held, `${held} app-lost records`, 10_000);
  await count(far, /^BYE /, held, 10_000);
  // Started again: both apps take calls.
  await until(() => pool.stats().appWorkerRestarts === 1 && pool.stats().appWorkersDown === 0, 'the worker started again', 30_000);
  for (let i = 0; i < 4; i++) assert.match((await placeCall(caller, rig.sipPort, `300${i}`)).final, /^SIP\/2\.0 200/, `call ${i} after the restart`);
  assert.equal(rig.records.filter((l) => /unresponsive/.test(String(l.msg))).length, 1, 'the new worker is not taken for hung');
});
