/**
 * Memory per concurrent call: `npm start`'s process (dist/, built first) holds N long calls (sipp UAC → gateway →
 * sipp UAS, UDP, each call paused for minutes after its ACK) and the process's RSS and both threads' V8 heaps are
 * read before the calls and once every call is up, after a full collection of each thread's heap is given the
 * chance to run (the gateway's idle release). Prints the growth per call.
 *
 *   node --import tsx bench/memory-per-call.ts                 10,000 calls at 500/s
 *   node --import tsx bench/memory-per-call.ts --calls 2000 --rate 400
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startSipp, startSippUas } from '../test/support/sipp.js';
import { adminStats, adminUp, udpCallProfiles } from '../test/support/udp-call-rig.js';
import { startNodeArgs } from '../test/support/trunkgate-process.js';

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const calls = Number(opt('calls') ?? 10_000);
const rate = Number(opt('rate') ?? 500);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

interface Stats {
  engine: { heap?: { used: number; total: number } };
  b2bua: { active: number; connected: number };
  process: { rss: number; heapUsed: number; heapTotal: number };
}

execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, transport: 'u1', extraArgs: ['-buff_size', String(8 << 20)] });
const profiles = await udpCallProfiles(uas.port, `maxDialogs: ${Math.max(20_000, calls * 2 + 100)}`);
const { sipPort, adminPort } = profiles;
const gw = spawn(process.execPath, [...startNodeArgs, 'dist/main.js', 'start', '--profiles', profiles.dir], {
  stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TRUNKGATE_LOG_LEVEL: 'warn' },
});
const stats = (): Promise<Stats> => adminStats<Stats>(adminPort);
let uac: Awaited<ReturnType<typeof startSipp>> | undefined;
try {
  if (!(await adminUp(adminPort))) throw new Error('the gateway did not come up');
  // Quiet for 12 s: the gateway's idle release (10 s) collects what start-up left.
  await sleep(12_000);
  const idle = await stats();
  const idleRss = rss(gw.pid!);
  uac = await startSipp({
    scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, transport: 'u1', service: '3000',
    calls, rate, limit: calls, pauseMs: 600_000, timeoutSec: 900, extraArgs: ['-buff_size', String(8 << 20)],
  });
  let s = await stats();
  for (let i = 0; i < 600 && s.b2bua.active < calls; i++) {
    await sleep(500);
    s = await stats();
  }
  console.error(`${s.b2bua.active} calls up; waiting 15 s for the idle release`);
  await sleep(15_000);
  const held = await stats();
  const heldRss = rss(gw.pid!);
  const n = held.b2bua.active;
  const engineHeap = (held.engine.heap?.used ?? 0) - (idle.engine.heap?.used ?? 0);
  const appHeap = held.process.heapUsed - idle.process.heapUsed;
  console.log(`| calls held | RSS idle → held (MiB) | RSS per call | engine heap per call | b2bua heap per call |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  console.log(`| ${n} | ${mib(idleRss)} → ${mib(heldRss)} | ${((heldRss - idleRss) / n / 1024).toFixed(1)} KiB | ${(engineHeap / n / 1024).toFixed(1)} KiB | ${(appHeap / n / 1024).toFixed(1)} KiB |`);
} finally {
  uac?.child.kill('SIGKILL');
  gw.kill('SIGKILL');
  await uas.stop();
  profiles.remove();
}
