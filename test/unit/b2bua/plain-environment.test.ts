import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { usePlainEnvironment } from '../../../src/b2bua/plain-environment.js';

test('the environment becomes a plain object with the same variables, once', () => {
  const before = { ...process.env };
  const original = process.env;
  usePlainEnvironment();
  const first = process.env;
  assert.notEqual(first, original);
  // The host object turns every value into a string; a plain object keeps what it is given.
  (first as Record<string, unknown>).TRUNKGATE_PLAIN_ENV_NUMBER = 1;
  assert.equal((first as Record<string, unknown>).TRUNKGATE_PLAIN_ENV_NUMBER, 1);
  delete first.TRUNKGATE_PLAIN_ENV_NUMBER;
  assert.deepEqual({ ...first }, before);
  usePlainEnvironment();
  assert.equal(process.env, first, 'a second call keeps the copy it made');
});

test('a variable set after the swap reaches child processes', () => {
  usePlainEnvironment();
  process.env.TRUNKGATE_PLAIN_ENV_PROBE = 'seen';
  try {
    const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.TRUNKGATE_PLAIN_ENV_PROBE ?? "")']);
    assert.equal(out.toString(), 'seen');
  } finally {
    delete process.env.TRUNKGATE_PLAIN_ENV_PROBE;
  }
});
