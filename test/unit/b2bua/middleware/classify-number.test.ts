import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calledUser, classifyNumber } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const cases: Array<[uri: string, number: string, category: string | undefined]> = [
  ['sip:2125551234@gw.example.com', '2125551234', 'local'],
  ['sips:+44-20-7123-4567@gw.example.com;transport=tls', '+442071234567', 'international'],
  ['sip:011442071234567;npdi@gw.example.com', '011442071234567', 'international'],
  ['tel:+1-800-555-2000;phone-context=example.com', '+18005552000', 'tollFree'],
  ['sip:%2B442071234567@gw.example.com', '+442071234567', 'international'],
  ['sip:999@gw.example.com', '999', undefined],
];

for (const [uri, number, category] of cases) {
  test(`classify-number: ${uri} → ${number || '(none)'} ${category ?? '(no category)'}`, () => {
    const d = deps();
    const req = fakeInvite({ uri });
    req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [] };
    let nexts = 0;
    classifyNumber(d.deps)(req, new FakeRes(), () => nexts++);
    assert.equal(nexts, 1);
    assert.equal(req.locals.calledNumber, number);
    assert.equal(req.locals.category, category);
  });
}

test('classify-number: a Request-URI with no user names no number to dial: 484, nothing further', () => {
  const d = deps();
  const req = fakeInvite({ uri: 'sip:gw.example.com' });
  req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [] };
  const res = new FakeRes();
  classifyNumber(d.deps)(req, res, () => assert.fail('refused'));
  assert.equal(res.status, 484);
  assert.equal(d.stats.badNumber, 1);
});

test('calledUser: no user part, or a URI of another scheme', () => {
  assert.equal(calledUser('sip:host.example'), undefined);
  assert.equal(calledUser('mailto:a@b'), undefined);
  assert.equal(calledUser('sip:%zz@h'), '%zz', 'a bad escape is kept as it is');
});
