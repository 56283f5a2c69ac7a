import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNodeArgs } from '../../support/trunkgate-process.js';

const bin = join(import.meta.dirname, '../../../bin/trunkgate.mjs');

/**
 * Runs bin/trunkgate.mjs to its exit, within a deadline. The profiles directory does not exist: a gateway that
 * tried to start would fail on it (exit 1) rather than exit 0 or 2, and would log before opening any port.
 */
function run(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, TRUNKGATE_PROFILES: join(import.meta.dirname, 'no-such-profiles-dir'), TRUNKGATE_LOG_LEVEL: 'debug', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trunkgate ${args.join(' ')} still running after 20 s`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code, out, err });
    });
  });
}

test('trunkgate --help prints the usage and exits 0 without starting anything', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Usage:/);
  assert.doesNotMatch(r.out + r.err, /listening|"level"/);
});

for (const args of [['bogus'], ['--bogus'], ['start', '--port', '5060']]) {
  test(`trunkgate ${args.join(' ')} prints the usage and exits 2 without starting anything`, async () => {
    const r = await run(args);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.out, '');
    assert.match(r.err, /^trunkgate: .+\n\nUsage:/);
    assert.doesNotMatch(r.err, /listening|"level"/);
  });
}

test('without --help the same binary does try to start (the check above can fail)', async () => {
  const r = await run([]);
  assert.equal(r.code, 1);
  assert.match(r.out + r.err, /no-such-profiles-dir|failed to start/);
});

test('a bad environment override stops the start like a bad file, naming the variable, before the profiles are read', async () => {
  const r = await run([], { TRUNKGATE_CONTROL_PORT: '90a', TRUNKGATE_LOG_LEVEL: 'loud' });
  assert.equal(r.code, 1);
  assert.match(r.err, /environment: TRUNKGATE_CONTROL_PORT: .*\[ERR_CONFIG_SCHEMA\]/);
  assert.match(r.err, /environment: TRUNKGATE_LOG_LEVEL: .*\[ERR_CONFIG_SCHEMA\]/);
  assert.doesNotMatch(r.out + r.err, /no-such-profiles-dir|listening/);
  assert.match(r.out, /"code":"ERR_CONFIG_INVALID"/);
});

test('bin/trunkgate.mjs runs node with the options `npm start` gives it, when started as a program', async () => {
  const first = readFileSync(bin, 'utf8').split('\n')[0];
  assert.equal(first, `#!/usr/bin/env -S node ${startNodeArgs.join(' ')}`);
  // Run through its shebang, as npx and a symlink on PATH run it: the kernel hands it to env, env to node.
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(bin, ['--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage:/);
});
