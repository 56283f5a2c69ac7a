#!/usr/bin/env node
// Coverage-guided fuzzing of trunkgate's parsers with Jazzer.js (libFuzzer). `npm run fuzz` in the repository root.
//   npm run fuzz -- [--seconds N] [--runs N] [--target NAME ...]
//   FUZZ_SECONDS=N   the time per target when --seconds is not given (default 60)
// Each target runs for the time (or the number of inputs) given, seeded from fuzz/corpus/<target>/ (kept in the
// repository) and fuzz/.work/<target>/ (what earlier runs found, not kept). A finding (an exception, a hang over
// 10 s, or more than 1 GiB of memory) is written to fuzz/findings/<target>/ and the run exits 1. The first run
// installs fuzz/package.json's packages and builds Jazzer.js's native part (fuzz/native/build-addon.sh).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const here = import.meta.dirname;
const root = join(here, '..');
const TARGETS = {
  'sip-parser': { maxLen: 8192 },
  'stream-framer': { maxLen: 8192 },
  'frame-decoder': { maxLen: 8192 },
  'config-loader': { maxLen: 16384 },
  // Awaits the core's sends and timers between steps: run without --sync, so Jazzer.js waits for each input.
  'engine-core': { maxLen: 8192, async: true },
};

let opts;
try {
  opts = parseArgs({
    options: {
      seconds: { type: 'string' },
      runs: { type: 'string' },
      target: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (e) {
  console.error(`fuzz: ${e.message}`);
  process.exit(2);
}
if (opts.help) {
  console.log(`Usage: npm run fuzz -- [--seconds N] [--runs N] [--target ${Object.keys(TARGETS).join('|')} ...]`);
  process.exit(0);
}
const seconds = Number(opts.seconds ?? process.env.FUZZ_SECONDS ?? 60);
const runs = opts.runs === undefined ? undefined : Number(opts.runs);
if (!(seconds > 0) || (runs !== undefined && !(runs > 0))) {
  console.error('fuzz: --seconds and --runs take a positive number');
  process.exit(2);
}
const targets = opts.target ?? Object.keys(TARGETS);
for (const t of targets) {
  if (!(t in TARGETS)) {
    console.error(`fuzz: unknown target '${t}' (${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
}

function must(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`fuzz: ${cmd} ${args.join(' ')} failed`);
    process.exit(1);
  }
}

if (!existsSync(join(here, 'node_modules/@jazzer.js/core'))) {
  // --ignore-scripts: the fuzzer package's install step would download a binary; build-addon.sh builds it.
  must('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: here });
}
must('bash', [join(here, 'native/build-addon.sh')]);

// Jazzer.js instruments CommonJS as it is required, so each target is bundled (our code inside, packages left
// to node_modules) into fuzz/.build/<target>.cjs, the only files instrumented.
const build = join(here, '.build');
const { buildSync } = await import(join(here, 'node_modules/esbuild/lib/main.js'));
for (const t of targets) {
  buildSync({
    entryPoints: [join(here, 'targets', `${t}.ts`)],
    outfile: join(build, `${t}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    logLevel: 'warning',
  });
}

function fuzzOne(t) {
  const work = join(here, '.work', t);
  const findings = join(here, 'findings', t);
  mkdirSync(work, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const corpus = join(here, 'corpus', t);
  const args = [
    join(here, 'node_modules/@jazzer.js/core/dist/cli.js'), join(build, `${t}.cjs`), work, corpus,
    ...(TARGETS[t].async ? [] : ['--sync']), '-i', join(build, `${t}.cjs`), '-f', 'fuzz', '--',
    `-max_total_time=${Math.round(seconds)}`, ...(runs ? [`-runs=${runs}`] : []),
    `-max_len=${TARGETS[t].maxLen}`, '-rss_limit_mb=1024', '-timeout=10', `-artifact_prefix=${findings}/`,
    '-print_final_stats=1', ...(existsSync(join(here, 'dict', `${t}.dict`)) ? [`-dict=${join(here, 'dict', `${t}.dict`)}`] : []),
  ];
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, {
      cwd: root, env: { ...process.env, FUZZ_FINDINGS_DIR: join(here, 'findings') }, stdio: ['ignore', 'inherit', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-8192);
    });
    child.on('exit', (code, signal) => {
      // libFuzzer's final stats, else its last status line (a run that ends by -runs may stop before the stats).
      const stat = (name) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(tail)?.[1] ?? NaN);
      const last = [...tail.matchAll(/#(\d+)\s+\w+\s+cov:.*?exec\/s: (\d+) rss: (\d+)Mb/g)].pop();
      const pick = (name, i) => (Number.isNaN(stat(name)) ? Number(last?.[i] ?? NaN) : stat(name));
      resolve({
        target: t, code: code ?? signal, inputs: pick('number_of_executed_units', 1), perSecond: pick('average_exec_per_sec', 2),
        peakRssMb: pick('peak_rss_mb', 3), seconds: Math.round((Date.now() - started) / 1000),
        corpus: readdirSync(corpus).length + readdirSync(work).length,
      });
    });
  });
}

const results = [];
for (const t of targets) results.push(await fuzzOne(t));
console.log('\ntarget          status  inputs      inputs/s  peak RSS MB  seconds  corpus');
for (const r of results) {
  console.log(`${r.target.padEnd(15)} ${String(r.code === 0 ? 'ok' : r.code).padEnd(7)} ${String(r.inputs).padEnd(11)} ` +
    `${String(r.perSecond).padEnd(9)} ${String(r.peakRssMb).padEnd(12)} ${String(r.seconds).padEnd(8)} ${r.corpus}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
