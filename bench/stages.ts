/**
 * Where a call's time goes inside the gateway: `npm start`'s process (dist/, built first) on a profiles dir with one
 * dial peer to a sipp UAS, sipp UAC calls at fixed rates, UDP on both legs. For each rate it prints the engine
 * thread's stage histograms for that step alone (the difference of two /stats readings): parse, ingress (parsed →
 * handed to the app), app (handed → the app's first answer), egress (an app command → its message on the socket),
 * trying (INVITE in hand → 100 Trying sent); each thread's busy share and garbage collection; the process's CPU per
 * call; and sipp's INVITE→200.
 *
 *   node --import tsx bench/stages.ts                       250/s and 575/s, 10 s each
 *   node --import tsx bench/stages.ts --rates 100,500 --seconds 5
 */
import { execFileSync, spawn } from 'node:child_process';
import { quantileMs, type StageSummary } from '../src/engine/core/stage-times.js';
import type { ThreadLoadSnapshot } from '../src/common/thread-load.js';
import { runSipp, startSippUas } from '../test/support/sipp.js';
import { adminStats, adminUp, udpCallProfiles } from '../test/support/udp-call-rig.js';
import { cpuSeconds } from './proc-cpu.js';
import { startNodeArgs } from '../test/support/trunkgate-process.js';
import { sippClockEnv, sippClockNote } from './sipp-clock.js';

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const rates = (opt('rates') ?? '250,575').split(',').map(Number);
const seconds = Number(opt('seconds') ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 'u1', extraArgs: ['-buff_size', String(8 << 20)] });
const profiles = await udpCallProfiles(uas.port);
const { sipPort, adminPort } = profiles;
const gw = spawn(process.execPath, [...startNodeArgs, 'dist/main.js', 'start', '--profiles', profiles.dir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TRUNKGATE_LOG_LEVEL: 'warn' } });
interface Reading { engine: { stages: StageSummary; thread: ThreadLoadSnapshot }; appThread: ThreadLoadSnapshot }
const stats = (): Promise<Reading> => adminStats<Reading>(adminPort);
/** A thread's busy share and GC time a second over the window between two readings. */
const load = (a: ThreadLoadSnapshot, b: ThreadLoadSnapshot): string => {
  const busy = b.busyMs - a.busyMs;
  const wall = busy + b.idleMs - a.idleMs;
  return `${Math.round((100 * busy) / Math.max(1, wall))}% / ${((1000 * (b.gc.ms - a.gc.ms)) / Math.max(1, wall)).toFixed(1)}`;
};
try {
  if (!(await adminUp(adminPort))) throw new Error('the gateway did not come up');
  const rows: string[] = [];
  for (const rate of rates) {
    const before = await stats();
    const cpu0 = cpuSeconds(gw.pid!) ?? 0;
    const run = await runSipp({
      scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, transport: 'u1', service: '3000',
      calls: rate * seconds, rate, timeoutSec: seconds + 60, traceRtt: true, extraArgs: ['-buff_size', String(8 << 20)], env: sippClockEnv(),
    });
    await sleep(500);
    const after = await stats();
    const cpu = ((cpuSeconds(gw.pid!) ?? 0) - cpu0) * 1000 / Math.max(1, run.stats.successful);
    const cells = (['parse', 'ingress', 'app', 'egress', 'trying'] as const).map((s) => {
      const window = after.engine.stages.stages[s].buckets.map((n, i) => n - (before.engine.stages.stages[s].buckets[i] ?? 0));
      return `${quantileMs(window, 0.5).toFixed(3)} / ${quantileMs(window, 0.99).toFixed(2)}`;
    });
    rows.push(`| ${rate} | ${run.stats.successful}/${run.stats.failed} | ${cells.join(' | ')} | ${load(before.engine.thread, after.engine.thread)} | ${load(before.appThread, after.appThread)} | ${cpu.toFixed(2)} | ${pct(run.rttMs, 50).toFixed(1)} / ${pct(run.rttMs, 99).toFixed(1)} |`);
    console.error(`${rate}/s done`);
  }
  console.log('| calls/s | ok/failed | parse p50/p99 (ms) | ingress | app | egress | trying | engine thread busy / GC ms/s | b2bua thread busy / GC ms/s | CPU ms/call (process) | INVITE→200 p50/p99 (ms, sipp) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`\n${sippClockNote()}`);
} finally {
  gw.kill('SIGTERM');
  await uas.stop();
  profiles.remove();
}
