#!/usr/bin/env node
// Lists the test files of the chosen folders under test/ and runs them with Node's own test runner
// (node --test does not find .ts files on its own in Node 20).
// Usage: node scripts/test.mjs [unit|integration|interop|load|sanity ...]   (default: unit integration interop)
//   npm test           unit, integration (RFC conformance, engine, gateway), interop (sipp, kamailio, openssl)
//   npm run test:load  load: 1,000-call runs, certificate swap under load, hostile traffic
//   npm run test:sanity  sanity: the third-party peers against each other, no product code
//   npm run test:anchor  anchor: the b2bua against drachtio-server built by bench/anchor/build-drachtio-server.sh
// Every tier but unit needs the peers (sipp, kamailio with its TLS module, openssl): scripts/ensure-peers.sh
// installs them as root, and otherwise stops the run naming what is missing. A missing peer is never a skip.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const KNOWN = ['unit', 'integration', 'interop', 'load', 'sanity', 'anchor'];
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = suites.filter((s) => !KNOWN.includes(s));
if (unknown.length > 0) {
  console.error(`unknown test folder ${unknown.join(', ')}; known: ${KNOWN.join(', ')}`);
  process.exit(1);
}
const chosen = suites.length > 0 ? suites : ['unit', 'integration', 'interop'];

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = [];
for (const s of chosen) files = files.concat(walk(join('test', s)));
if (files.length === 0) {
  console.error(`no test files found under test/{${chosen.join(',')}}`);
  process.exit(1);
}
// Files share processes where they can: each process pays for Node, tsx and the source graph it loads (about a second
// of CPU, more than many files' own tests), and on 2 cores that CPU is the run's length. A generated entry imports the
// files of a group and the runner treats it as one file; inside it they run one after another.
// - The unit files are one group (they hold no sockets or global state between them).
// - The integration and interop files that start no product or peer process (heavy, below) are split into groups
//   of about a dozen, so a group's files wait on sockets and timers while other groups run: 45 of them took 41 CPU-s
//   as one group against 90 CPU-s as 45 processes (2026-12-06).
// - The integration and interop files that start the product or a peer (heavy, below) share a process by threes:
//   three such files took 7.4 CPU-s as three processes and 6.1 as one (2026-12-06), the product processes they
//   start being the same either way.
// - The load, sanity and anchor tiers keep a process per file: they measure, or hold thousands of sockets.
// A file that measures the process itself (its heap, its event loop), or changes what is process-wide, says
// `// test: own process` in its first lines and keeps a process of its own. TEST_ISOLATED=1 (or the older
// TEST_UNIT_ISOLATED=1) runs every file in its own process.
const SHARED_GROUP_FILES = 12;
const HEAVY_GROUP_FILES = 3;
const ownProcess = (f) => readFileSync(f, 'utf8').slice(0, 400).includes('// test: own process');
// Files that start the product or a peer process take the longest: they go first (largest first), so the run does
// not end waiting on one of them started last (below). Order only; no test depends on it.
const heavy = (f) => /startTrunkgate\(|startSippGatewayRig\(|startKamailio\(|startSippUas\(|initdb/.test(readFileSync(f, 'utf8'));
const inTier = (f, tier) => f.startsWith(join('test', tier) + '/');
const isolated = process.env.TEST_ISOLATED === '1' || process.env.TEST_UNIT_ISOLATED === '1';
const groups = [];
if (!isolated) {
  const unitFiles = files.filter((f) => inTier(f, 'unit') && !ownProcess(f));
  if (unitFiles.length > 1) groups.push({ name: 'unit', files: unitFiles, weight: 3e9 });
  const joinable = files.filter((f) => (inTier(f, 'integration') || inTier(f, 'interop')) && !ownProcess(f));
  dealGroups(joinable.filter((f) => !heavy(f)), SHARED_GROUP_FILES, 'shared', 2e9);
  dealGroups(joinable.filter(heavy), HEAVY_GROUP_FILES, 'heavy', 1e9);
}
/** Splits `list` into groups of about `size` files: largest first, dealt in turn, so they come out about the same. */
function dealGroups(list, size, name, weight) {
  if (list.length < 2) return;
  const n = Math.ceil(list.length / size);
  const bySize = [...list].sort((a, b) => statSync(b).size - statSync(a).size);
  for (let i = 0; i < n; i++) groups.push({ name: `${name}-${i + 1}`, files: bySize.filter((_, k) => k % n === i), weight });
}
// Node's runner starts the files it is given in the order of their absolute paths, whatever the order given. So
// every process gets an entry of its own in a scratch folder, named by its place in this order: the unit group and
// the groups that start the product first, largest first, so the run does not end waiting on one started last.
const jobs = [
  ...groups.map((g) => ({ name: g.name, files: g.files, weight: g.weight + g.files.length })),
  ...files.filter((f) => !groups.some((g) => g.files.includes(f)))
    .map((f) => ({ name: basename(f, '.test.ts'), files: [f], weight: (heavy(f) ? 1e9 : 0) + statSync(f).size })),
].sort((a, b) => b.weight - a.weight);
const scratch = mkdtempSync(join(tmpdir(), 'trunkgate-tests-'));
files = jobs.map((job, i) => {
  const entry = join(scratch, `${String(i).padStart(3, '0')}-${job.name}.test.mts`);
  writeFileSync(entry, job.files.map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)};`).join('\n') + '\n');
  return entry;
});
// Unit tests include TLS cases built with the openssl CLI too: the peers are checked for every tier.
const peers = spawnSync('bash', ['scripts/ensure-peers.sh'], { stdio: 'inherit' });
if (peers.status !== 0) process.exit(peers.status ?? 1);
// Six files at a time (much of an integration file's time is spent waiting on sockets, timers and peers, so on 2 cores
// six finish sooner than four: 122 against 132 s on 2026-12-06; test peers take their ports from test/support/ports.ts,
// outside the kernel's ephemeral range); the load tier one at a time, since its runs measure the gateway alone.
// TEST_CONCURRENCY overrides both.
const concurrency = process.env.TEST_CONCURRENCY ?? (chosen.includes('load') ? '1' : '6');
// The load tier holds thousands of sockets at once: its runner gets an open-files limit of 65,536 where the hard
// limit allows (prlimit, util-linux), whatever the shell's soft limit is.
const wrap = chosen.includes('load') ? raiseOpenFiles(65_536) : [];
// The tiers that start the gateway start it as `npm start` does, from dist/: built once here (scripts/build.mjs, as
// `npm run build`), so each of the many starts skips compiling TypeScript in its three threads, which cost about as
// much CPU again as the start itself. TRUNKGATE_TEST_PRODUCT=src keeps the sources through tsx.
const product = process.env.TRUNKGATE_TEST_PRODUCT ?? (chosen.some((s) => s !== 'unit') ? 'dist' : 'src');
if (product === 'dist') {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('the build failed: the tests that start the gateway run dist/ (TRUNKGATE_TEST_PRODUCT=src runs the sources)');
    process.exit(build.status ?? 1);
  }
}
const started = Date.now();
const [cmd, ...args] = [...wrap, process.execPath,
  '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
const res = spawnSync(
  cmd,
  args,
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test', TRUNKGATE_TEST_PRODUCT: product } },
);
rmSync(scratch, { recursive: true, force: true });
const sharing = groups.map((g) => `${g.name}: ${g.files.length} files`).join(', ');
console.error(`test/{${chosen.join(',')}}: ${files.length} processes${sharing ? ` (${sharing})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s, ${concurrency} at a time`);
process.exit(res.status ?? 1);

/** `prlimit` arguments that give the child `want` open files (or the hard limit, if lower); none when not needed. */
function raiseOpenFiles(want) {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').slice('Max open files'.length).trim().split(/\s+/);
  const hardN = hard === 'unlimited' ? Infinity : Number(hard);
  if (Number(soft) >= want || spawnSync('prlimit', ['--version']).status !== 0) return [];
  // The soft limit may be raised up to the hard one without privileges.
  return ['prlimit', `--nofile=${Math.min(want, hardN)}:${hard}`, '--'];
}
