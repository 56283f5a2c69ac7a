// A called number is classified by every reading a carrier may make of it: decoration around a denied number (a
// letter, '#', '_', ';', ',', fullwidth digits) does not carry it past the category that denies it; a name without
// digits is in no category and goes where the dial peers send it; a Request-URI without a user names nothing: 484.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPipeline, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { RELAYED_FLOW } from '../../../../src/b2bua/register-relay.js';
import { BUILTIN_CATEGORIES } from '../../../../src/config/default-categories.js';
import { settle } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, run, ScriptedSrf } from '../pipeline-fakes.js';
import { cdrOf } from './place-call-rig.js';

const policy = {
  tenants: {
    pbx: { transport: 'udp', sipServer: '127.0.0.1:5080' },
    carrier: { transport: 'udp', sipServer: '198.51.100.1:5060' },
    phones: { transport: 'udp' },
  },
  listeners: [{ transport: 'udp', host: '127.0.0.1', port: 5060, tenant: 'pbx' }],
  defaultTenant: 'pbx',
  categories: [...BUILTIN_CATEGORIES],
  dialPeers: [{ id: '100', destinationPattern: '.', tenant: 'carrier', from: ['pbx'] }],
} as B2buaPolicy;

async function call(uri: string, mark?: (req: object) => void) {
  const d = deps(policy);
  const srf = new ScriptedSrf();
  const req = fakeInvite({ uri, receivedOn: '127.0.0.1:5060', headers: { From: '<sip:100@pbx>;tag=1', 'Max-Forwards': '70' } });
  mark?.(req);
  const res = new FakeRes();
  run(buildPipeline({ ...d.deps, srf }), req, res);
  await settle();
  return { ...d, srf, req, res };
}

const decorated = [
  ['sip:19005551234%23@gw', '900Dialing'], ['sip:1900_5551234@gw', '900Dialing'], ['sip:1900p5551234@gw', '900Dialing'],
  ['sip:19005551234%3Bfoo@gw', '900Dialing'], ['sip:%EF%BC%919005551234@gw', '900Dialing'], ['sip:p*6719005551234@gw', '900Dialing'],
  ['sip:011442071234%2C5@gw', 'international'], ['sip:+44%2020%207123%204567,@gw', 'international'], ['sip:x%2B442071234567@gw', 'international'],
] as const;

for (const [uri, category] of decorated) {
  test(`decorated number: ${uri} is read as the number it decorates → 403 ${category}, no B leg`, async () => {
    const c = await call(uri);
    assert.equal(c.res.status, 403);
    assert.match(c.res.reasonHeader ?? '', new RegExp(`category ${category}`));
    assert.equal(c.srf.attempts.length, 0, 'no B leg');
    assert.equal(cdrOf(c.lines)!.cause, `denied:${category}`);
  });
}

test('no called number: sip:gw → 484 with a Reason, no B leg, counted, CDR cause bad-number', async () => {
  const c = await call('sip:gw');
  assert.equal(c.res.status, 484);
  assert.match(c.res.reasonHeader ?? '', /^SIP;cause=484;text="No called number/);
  assert.equal(c.srf.attempts.length, 0, 'no B leg');
  assert.equal(c.stats.badNumber, 1);
  assert.equal(c.stats.snapshot().badNumber, 1);
  assert.deepEqual(c.stats.calls.snapshot().failed, { 484: 1 });
  const cdr = cdrOf(c.lines)!;
  assert.equal(cdr.cause, 'bad-number');
  assert.equal(cdr.status, 484);
  assert.equal(cdr.releasedBy, 'gateway');
  assert.ok(c.lines.some((l) => l.code === 'ERR_B2BUA_NUMBER_INVALID'));
});

for (const [uri, out] of [['sip:alice@gw', 'sip:alice@198.51.100.1:5060'], ['sip:%E2%B4%99005551234@gw', 'sip:%E2%B4%99005551234@198.51.100.1:5060']] as const) {
  test(`a name, or digits no category denies, goes where the dial peers send it, written as it came: ${uri}`, async () => {
    const c = await call(uri);
    assert.equal(c.res.status, undefined, 'no refusal');
    assert.equal(c.srf.attempts[0]?.uri, out);
    assert.equal(c.stats.badNumber, 0);
  });
}

test('bad number: the same numbers without decoration are judged by their category (900 → 403)', async () => {
  const c = await call('sip:19005551234@gw');
  assert.equal(c.res.status, 403);
  assert.equal(c.stats.badNumber, 0);
});

for (const [uri, category] of [['sip:*6719005551234@gw', '900Dialing'], ['sip:*67*19005551234%23@gw', '900Dialing'], ['sip:%2331%2319005551234@gw', '900Dialing'],
  ['sip:*72011442071234567@gw', 'international']] as const) {
  test(`bad number: a feature prefix does not hide a denied number: ${uri} → 403 ${category}`, async () => {
    const c = await call(uri);
    assert.equal(c.res.status, 403);
    assert.match(c.res.reasonHeader ?? '', new RegExp(`category ${category}`));
    assert.equal(c.srf.attempts.length, 0);
    assert.equal(cdrOf(c.lines)!.cause, `denied:${category}`);
  });
}

for (const [uri, out] of [['sip:2125551234@gw', 'sip:2125551234@198.51.100.1:5060'], ['sip:+1-212-555-1234@gw', 'sip:+12125551234@198.51.100.1:5060'],
  ['sip:*72%23@gw', 'sip:*72%23@198.51.100.1:5060'], ['sip:*6712125551234@gw', 'sip:*6712125551234@198.51.100.1:5060']] as const) {
  test(`bad number: a dialable number still goes out: ${uri}`, async () => {
    const c = await call(uri);
    assert.equal(c.res.status, undefined, 'no refusal');
    assert.equal(c.srf.attempts[0]?.uri, out);
    assert.equal(c.stats.badNumber, 0);
  });
}

test('bad number: a call to a phone registered through the gateway may name a user (its Contact user), on that path only', async () => {
  const flow = { transport: 'udp', address: '203.0.113.7', port: 5062, tenant: 'phones', until: 2_000_000_000 };
  const c = await call('sip:alice@gw', (req) => Object.assign(req, { [RELAYED_FLOW]: flow }));
  assert.equal(c.res.status, undefined);
  assert.equal(c.srf.attempts[0]?.uri, 'sip:alice@203.0.113.7:5062');
  assert.equal(c.stats.badNumber, 0);
});
