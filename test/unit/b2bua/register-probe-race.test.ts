// A probe of the registrar that is answered while a refresh REGISTER is out: one REGISTER at a time (RFC 3261
// §10.2), so the probe's news (a new connection) does not send a second one; the REGISTER out is the renewal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { fakeRegisterSrf, type SentRequest } from './register-fake-srf.js';
import { captureLog } from './fake-srf.js';


const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: '127.0.0.1:5070', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
  expires: 60, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, probeSeconds: 25, transport: 'tcp', scheme: 'sip',
};
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const via = (rport: number) => ({ Via: `SIP/2.0/TCP 127.0.0.1:5070;rport=${rport};branch=z9hG4bK1;received=127.0.0.1` });
const registers = (srf: { sent: SentRequest[] }) => srf.sent.filter((s) => s.method === 'REGISTER');

test('register: a probe answered over a new connection while a refresh is out sends no second REGISTER', async () => {
  const clock = new ManualClock(0);
  const srf = fakeRegisterSrf();
  const { log } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock, timeoutMs: 10_000 });
  r.start();
  await flush();
  registers(srf)[0]!.answer(200, { Expires: '60', ...via(40001) });
  clock.advance(25_000);
  await flush();
  const probe = srf.sent.find((s) => s.method === 'OPTIONS');
  assert.ok(probe, 'the probe went at 25 s');
  clock.advance(5_000);
  await flush();
  assert.equal(registers(srf).length, 2, 'the refresh went at 30 s, the probe still unanswered');
  probe.answer(200, via(40002));
  await flush();
  assert.deepEqual(registers(srf).map((s) => s.cseq), [registers(srf)[0]!.cseq, registers(srf)[1]!.cseq], 'still the two');
  assert.equal(registers(srf).length, 2, 'no REGISTER while one is out');
  registers(srf)[1]!.answer(200, { Expires: '60', ...via(40002) });
  assert.equal(r.snapshot()[0]!.state, 'registered');
  r.close();
});
