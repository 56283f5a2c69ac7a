// A policy reload that does not touch a registration trunk (here: a dial peer added) leaves its binding alone: no
// REGISTER, still registered, and its next refresh carries the same Call-ID and a higher CSeq (RFC 3261 §10.2).
// Before, each reload restarted every registration: a new Call-ID, the CSeq from 1, the state reset, and a binding
// still valid reported failed when the registrar then did not answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import type { RegistrationStatus } from '../../src/b2bua/registrations.js';
import { ManualClock } from '../../src/common/index.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, ua } from '../support/mini-ua.js';

test('registration: a policy reload that leaves the registration as it was sends no REGISTER; the refresh keeps Call-ID and raises CSeq', async (t) => {
  const registers: string[] = [];
  const reg = await ua(t, (msg, u, from) => {
    if (!msg.startsWith('REGISTER ')) return;
    registers.push(msg);
    u.send(answer(msg, '200 OK', u.port).replace(/Contact: [^\r]*/, `Contact: ${header(msg, 'Contact')};expires=600`), from);
  });
  const engine = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'carrier' }], control: { host: '127.0.0.1', port: 0, secret: 's' } });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const policyWith = (dialPeers: number): B2buaPolicy => ({
    tenants: {
      carrier: { transport: 'udp', sipServer: `127.0.0.1:${reg.port}`,
        register: { registrar: `127.0.0.1:${reg.port}`, username: 'u1', password: 'pw', realm: 'carrier.test', expires: 600, contactUser: 'u1', retrySeconds: { min: 30, max: 60 }, probeSeconds: 0 } },
    },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: addrs.sip[0]!.port, tenant: 'carrier' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    tlsPeers: {}, dialPeers: Array.from({ length: dialPeers }, (_, i) => ({ id: `p${i}`, destinationPattern: '^9\\d+$', tenant: 'carrier' })),
  } as unknown as B2buaPolicy);
  const clock = new ManualClock(Date.now());
  const { log, records } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy: policyWith(0), log, clock });
  t.after(() => app.close());
  const status = (): RegistrationStatus | undefined => (app.stats() as { registrations?: RegistrationStatus[] }).registrations?.[0];
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  };
  await until(() => status()?.state === 'registered');
  assert.equal(status()?.state, 'registered');
  const expiresAt = status()!.expiresAt;

  for (let i = 1; i <= 3; i++) app.setPolicy(policyWith(i));
  clock.advance(1_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(registers.length, 1, 'no REGISTER for the reloads');
  assert.equal(status()?.state, 'registered');
  assert.equal(status()?.expiresAt, expiresAt);

  clock.advance(539_000);
  await until(() => registers.length >= 2 && status()?.registers === 2 && status()?.lastStatus === 200);
  assert.equal(registers.length, 2, 'the refresh, when it was due');
  assert.equal(header(registers[1]!, 'Call-ID'), header(registers[0]!, 'Call-ID'));
  assert.ok(Number.parseInt(header(registers[1]!, 'CSeq'), 10) > Number.parseInt(header(registers[0]!, 'CSeq'), 10));
  assert.equal(records.filter((l) => l.code === 'EVT_REGISTRATION_UP').length, 1);
  assert.equal(records.filter((l) => l.code === 'EVT_REGISTRATION_DOWN').length, 0);
});
