import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPermission } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const cases: Array<[category: string | undefined, permissions: Record<string, boolean>, allowed: boolean]> = [
  ['local', { local: true }, true],
  ['international', { international: false, local: true }, false],
  ['tollFree', { local: true }, false],
  [undefined, {}, true],
];

for (const [category, permissions, allowed] of cases) {
  test(`check-permission: ${category ?? '(no category)'} with ${JSON.stringify(permissions)} → ${allowed ? 'next' : '403'}`, () => {
    const d = deps();
    const req = fakeInvite();
    req.locals = {
      callId: 'c', startedAt: 0, log: d.deps.log, identities: [], permissions, tenantIn: 'pbx', tlsPeer: 'pbx.remote.example',
      ...(category ? { category } : {}),
    };
    const res = new FakeRes();
    let nexts = 0;
    checkPermission(d.deps)(req, res, () => nexts++);
    assert.equal(nexts, allowed ? 1 : 0);
    if (allowed) {
      assert.equal(res.sent.length, 0);
      return;
    }
    assert.equal(res.status, 403);
    assert.equal(res.reasonHeader, `SIP;cause=403;text="Calls to ${category} numbers are not permitted `
      + `(category ${category}: permission ${category} denied to tenant pbx, TLS peer pbx.remote.example)"`);
    assert.deepEqual(d.stats.snapshot().deniedByCategory, { [category!]: 1 });
    const cdr = d.lines.find((l) => l.msg === 'cdr')?.cdr as Record<string, unknown>;
    assert.equal(cdr.cause, `denied:${category}`);
    assert.equal(cdr.status, 403);
    assert.equal(cdr.reason, res.reasonHeader, 'the CDR has the Reason the caller got');
  });
}
