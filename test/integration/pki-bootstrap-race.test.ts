// Two gateways started at once on one PKI folder (two containers on a shared volume, a start beside a restart):
// each runs bootstrapPki in its own process, both let go at the same moment. Both succeed (one waits for the other's
// lock), and what is on disk is one CA: ca.key belongs to ca.crt, and the trustpoint's certificate belongs to its
// key and was signed by ca.crt. Repeated a few times, as the interleaving differs from run to run.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PKI = fileURLToPath(new URL('../../src/pki/index.ts', import.meta.url));
const ROUNDS = 5;

/** Imports the PKI code, says "ready", waits for a line on stdin, then bootstraps `dir` and says how it went. */
const CHILD = `
const { bootstrapPki } = await import(${JSON.stringify(PKI)});
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try { bootstrapPki(process.argv[1], 'gw.example.com', { trustpointName: 'gw' }); process.stdout.write('ok\\n'); }
  catch (e) { process.stdout.write('fail ' + e.code + ' ' + e.message + '\\n'); }
  process.exit(0);
});`;

function start(dir: string): { child: ChildProcess; ready: Promise<void>; result: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let readyNow!: () => void;
  const ready = new Promise<void>((res) => { readyNow = res; });
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) readyNow();
  });
  const result = new Promise<string>((res) => child.once('exit', (code) => res(`${out.replace(/^ready\n/, '').trim()} (exit ${code})`)));
  return { child, ready, result };
}

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
    const ca = new X509Certificate(readFileSync(join(dir, 'ca', 'ca.crt')));
    const leaf = new X509Certificate(readFileSync(join(dir, 'trustpoints', 'gw', 'cert.pem')));
    assert.equal(ca.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'ca', 'ca.key')))), true, `round ${round}: ca.key belongs to ca.crt`);
    assert.equal(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'trustpoints', 'gw', 'key.pem')))), true, `round ${round}: key.pem belongs to cert.pem`);
    assert.equal(leaf.verify(ca.publicKey), true, `round ${round}: cert.pem is signed by ca.crt`);
    assert.equal(new X509Certificate(readFileSync(join(dir, 'trustpoints', 'gw', 'chain.pem'))).fingerprint256, ca.fingerprint256, `round ${round}: chain.pem is ca.crt`);
  }
});
