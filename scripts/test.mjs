#!/usr/bin/env node
// Lists the test files of the chosen suites and runs them with Node's own test runner
// (node --test does not find .ts files on its own in Node 20).
// Usage: node scripts/test.mjs [unit|integration|interop ...]   (default: all three)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
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
if (chosen.includes('interop')) {
  const r = spawnSync('bash', ['scripts/ensure-peers.sh'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } },
);
process.exit(res.status ?? 1);
