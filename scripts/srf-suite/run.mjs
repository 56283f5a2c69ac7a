// Runs drachtio-srf's own test suite (node_modules/drachtio-srf/test) on loopback against trunkgate's engine:
// mocha unit tests, then the tape integration files one by one, counting `ok` / `not ok` lines per file.
// Usage: node scripts/srf-suite/run.mjs [--unit-only] [--keep] [--only=b2b,uac]   (--only: those files; unit skipped unless named)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { expected, uasHosts, sut, referPeer } from './layout.mjs';
import { prepareSuite } from './prepare.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const unitOnly = process.argv.includes('--unit-only');
const keep = process.argv.includes('--keep');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',').filter(Boolean)) : undefined;
const children = [];
const log = (...a) => console.error('[srf-suite]', ...a);

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

if (spawnSync('sipp', ['-v']).error) {
  console.error('sipp is not installed: apt-get install -y sip-tester');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'trunkgate-srf-suite-'));
const suite = join(work, 'drachtio-srf');
const changes = prepareSuite(join(repo, 'node_modules', 'drachtio-srf'), suite);
log(`suite copied to ${suite}; ${changes.length} rewrites`);

const env = {
  ...process.env,
  NODE_ENV: 'test',
  NODE_PATH: join(repo, 'node_modules'),
  NODE_CONFIG: JSON.stringify({
    'drachtio-sut': { host: '127.0.0.1', port: sut.controlPort, secret: sut.secret },
    'drachtio-uas': { host: '127.0.0.1', port: referPeer.controlPort, secret: referPeer.secret },
  }),
  SRF_SUITE_SUT: `${sut.sipHost}:${sut.sipPort}`,
  // The sipp runner (local-sipp.cjs) takes its ports from the tests' picker in this repository.
  SRF_SUITE_REPO: repo,
};

/** Runs a command, echoing its output, and counts TAP `ok` / `not ok` lines. */
function runCounted(cmd, args, timeoutMs) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: suite, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let ok = 0;
    let notOk = 0;
    let buf = '';
    const onLine = (line) => {
      if (/^\s*ok \d+/.test(line)) ok++;
      else if (/^\s*not ok \d+/.test(line)) notOk++;
    };
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    let timedOut = false;
    const t = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      if (buf) onLine(buf);
      done({ ok, notOk, code, timedOut });
    });
  });
}

function portInUse(port, host) {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(true));
    s.listen(port, host, () => s.close(() => ok(false)));
  });
}

async function startEngine(peer) {
  const args = ['--import', 'tsx', join(repo, 'scripts', 'srf-suite', 'start-engine.ts'),
    '--sip', `${peer.sipHost}:${peer.sipPort}`, '--control', `127.0.0.1:${peer.controlPort}`, '--secret', peer.secret];
  const child = spawn(process.execPath, args, { cwd: repo, env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise((ok, fail) => {
    let out = '';
    const t = setTimeout(() => fail(new Error(`engine ${peer.sipHost} not ready after 15 s`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (/^ready\b/m.test(out)) { clearTimeout(t); ok(); }
    });
    child.once('exit', (code) => { clearTimeout(t); fail(new Error(`engine ${peer.sipHost} exited ${code}: ${out.slice(-500)}`)); });
  });
  child.stdout.resume();
}

function startUasFleet() {
  for (const [name, h] of Object.entries(uasHosts)) {
    if (!h.scenario) continue;
    const c = spawn('sipp', ['-sf', join(suite, 'test', 'scenarios', h.scenario), '-i', h.ip, '-p', '5060',
      '-mp', String(20000 + Number(h.ip.split('.')[3]) * 8), '-nostdin',
      // SRF_SUITE_TRACE=1 (with --keep): each UAS writes its messages to <work>/<name>.messages.log
      ...(process.env.SRF_SUITE_TRACE ? ['-trace_msg', '-message_file', join(work, `${name}.messages.log`)] : [])],
      { cwd: work, stdio: 'ignore' });
    c.once('exit', (code) => { if (code !== null && code !== 0) log(`UAS ${name} (${h.ip}) exited ${code}`); });
    children.push(c);
  }
}

const results = [];
let setupError = null;
for (const e of expected) {
  if (e.runner === 'mocha') {
    if (!only || only.has(e.name)) {
      log('mocha unit tests');
      const r = await runCounted(join(repo, 'node_modules', '.bin', 'mocha'), ['--reporter', 'tap', e.file], 120_000);
      results.push({ ...e, ...r });
    }
    if (unitOnly || (only && only.size === 1 && only.has(e.name))) break;
    try {
      if (!existsSync(join(repo, 'src', 'engine', 'engine.ts'))) throw new Error('src/engine/engine.ts does not exist yet');
      for (const p of [sut, referPeer]) {
        if (await portInUse(p.controlPort, '127.0.0.1')) throw new Error(`control port ${p.controlPort} is already in use`);
      }
      startUasFleet();
      await startEngine(sut);
      await startEngine(referPeer);
      await new Promise((r) => setTimeout(r, 500));
    } catch (err) {
      setupError = err;
      log(`cannot run the integration files: ${err.message}`);
    }
    continue;
  }
  if (only && !only.has(e.name)) continue;
  if (setupError) {
    results.push({ ...e, ok: 0, notOk: 0, code: null, timedOut: false, note: 'not run: ' + setupError.message });
    continue;
  }
  log(`tape ${e.file}`);
  results.push({ ...e, ...(await runCounted(process.execPath, [e.file], 180_000)) });
}
cleanup();

let passed = 0;
let failed = 0;
const rows = ['| file | expected ok | ok | not ok | exit | verdict |', '| --- | ---: | ---: | ---: | ---: | --- |'];
for (const r of results) {
  const good = r.notOk === 0 && r.ok >= e_ok(r) && r.code === 0 && !r.timedOut;
  passed += Math.min(r.ok, e_ok(r));
  failed += r.notOk + Math.max(0, e_ok(r) - r.ok);
  rows.push(`| ${r.name} | ${e_ok(r)} | ${r.ok} | ${r.notOk} | ${r.timedOut ? 'timeout' : r.code} | ${good ? 'pass' : 'FAIL'}${r.note ? ` (${r.note})` : ''} |`);
}
function e_ok(r) { return expected.find((x) => x.name === r.name).ok; }
console.log('\n' + rows.join('\n'));
console.log(`\n${passed} passed, ${failed} failed`);
if (!keep) rmSync(work, { recursive: true, force: true });
else log(`kept ${work}`);
const allGood = failed === 0 && results.every((r) => r.code === 0 && !r.timedOut);
process.exit(allGood ? 0 : 1);
