// A policy reload hands the registrations on: an unchanged one keeps its Call-ID, CSeq, state and timers (RFC 3261
// §10.2: one Call-ID for the boot cycle, a binding still valid stays registered); a changed one starts afresh.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { fakeRegisterSrf, type SentRequest } from './register-fake-srf.js';
import { captureLog } from './fake-srf.js';


const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: '127.0.0.1:5070', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
  expires: 600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, transport: 'udp', scheme: 'sip',
};
const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};
const cseq = (s: SentRequest) => Number.parseInt(s.headers.CSeq!, 10);

test('reload: an unchanged registration keeps its binding, Call-ID and rising CSeq; no REGISTER until its refresh is due', async () => {
  const clock = new ManualClock(0);
  const srf = fakeRegisterSrf();
  const { log, lines } = captureLog();
  const r1 = new Registrations({ srf, specs: [spec], log, clock });
  r1.start();
  await flush();
  srf.sent[0]!.answer(200, { Expires: '600' });
  const expiresAt = r1.snapshot()[0]!.expiresAt;
  clock.advance(100_000);
  await flush();
  const r2 = new Registrations({ srf, specs: [{ ...spec, retrySeconds: { min: 10, max: 60 }, probeSeconds: 0 }], log, clock, previous: r1 });
  r1.close();
  r2.start();
  await flush();
  clock.advance(1_000);
  await flush();
  assert.equal(srf.sent.length, 1, 'no REGISTER for a reload');
  assert.equal(r2.snapshot()[0]!.state, 'registered');
  assert.equal(r2.snapshot()[0]!.expiresAt, expiresAt);
  assert.equal(r2.snapshot()[0]!.registers, 1);
  // Again, before the first handed-on one ever sent anything.
  const r3 = new Registrations({ srf, specs: [spec], log, clock, previous: r2 });
  r2.close();
  r3.start();
  clock.advance(438_999);
  await flush();
  assert.equal(srf.sent.length, 1, 'not yet: the refresh is due 540 s after the 200');
  clock.advance(1);
  await flush();
  assert.equal(srf.sent.length, 2, 'refreshed when due');
  assert.equal(srf.sent[1]!.headers['Call-ID'], srf.sent[0]!.headers['Call-ID']);
  assert.ok(cseq(srf.sent[1]!) > cseq(srf.sent[0]!));
  srf.sent[1]!.answer(200, { Expires: '600' });
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_UP').length, 1, 'registered once, through three policies');
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_DOWN').length, 0);
  r3.close();
});

test('reload: a REGISTER out at the reload is waited for (its timeout) before the next; a changed registration starts afresh', async () => {
  const clock = new ManualClock(0);
  const srf = fakeRegisterSrf();
  const { log } = captureLog();
  const r1 = new Registrations({ srf, specs: [spec, { ...spec, tenant: 'other', contactUser: 'o1', username: 'o1' }], log, clock, timeoutMs: 2_000 });
  r1.start();
  await flush();
  assert.equal(srf.sent.length, 2);
  const [carrier, other] = [srf.sent[0]!, srf.sent[1]!];
  const r2 = new Registrations({ srf, specs: [spec, { ...spec, tenant: 'other', contactUser: 'o1', username: 'o1', password: 'new' }], log, clock, timeoutMs: 2_000, previous: r1 });
  r1.close();
  r2.start();
  await flush();
  assert.equal(srf.sent.length, 3, 'the changed one registers at once');
  assert.notEqual(srf.sent[2]!.headers['Call-ID'], other.headers['Call-ID'], 'a new registration: a new Call-ID');
  carrier.answer(200, { Expires: '600' });
  assert.equal(r2.snapshot()[0]!.state, 'unregistered', 'the answer went to the registrations replaced');
  clock.advance(1_999);
  await flush();
  assert.equal(srf.sent.length, 3, 'one REGISTER at a time: the one out had until its timeout');
  clock.advance(1);
  await flush();
  assert.equal(srf.sent.length, 4);
  assert.equal(srf.sent[3]!.headers['Call-ID'], carrier.headers['Call-ID']);
  assert.ok(cseq(srf.sent[3]!) > cseq(carrier));
  srf.sent[3]!.answer(200, { Expires: '600' });
  assert.equal(r2.snapshot()[0]!.state, 'registered');
  r2.close();
});

test('reload: a failed registration waiting out its back-off keeps its wait, its failures and its Call-ID', async () => {
  const clock = new ManualClock(0);
  const srf = fakeRegisterSrf();
  const { log } = captureLog();
  const r1 = new Registrations({ srf, specs: [spec], log, clock });
  r1.start();
  await flush();
  srf.sent[0]!.answer(403);
  clock.advance(3_000);
  const r2 = new Registrations({ srf, specs: [spec], log, clock, previous: r1 });
  r1.close();
  r2.start();
  await flush();
  assert.deepEqual([r2.snapshot()[0]!.state, r2.snapshot()[0]!.failures, srf.sent.length], ['failed', 1, 1]);
  clock.advance(1_999);
  await flush();
  assert.equal(srf.sent.length, 1);
  clock.advance(1);
  await flush();
  assert.equal(srf.sent.length, 2, 'the retry when it was due, 5 s after the failure');
  assert.equal(srf.sent[1]!.headers['Call-ID'], srf.sent[0]!.headers['Call-ID']);
  r2.close();
});

test('a REGISTER still out at a reload keeps the probe from sending another until it has timed out', async () => {
  const clock = new ManualClock(0);
  let answerOptions = true;
  const regs: Array<{ at: number; cseq: string; answer(s: number, h?: Record<string, string>): void }> = [];
  const srf: RegisterSrf = {
    request(_uri, opts, cb) {
      let fn: ((r: { status: number; get(n: string): string | undefined }) => void) | undefined;
      const answer = (status: number, h: Record<string, string> = {}) => fn?.({ status, get: (n) => h[n] });
      if (opts.method === 'REGISTER') regs.push({ at: clock.now() / 1000, cseq: opts.headers.CSeq!, answer });
      cb(null, {
        on: (_e: string, f: typeof fn) => {
          fn = f;
          if (opts.method === 'OPTIONS' && answerOptions) queueMicrotask(() => answer(200));
        },
      });
      return undefined;
    },
  };
  const probing = { ...spec, probeSeconds: 4 };
  const settleAll = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const { log } = captureLog();
  const r1 = new Registrations({ srf, specs: [probing], log, clock });
  r1.start();
  await settleAll();
  regs[0]!.answer(200, { Expires: '600' });
  await settleAll();
  // The registrar goes quiet: a probe is lost, and the refresh REGISTER that goes at 540 s is not answered.
  answerOptions = false;
  for (let i = 0; i < 541; i++) {
    clock.advance(1000);
    await settleAll();
  }
  assert.equal(regs.length, 2);
  answerOptions = true;
  const r2 = new Registrations({ srf, specs: [probing], log, clock, previous: r1 });
  r1.close();
  r2.start();
  await settleAll();
  for (let i = 0; i < 8; i++) {
    clock.advance(1000);
    await settleAll();
  }
  assert.deepEqual(regs.map((r) => r.at), [0, 540], 'no REGISTER beside the one still out (RFC 3261 §10.2)');
  r2.close();
});
