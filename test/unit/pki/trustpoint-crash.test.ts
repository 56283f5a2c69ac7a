/**
 * A trustpoint swap (saveTrustpoint: `pki import`, POST /pki/import) whose process is killed part way: a child process
 * saves a new key and certificate and is killed (SIGKILL) right after its n-th rename. Killed before the swap's commit
 * marker, the next load gives the old key and certificate, which belong together; killed after it, the new ones. Either
 * way no temporary file or backup is left, and the repair is said once as an ERR_PKI_TRUSTPOINT_FILES warning. A swap
 * of a process that still runs is left alone.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapPki, issueGatewayCertificate, loadTrustpoint, type TrustpointMaterial } from '../../../src/pki/index.js';

const PKI = fileURLToPath(new URL('../../../src/pki/index.ts', import.meta.url));

/** Saves the material in argv[2] into the trustpoint folder argv[1], killing itself right after rename number argv[3]. */
const CHILD = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const [dir, materialFile, killAfter] = process.argv.slice(1);
const real = fs.renameSync;
let n = 0;
fs.renameSync = (a, b) => { real(a, b); if (++n === Number(killAfter)) process.kill(process.pid, 'SIGKILL'); };
syncBuiltinESMExports();
const { saveTrustpoint } = await import(${JSON.stringify(PKI)});
saveTrustpoint(dir, JSON.parse(fs.readFileSync(materialFile, 'utf8')));
process.stdout.write('not killed');`;

function tmp(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-tp-crash-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Warnings with the code, as emitted while `run` runs (they are delivered on the next tick). */
async function warningsOf(run: () => void): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error & { code?: string }): void => {
    if (w.code === 'ERR_PKI_TRUSTPOINT_FILES') seen.push(w.message);
  };
  process.on('warning', on);
  try {
    run();
    await new Promise((res) => setImmediate(res));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

const matches = (m: TrustpointMaterial): boolean => new X509Certificate(m.certPem).checkPrivateKey(createPrivateKey(m.keyPem));

/** The renames of a trustpoint save: cert.pem, chain.pem, key.pem, then the journal to its commit marker. */
const CASES = [
  { killAfter: 1, what: 'cert.pem replaced, key.pem not yet', gives: 'old' },
  { killAfter: 2, what: 'cert.pem and chain.pem replaced', gives: 'old' },
  { killAfter: 3, what: 'all three replaced, no commit marker yet', gives: 'old' },
  { killAfter: 4, what: 'the commit marker written, backups not yet removed', gives: 'new' },
] as const;

for (const c of CASES) {
  test(`a save killed with ${c.what}: the next load gives the ${c.gives} key and certificate, matched, and no leftovers`, async (t) => {
    const root = tmp(t);
    const first = bootstrapPki(root, 'gw.example.com', { trustpointName: 'gw' });
    const ca = { certPem: readFileSync(first.caCertPath, 'utf8'), keyPem: readFileSync(first.caKeyPath, 'utf8') };
    const next = issueGatewayCertificate(ca, { domain: 'renewed.example.com' });
    const materialFile = join(root, 'next.json');
    writeFileSync(materialFile, JSON.stringify(next));
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, first.trustpointDir, materialFile, String(c.killAfter)],
      { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', `the child was killed part way (${r.stdout}${r.stderr})`);
    assert.notDeepEqual(readdirSync(first.trustpointDir).sort(), ['cert.pem', 'chain.pem', 'key.pem'], 'the kill left a swap part way');

    let loaded!: TrustpointMaterial;
    const warned = await warningsOf(() => { loaded = loadTrustpoint(first.trustpointDir); });
    const want = c.gives === 'old' ? first.trustpoint : next;
    assert.equal(loaded.certPem, want.certPem);
    assert.equal(loaded.keyPem, want.keyPem);
    assert.equal(matches(loaded), true, 'key.pem belongs to cert.pem');
    assert.deepEqual(readdirSync(first.trustpointDir).sort(), ['cert.pem', 'chain.pem', 'key.pem'], 'no temporary file, backup or journal left');
    assert.equal(warned.length, 1, 'the repair is said once');
    assert.match(warned[0]!, new RegExp(`${first.trustpointDir}: a replacement of its files by process ${r.pid} was cut short`));
    assert.deepEqual(await warningsOf(() => loadTrustpoint(first.trustpointDir)), [], 'nothing more to say on the next load');
  });
}

test('a swap of a process that still runs is under way: a load leaves its files alone', async (t) => {
  const root = tmp(t);
  const first = bootstrapPki(root, 'gw.example.com', { trustpointName: 'gw' });
  const dir = first.trustpointDir;
  // The test runner's parent runs for as long as this test does: its swap has replaced cert.pem so far.
  const tag = `${process.ppid}-0a1b2c3d`;
  linkSync(join(dir, 'cert.pem'), join(dir, `cert.pem.bak-${tag}`));
  rmSync(join(dir, 'cert.pem'));
  writeFileSync(join(dir, 'cert.pem'), 'the new certificate');
  writeFileSync(join(dir, `key.pem.tmp-${tag}`), 'the new key');
  writeFileSync(join(dir, `.pem-swap-${tag}`), JSON.stringify({ files: [{ name: 'cert.pem', backedUp: true }, { name: 'key.pem', backedUp: true }] }));
  const before = readdirSync(dir).sort();
  assert.deepEqual(await warningsOf(() => loadTrustpoint(dir)), []);
  assert.deepEqual(readdirSync(dir).sort(), before);
  assert.equal(readFileSync(join(dir, 'cert.pem'), 'utf8'), 'the new certificate');
});
