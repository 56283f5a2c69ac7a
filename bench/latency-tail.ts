/**
 * The tail of INVITE→200 at one fixed rate, for a gateway in service: `npm start`'s process (or --node-args) with
 * the policy pipeline, WARM unmeasured calls at RATE first, then CALLS measured, sipp's times read from a precise
 * clock (bench/sipp-clock.ts). Prints the percentiles, the gateway's CPU per measured call and its resident memory
 * at the end, and the quarter-seconds that held calls slower than --slow ms: slow calls that come in bursts point
 * at a pause of a thread (a collection), slow calls spread evenly at queueing.
 *
 *   node --import tsx bench/latency-tail.ts --rate 675 --calls 2700 --warm 2000
 *   node --import tsx bench/latency-tail.ts --rate 675 --calls 5400 --warm 25000     past the 32 s transaction waits
 *   node --import tsx bench/latency-tail.ts ... --node-args "--v8-pool-size=1"       other node options for the gateway
 *   node --import tsx bench/latency-tail.ts ... --direct                              sipp to sipp, the floor
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scenarioDir, startSipp } from '../test/support/sipp.js';
import { sippClockEnv, sippClockNote } from './sipp-clock.js';
import { direct, policyGateway, sippBuffers } from './sipp-targets.js';
import { cpuSeconds } from './proc-cpu.js';

const { values: o } = parseArgs({
  options: {
    rate: { type: 'string', default: '675' }, calls: { type: 'string', default: '2700' }, warm: { type: 'string', default: '2000' },
    slow: { type: 'string', default: '10' }, direct: { type: 'boolean', default: false },
  },
  // --node-args "<options>" is read by bench/sipp-targets.ts, and its value starts with a dash.
  strict: false,
});
const rate = Number(o.rate);
const calls = Number(o.calls);
const warm = Number(o.warm);
const slowMs = Number(o.slow);
if (![rate, calls, slowMs].every((n) => n > 0) || !(warm >= 0)) throw new Error('--rate, --calls and --slow take a positive number, --warm a number');

const t = await (o.direct ? direct : policyGateway).start();
const gwPid = t.pids.gateway;
const cpuMs = (): number => (gwPid === undefined ? 0 : (cpuSeconds(gwPid) ?? 0) * 1000);
const dir = mkdtempSync(join(tmpdir(), 'tg-tail-'));
let rows: Array<[number, number]> = [];
let cpuPerCall = NaN;
let rssMiB = NaN;
try {
  if (warm > 0) {
    await (await startSipp({ scenario: { file: 'uac-call.xml' }, remote: t.remote, calls: warm, rate, timeoutSec: Math.ceil(warm / rate) + 15, extraArgs: sippBuffers })).exited;
  }
  const cpu0 = cpuMs();
  // sipp by hand rather than startSipp: the -trace_rtt rows keep their time, which tells bursts from spread.
  const uac = spawn('sipp', ['-sf', join(scenarioDir, 'uac-call.xml'), '-i', '127.0.0.1', '-t', 'u1', '-m', String(calls), '-r', String(rate),
    '-rp', '1000', '-timeout', `${Math.ceil(calls / rate) + 15}s`, '-timeout_error', '-nostdin', '-trace_rtt', '-rtt_freq', '1', ...sippBuffers, t.remote],
  { cwd: dir, stdio: 'ignore', env: { ...process.env, ...sippClockEnv() } });
  await new Promise((r) => uac.once('exit', r));
  if (gwPid !== undefined) {
    cpuPerCall = (cpuMs() - cpu0) / calls;
    rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gwPid}/status`, 'utf8'))?.[1]) / 1024;
  }
  for (const f of readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [at, ms] = line.split(';');
      if (/^\d/.test(at ?? '')) rows.push([Number(at), Number(ms)]);
    }
  }
} finally {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
}

rows = rows.sort((a, b) => a[0] - b[0]);
const sorted = rows.map((r) => r[1]).sort((a, b) => a - b);
const q = (p: number): string => (sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN).toFixed(1);
console.log(`${o.direct ? 'sipp → sipp' : 'gateway (policy pipeline)'} at ${rate}/s after ${warm} unmeasured calls: ${sorted.length}/${calls} measured; ` +
  `INVITE→200 p50 ${q(50)}, p90 ${q(90)}, p99 ${q(99)}, p99.9 ${q(99.9)}, max ${q(100)} ms` +
  (gwPid === undefined ? '' : `; gateway ${cpuPerCall.toFixed(3)} ms CPU a call, ${rssMiB.toFixed(0)} MiB resident at the end`));
const windows = new Map<number, { n: number; slow: number; max: number }>();
for (const [at, ms] of rows) {
  const k = Math.floor((at - rows[0]![0]) / 250);
  const w = windows.get(k) ?? { n: 0, slow: 0, max: 0 };
  w.n++;
  if (ms > slowMs) w.slow++;
  w.max = Math.max(w.max, ms);
  windows.set(k, w);
}
for (const [k, w] of windows) if (w.slow > 0) console.log(`  ${(k / 4).toFixed(2)} s: ${w.slow} of ${w.n} calls over ${slowMs} ms (max ${w.max.toFixed(1)})`);
console.log(sippClockNote());
