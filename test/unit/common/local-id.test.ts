import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { newLocalId } from '../../../src/common/index.js';
import { plainModule } from '../../support/plain-module.js';

test('local ids are distinct, opaque hex-prefix-counter strings with one prefix per process', () => {
  const ids = Array.from({ length: 10_000 }, () => newLocalId());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}-[0-9a-z]+$/);
  const prefixes = new Set(ids.map((id) => id.slice(0, 16)));
  assert.equal(prefixes.size, 1);
});

test('another process draws another prefix, so an app that reconnects after a restart meets no old id', (t) => {
  const modulePath = plainModule(t, new URL('../../../src/common/local-id.ts', import.meta.url));
  const other = execFileSync(process.execPath, ['-e',
    `import(${JSON.stringify(modulePath)}).then((m) => process.stdout.write(m.newLocalId()))`], { encoding: 'utf8' });
  assert.match(other, /^[0-9a-f]{16}-1$/);
  assert.notEqual(other.slice(0, 16), newLocalId().slice(0, 16));
});
