import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const here = (rel: string): string => new URL(rel, import.meta.url).href;

/** An app worker in a process of its own (its log goes to fd 1), whose warm-up prints as drachtio-srf does. */
const driver = `
import { spawnAppWorker } from ${JSON.stringify(here('../../../src/b2bua/workers/app-worker.ts'))};
import { SharedCallCounts } from ${JSON.stringify(here('../../../src/b2bua/app-call-counts.ts'))};
const noisy = 'export async function prewarmB2bua() {'
  + ' for (let i = 0; i < 50; i++) console.error("Dialog#handle received invalid method within an INVITE dialog: " + i);'
  + ' return { calls: 0, completed: 0, ms: 0 }; }';
const policy = { tenants: {}, categories: [], dialPeers: [] };
const w = spawnAppWorker({
  engine: { host: '127.0.0.1', port: 9, secret: 'test-secret' }, policy, down: [], logLevel: 'info', logStyle: { format: 'json', colour: false },
  index: 1, apps: 2, counts: SharedCallCounts.create(2, policy).initFor(1), restarts: 0,
  prewarm: { module: 'data:text/javascript,' + encodeURIComponent(noisy), calls: 0, maxMs: 1000 },
});
w.on('message', (m) => { if (m.type === 'warmed' || m.type === 'warmFailed') process.stdout.write('WARMED\\n'); });
`;

test('an app worker\'s console output goes to the JSON log, one line a window, not to raw stderr', async () => {
  // The driver is a file, not `-e` text: a worker thread inherits its process's flags, and `--input-type` would
  // stop it from loading its own file.
  const dir = mkdtempSync(join(tmpdir(), 'tg-app-worker-'));
  const file = join(dir, 'driver.mjs');
  writeFileSync(file, driver);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, NODE_ENV: 'test' } });
  let out = '';
  let err = '';
  const closed = new Promise((done) => child.on('close', done));
  // The worker's lines reach this process through its parent's stdout, in their own time: the child is stopped
  // once the warm-up has ended and the console line has arrived (or after 30 s, and the assertions then say why).
  const seen = new Promise<void>((done) => {
    const deadline = setTimeout(done, 30_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('WARMED') && out.includes('ERR_CONSOLE_OUTPUT')) {
        clearTimeout(deadline);
        setTimeout(done, 300);
      }
    });
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await seen;
  child.kill('SIGKILL');
  await closed;
  rmSync(dir, { recursive: true, force: true });
  assert.doesNotMatch(err, /invalid method/, 'nothing printed raw');
  const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const console = lines.filter((l) => l.code === 'ERR_CONSOLE_OUTPUT');
  assert.equal(console.length, 1, `stdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`);
  assert.equal(console[0]!.app, 1);
  assert.match(String(console[0]!.text), /invalid method within an INVITE dialog: 0$/);
});
