// Two gateways started at once on one PKI folder (two containers on a shared volume, a start beside a restart):
// each runs bootstrapPki in its own process. Both succeed (one waits for the other's lock), and what is on disk is one
// CA: ca.key belongs to ca.crt, and the trustpoint's certificate belongs to its key and was signed by ca.crt. First
// with the worst interleaving made to happen: the first start stopped before ca.crt is renamed in, the second run while
// it is stopped (when the first holds no lock) or let wait (when it does); then both let go at the same moment, a few
// times, as that interleaving differs from run to run.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PKI = fileURLToPath(new URL('../../src/pki/index.ts', import.meta.url));
const ROUNDS = 3;

/**
 * Imports the PKI code, says "ready", waits for a line on stdin, then bootstraps `dir` and says how it went. With a
 * file named in argv[2], it stops before it renames ca/ca.crt into place, says "stopped", and goes on once that file
 * exists.
 */
const CHILD = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const go = process.argv[2];
if (go) {
  const real = fs.renameSync;
  let first = true;
  fs.renameSync = (a, b) => {
    if (first && String(b).endsWith('ca.crt')) {
      first = false;
      process.stdout.write('stopped\\n');
      while (!fs.existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    return real(a, b);
  };
  syncBuiltinESMExports();
}
const { bootstrapPki } = await import(${JSON.stringify(PKI)});
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try { bootstrapPki(process.argv[1], 'gw.example.com', { trustpointName: 'gw' }); process.stdout.write('ok\\n'); }
  catch (e) { process.stdout.write('fail ' + e.code + ' ' + e.message + '\\n'); }
  process.exit(0);
});`;

interface Start {
  child: ChildProcess;
  ready: Promise<void>;
  stopped: Promise<void>;
  result: Promise<string>;
}

function start(dir: string, go?: string): Start {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir, ...(go ? [go] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let readyNow!: () => void;
  let stoppedNow!: () => void;
  const ready = new Promise<void>((res) => { readyNow = res; });
  const stopped = new Promise<void>((res) => { stoppedNow = res; });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) readyNow();
    if (out.includes('stopped\n')) stoppedNow();
  });
  const result = new Promise<string>((res) => child.once('exit', (code) => res(`${out.replace(/^ready\n|stopped\n/g, '').trim()} (exit ${code})`)));
  return { child, ready, stopped, result };
}

/** One CA on disk, and the trustpoint issued by it. */
function assertOneCa(dir: string, label: string): void {
  const ca = new X509Certificate(readFileSync(join(dir, 'ca', 'ca.crt')));
  const leaf = new X509Certificate(readFileSync(join(dir, 'trustpoints', 'gw', 'cert.pem')));
  assert.equal(ca.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'ca', 'ca.key')))), true, `${label}: ca.key belongs to ca.crt`);
  assert.equal(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'trustpoints', 'gw', 'key.pem')))), true, `${label}: key.pem belongs to cert.pem`);
  assert.equal(leaf.verify(ca.publicKey), true, `${label}: cert.pem is signed by ca.crt`);
  assert.equal(new X509Certificate(readFileSync(join(dir, 'trustpoints', 'gw', 'chain.pem'))).fingerprint256, ca.fingerprint256, `${label}: chain.pem is ca.crt`);
}

test('a second start while the first is stopped before its ca.crt is in place: both succeed, with one CA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bootstrap-race-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const go = join(dir, 'go');
  const first = start(dir, go);
  t.after(() => first.child.kill());
  await first.ready;
  first.child.stdin!.write('go\n');
  await first.stopped;
  const second = start(dir);
  t.after(() => second.child.kill());
  await second.ready;
  second.child.stdin!.write('go\n');
  // A first start holding the folder's lock keeps the second waiting: the first is let go now. Without a lock
  // nothing keeps the second from running to its end while the first is stopped.
  if (!existsSync(join(dir, '.pki.lock'))) await second.result;
  writeFileSync(go, '');
  assert.deepEqual(await Promise.all([first.result, second.result]), ['ok (exit 0)', 'ok (exit 0)']);
  assertOneCa(dir, 'stopped part way');
});

test('two first starts at once: both succeed and the trustpoint is signed by the CA in ca.crt', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'tg-bootstrap-race-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const starts = [start(dir), start(dir)];
    t.after(() => starts.forEach((s) => s.child.kill()));
    await Promise.all(starts.map((s) => s.ready));
    for (const s of starts) s.child.stdin!.write('go\n');
    const results = await Promise.all(starts.map((s) => s.result));
    assert.deepEqual(results, ['ok (exit 0)', 'ok (exit 0)'], `round ${round}`);
    assertOneCa(dir, `round ${round}`);
  }
});
