import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMaxForwards } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const cases: Array<[value: string | undefined, next: boolean, bLeg: number | undefined]> = [
  [undefined, true, undefined],
  ['70', true, 69],
  ['1', true, 0],
  ['0', false, undefined],
  [' 0 ', false, undefined],
  ['900', true, 254],
];

for (const [value, next, bLeg] of cases) {
  test(`check-max-forwards: ${value ?? '(absent)'} → ${next ? `B leg ${bLeg ?? 'default'}` : '483'}`, () => {
    const d = deps();
    const req = fakeInvite(value !== undefined ? { headers: { 'Max-Forwards': value } } : {});
    req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [] };
    const res = new FakeRes();
    let nexts = 0;
    checkMaxForwards(d.deps)(req, res, () => nexts++);
    assert.equal(nexts, next ? 1 : 0);
    if (next) {
      assert.equal(req.locals.maxForwards, bLeg);
      return;
    }
    assert.equal(res.status, 483);
    assert.equal(res.reasonHeader, 'SIP;cause=483;text="Too Many Hops"');
    assert.equal(d.stats.tooManyHops, 1);
  });
}
