import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { captureLog } from './fake-srf.js';

type Answer = { status: number; headers?: Record<string, string> };

/** A registrar that answers each REGISTER at once with what `script` says for its Expires. */
function scriptedRegistrar(script: (expires: number, n: number) => Answer): RegisterSrf & { expires: number[] } {
  const expires: number[] = [];
  return {
    expires,
    request(_uri, opts, cb) {
      const asked = Number(opts.headers.Expires);
      expires.push(asked);
      const a = script(asked, expires.length);
      const headers = a.headers ?? {};
      cb(null, {
        on: (_e, fn) => {
          queueMicrotask(() => fn({ status: a.status, get: (n) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1] }));
        },
      });
      return undefined;
    },
  };
}

const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: '127.0.0.1:5070', username: 'trunk1', password: 'pw', domain: 'carrier.test',
  expires: 3600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, transport: 'udp', scheme: 'sip',
};

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

test('a registrar that raises Min-Expires on every 423: one retry a cycle, then the retry wait, counted and logged once', async () => {
  const clock = new ManualClock(0);
  const srf = scriptedRegistrar((asked) => ({ status: 423, headers: { 'Min-Expires': String(asked + 1) } }));
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock, timeoutMs: 2_000 });
  r.start();
  await flush();
  assert.deepEqual(srf.expires, [3600, 3601], 'the first REGISTER and the one retry with the larger interval, no more');
  const s = r.snapshot()[0]!;
  assert.equal(s.state, 'failed');
  assert.equal(s.intervalTooBrief, 1);
  assert.equal(s.failures, 1);
  assert.match(s.lastError ?? '', /423 with Min-Expires 3602 to Expires 3601 again/);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_TOO_BRIEF').length, 1);
  assert.equal(lines.find((l) => l.code === 'ERR_B2BUA_REGISTER_TOO_BRIEF')?.level, 40, 'a warn line');

  clock.advance(4_999);
  await flush();
  assert.equal(srf.expires.length, 2, 'nothing before the retry wait (retrySeconds.min)');
  clock.advance(1);
  await flush();
  assert.deepEqual(srf.expires, [3600, 3601, 3602, 3603], 'the next cycle: the interval last asked for, and its one retry');
  assert.equal(r.snapshot()[0]!.intervalTooBrief, 2);
  assert.equal(r.snapshot()[0]!.failures, 2);
  clock.advance(9_999);
  await flush();
  assert.equal(srf.expires.length, 4, 'the wait doubles like any failure');
  clock.advance(1);
  await flush();
  assert.equal(srf.expires.length, 6);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_TOO_BRIEF').length, 1, 'rate-limited: one line per tenant a window');
  r.close();
});

test('a 423 with a usable Min-Expires is retried at once in each cycle: registered, and a later refresh may retry again', async () => {
  const clock = new ManualClock(0);
  let floor = 1200;
  const srf = scriptedRegistrar((asked): Answer => (asked < floor
    ? { status: 423, headers: { 'Min-Expires': String(floor) } }
    : { status: 200, headers: { Expires: String(asked) } }));
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [{ ...spec, expires: 600 }], log, clock });
  r.start();
  await flush();
  assert.deepEqual(srf.expires, [600, 1200]);
  assert.equal(r.snapshot()[0]!.state, 'registered');
  assert.equal(r.snapshot()[0]!.granted, 1200);
  // The registrar raises its floor before the refresh: the refresh cycle gets its own one retry.
  floor = 1800;
  clock.advance(1_140_000);
  await flush();
  assert.deepEqual(srf.expires, [600, 1200, 1200, 1800]);
  assert.equal(r.snapshot()[0]!.state, 'registered');
  assert.equal(r.snapshot()[0]!.intervalTooBrief, 0);
  assert.equal(r.snapshot()[0]!.failures, 0);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_TOO_BRIEF').length, 0);
  r.close();
});

test('a 423 without a usable Min-Expires is a failure with its wait, counted', async () => {
  const clock = new ManualClock(0);
  const srf = scriptedRegistrar(() => ({ status: 423 }));
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock });
  r.start();
  await flush();
  assert.deepEqual(srf.expires, [3600]);
  assert.equal(r.snapshot()[0]!.intervalTooBrief, 1);
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_REGISTER_TOO_BRIEF').length, 1);
  clock.advance(5_000);
  await flush();
  assert.deepEqual(srf.expires, [3600, 3600]);
  r.close();
});
