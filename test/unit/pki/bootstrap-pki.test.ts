/**
 * The first start never replaces our CA: a CA certificate whose key was taken offline makes a new trustpoint a
 * refusal naming the missing key, and ca.crt stays the certificate every existing trustpoint chains to. The PKI
 * folder's lock: one a killed process left is taken over, one a running process holds is refused when waiting is
 * over, naming the file and the process.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapPki, verifyCertificateChain } from '../../../src/pki/index.js';

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-bootstrap-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const fingerprint = (path: string): string => new X509Certificate(readFileSync(path)).fingerprint256;

test('a CA certificate whose key is kept offline: a new trustpoint is refused naming the key, and ca.crt is not replaced', (t) => {
  const dir = tmp(t);
  const first = bootstrapPki(dir, 'gw.example.com', { trustpointName: 'gw' });
  const before = fingerprint(first.caCertPath);
  renameSync(first.caKeyPath, join(dir, 'offline-ca.key'));
  assert.throws(() => bootstrapPki(dir, 'gw.example.com', { trustpointName: 'gw2' }), (e: Error & { code?: string }) =>
    e.code === 'ERR_PKI_TRUSTPOINT_FILES' && e.message.includes(first.caKeyPath) && /CA key .* is missing/.test(e.message));
  assert.equal(fingerprint(first.caCertPath), before, 'ca.crt is still the CA that signed trustpoint gw');
  assert.equal(existsSync(first.caKeyPath), false, 'no new CA key');
  assert.equal(existsSync(join(dir, 'trustpoints', 'gw2', 'key.pem')), false, 'no trustpoint gw2');
  // The trustpoint already there still loads, and still chains to ca.crt.
  const again = bootstrapPki(dir, 'gw.example.com', { trustpointName: 'gw' });
  assert.equal(again.created, false);
  assert.equal(verifyCertificateChain({ certPem: again.trustpoint.certPem, trustedPems: [readFileSync(first.caCertPath, 'utf8')] }).ok, true);
});

test('a CA key without its certificate is refused too, the key left as it was', (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'ca'), { recursive: true });
  writeFileSync(join(dir, 'ca', 'ca.key'), 'the operator\'s key');
  assert.throws(() => bootstrapPki(dir, 'gw.example.com'), (e: Error & { code?: string }) =>
    e.code === 'ERR_PKI_TRUSTPOINT_FILES' && /CA certificate .* is missing/.test(e.message));
  assert.equal(readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'), 'the operator\'s key');
  assert.equal(existsSync(join(dir, 'ca', 'ca.crt')), false);
});

/** The id of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a lock a killed start left is taken over: the start goes on and removes it', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, '.pki.lock'), `${deadPid()} 0123456789abcdef\n`);
  const r = bootstrapPki(dir, 'gw.example.com', { lockWaitMs: 0 });
  assert.equal(r.created, true);
  assert.equal(verifyCertificateChain({ certPem: r.trustpoint.certPem, trustedPems: [readFileSync(r.caCertPath, 'utf8')] }).ok, true);
  assert.deepEqual(readdirSync(dir).sort(), ['ca', 'trustpoints'], 'no lock file or stale copy left');
});

test('a lock a running process holds is refused once the wait is over, naming the file and the process; nothing is made', (t) => {
  const dir = tmp(t);
  const lock = join(dir, '.pki.lock');
  // The test runner's parent runs for as long as this test does.
  writeFileSync(lock, `${process.ppid} 0123456789abcdef\n`);
  assert.throws(() => bootstrapPki(dir, 'gw.example.com', { lockWaitMs: 0 }), (e: Error & { code?: string }) =>
    e.code === 'ERR_PKI_IO' && e.message.includes(lock) && e.message.includes(`process ${process.ppid}`));
  assert.equal(readFileSync(lock, 'utf8'), `${process.ppid} 0123456789abcdef\n`, 'the holder\'s lock is left alone');
  assert.deepEqual(readdirSync(join(dir, 'ca')), [], 'no CA made');
});
