import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { flowOfAnswer, unreachable } from '../../../src/b2bua/register-probe.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { fakeRegisterSrf, type SentRequest } from './register-fake-srf.js';
import { captureLog } from './fake-srf.js';


const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: '127.0.0.1:5061', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
  expires: 600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, probeSeconds: 2, transport: 'tls', scheme: 'sip',
};
const flush = () => new Promise((r) => setImmediate(r));
const via = (rport: number) => ({ Via: `SIP/2.0/TLS 127.0.0.1:5061;rport=${rport};branch=z9hG4bK1;received=127.0.0.1` });

test('the flow of an answer is the received and rport of our Via; an engine-made 408/503 means the registrar was not reached', () => {
  assert.equal(flowOfAnswer({ status: 200, get: () => 'SIP/2.0/TCP 10.0.0.1:5060;rport=40123;received=192.0.2.7;branch=z9hG4bK1' }), '192.0.2.7:40123');
  assert.equal(flowOfAnswer({ status: 200, get: () => 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1' }), undefined);
  const peer = (v: string) => ({ status: 503, get: (n: string) => (n === 'X-Trunkgate-Peer' ? v : undefined) });
  assert.equal(unreachable(peer('verified=0;transport=tls;origin=engine')), true);
  assert.equal(unreachable(peer('verified=0;transport=tls')), false, 'the registrar\'s own 503 is an answer');
});

test('probes while registered: the same connection keeps the binding; another one, or an answer after silence, registers again at once', async (t) => {
  const clock = new ManualClock(1_000_000);
  const srf = fakeRegisterSrf();
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock });
  t.after(() => r.close());
  r.start();
  await flush();
  srf.sent[0]!.answer(200, { ...via(40_001), Expires: '600' });
  await flush();
  assert.equal(r.snapshot()[0]!.state, 'registered');

  clock.advance(2_000);
  await flush();
  assert.deepEqual(srf.sent.map((s) => s.method), ['REGISTER', 'OPTIONS']);
  srf.sent[1]!.answer(404, via(40_001));
  await flush();
  clock.advance(2_000);
  await flush();
  assert.deepEqual(srf.sent.map((s) => s.method), ['REGISTER', 'OPTIONS', 'OPTIONS'], 'same connection: no REGISTER');

  srf.sent[2]!.answer(200, via(40_777));
  await flush();
  assert.deepEqual(srf.sent.map((s) => s.method), ['REGISTER', 'OPTIONS', 'OPTIONS', 'REGISTER'], 'a new connection: registered again now');
  assert.match(String(lines.find((l) => l.code === 'EVT_REGISTRATION_RENEW')?.why), /another connection/);
  srf.sent[3]!.answer(200, { ...via(40_777), Expires: '600' });
  await flush();

  // The registrar stops answering (the engine's 503), then answers again over the same flow: registered again.
  clock.advance(2_000);
  await flush();
  srf.sent[4]!.answer(503, { ...via(40_777), 'X-Trunkgate-Peer': 'verified=0;transport=tls;origin=engine' });
  await flush();
  clock.advance(2_000);
  await flush();
  srf.sent[5]!.answer(200, via(40_777));
  await flush();
  assert.deepEqual(srf.sent.slice(4).map((s) => s.method), ['OPTIONS', 'OPTIONS', 'REGISTER']);
  assert.equal(r.snapshot()[0]!.state, 'registered', 'the binding still counts until it runs out');
});
