// A registration trunk sends its REGISTER (and its credentials) only where a call may go: an address a `dns:`
// registrar resolves to that is loopback, link-local (the cloud metadata service), multicast, unspecified or the
// gateway's own is skipped unless gateway.outbound.allowResolved lists it, counted and logged once a window
// (ERR_B2BUA_TARGET_REFUSED). With none left the attempt fails and backs off. The fake records each send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import type { ResolvedTarget, SipServerResolver } from '../../../src/b2bua/index.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { captureLog } from './fake-srf.js';

function recordingSrf(): RegisterSrf & { sent: string[]; answer(status: number): void } {
  const sent: string[] = [];
  let onResponse: ((res: { status: number; get(n: string): string | undefined }) => void) | undefined;
  return {
    sent,
    answer: (status) => onResponse?.({ status, get: () => undefined }),
    request(uri, opts, cb) {
      assert.equal(opts.method, 'REGISTER');
      // Where it goes: the address the Request-URI (the registration's domain) is sent to.
      assert.equal(uri, 'sip:carrier.test');
      sent.push((opts.proxy ?? uri).replace(/^<(.*)>$/, '$1'));
      cb(null, { on: (_e, fn) => { onResponse = fn; } });
      return undefined;
    },
  };
}

const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: 'dns:registrar.carrier.example', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
  expires: 600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, transport: 'udp', scheme: 'sip',
};

const answering = (...addresses: string[]): SipServerResolver => async () => ({
  ok: true, targets: addresses.map((address): ResolvedTarget => ({ address, port: 5060, transport: 'udp', domain: 'registrar.carrier.example' })),
});

const flush = () => new Promise((r) => setImmediate(r));
const refusedLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.code === 'ERR_B2BUA_TARGET_REFUSED');

test('register: a dns: registrar answering the metadata address and loopback gets no REGISTER: refused, counted, failed with back-off', async () => {
  const clock = new ManualClock(0);
  const srf = recordingSrf();
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock, resolve: answering('169.254.169.254', '127.0.0.1') });
  r.start();
  await flush();
  assert.deepEqual(srf.sent, [], 'no REGISTER left the gateway');
  let s = r.snapshot()[0]!;
  assert.equal(s.state, 'failed');
  assert.equal(s.resolvedRefused, 2);
  assert.equal(s.failures, 1);
  assert.equal(s.registers, 0);
  assert.match(s.lastError ?? '', /no address the gateway may register at/);
  assert.deepEqual(refusedLines(lines).map((l) => [l.address, l.tenant, l.registrar]), [['169.254.169.254', 'carrier', 'dns:registrar.carrier.example']]);

  clock.advance(4_999);
  await flush();
  assert.equal(r.snapshot()[0]!.resolvedRefused, 2, 'the back-off holds: not asked again yet');
  clock.advance(1);
  await flush();
  s = r.snapshot()[0]!;
  assert.deepEqual(srf.sent, []);
  assert.equal(s.resolvedRefused, 4);
  assert.equal(s.failures, 2);
  assert.equal(refusedLines(lines).length, 1, 'logged once a window per tenant');
  r.close();
});

test('register: gateway.outbound.allowResolved lets an operator register at a loopback answer knowingly; the metadata address stays refused', async () => {
  const clock = new ManualClock(0);
  const srf = recordingSrf();
  const { log } = captureLog();
  const r = new Registrations({
    srf, specs: [spec], log, clock, resolve: answering('169.254.169.254', '127.0.0.1'), policy: { outbound: { allowResolved: ['127.0.0.0/8'] } },
  });
  r.start();
  await flush();
  assert.deepEqual(srf.sent, ['sip:127.0.0.1:5060']);
  srf.answer(200);
  assert.equal(r.snapshot()[0]!.state, 'registered');
  assert.equal(r.snapshot()[0]!.resolvedRefused, 1);
  r.close();
});

test('register: after a failure the next address goes, never a refused one between', async () => {
  const clock = new ManualClock(0);
  const srf = recordingSrf();
  const { log } = captureLog();
  const r = new Registrations({
    srf, specs: [spec], log, clock, resolve: answering('127.0.0.1', '169.254.169.254', '127.0.0.2'), policy: { outbound: { allowResolved: ['127.0.0.0/8'] } },
  });
  r.start();
  await flush();
  srf.answer(503);
  clock.advance(5_000);
  await flush();
  srf.answer(503);
  clock.advance(10_000);
  await flush();
  assert.deepEqual(srf.sent, ['sip:127.0.0.1:5060', 'sip:127.0.0.2:5060', 'sip:127.0.0.1:5060']);
  r.close();
});
