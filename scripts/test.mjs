#!/usr/bin/env node
// Lists the test files of the chosen folders under test/ and runs them with Node's own test runner
// (node --test does not find .ts files on its own in Node 20).
// Usage: node scripts/test.mjs [unit|integration|interop|load|sanity ...]   (default: unit integration interop)
//   npm test           unit, integration (RFC conformance, engine, gateway), interop (sipp, kamailio, openssl)
//   npm run test:load  load: 1,000-call runs, certificate swap under load, hostile traffic
//   npm run test:sanity  sanity: the third-party peers against each other, no product code
// Every tier but unit needs the peers (sipp, kamailio with its TLS module, openssl): scripts/ensure-peers.sh
// installs them as root, and otherwise stops the run naming what is missing. A missing peer is never a skip.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const KNOWN = ['unit', 'integration', 'interop', 'load', 'sanity'];
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
// Unit tests include TLS cases built with the openssl CLI too: the peers are checked for every tier.
const peers = spawnSync('bash', ['scripts/ensure-peers.sh'], { stdio: 'inherit' });
if (peers.status !== 0) process.exit(peers.status ?? 1);
// One file at a time by default. Two at a time (TEST_CONCURRENCY=2) takes npm test from about 250 s to about 150 s
// on 2 cores, but sipp binds the three ports above its media port, which another file's sockets can hold by then.
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
// The load tier holds thousands of sockets at once: its runner gets an open-files limit of 65,536 where the hard
// limit allows (prlimit, util-linux), whatever the shell's soft limit is.
const wrap = chosen.includes('load') ? raiseOpenFiles(65_536) : [];
const started = Date.now();
const [cmd, ...args] = [...wrap, process.execPath,
  '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
const res = spawnSync(
  cmd,
  args,
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } },
);
console.error(`test/{${chosen.join(',')}}: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
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
